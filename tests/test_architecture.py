"""The layout keeps its promises: commands start without Slack; a click walks few modules.

The package layering itself is checked by import-linter (``make lint``), from the
contracts in pyproject.toml.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` output (``... | cumulative | name``)."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize("command", ["status", "history", "preview --help"])
def test_commands_other_than_serve_never_import_slack(tmp_path: Path, command: str) -> None:
    """Only `entra-sync serve` pays for Slack (and only demo and sandbox for the sandbox)."""
    env = {
        **os.environ,
        "ENTRA_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'sync.db'}",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "core.cli", *command.split()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = _imported_modules(result.stderr)
    assert "core.cli.main" in modules  # the parse found the CLI itself
    heavy = {m for m in modules if m.split(".")[0] in {"slack_bolt", "slack_sdk", "bot"}}
    heavy |= {m for m in modules if m.startswith("core.sandbox")}
    assert heavy == set()
