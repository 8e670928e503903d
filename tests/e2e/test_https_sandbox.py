"""The installed ``entra-sync`` command against the sandbox served over HTTPS on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.sandbox import Sandbox, SandboxServer
from core.sandbox.server import settings_env


def test_cli_over_https_against_sandbox_server(tmp_path: Path) -> None:
    """configure, schema, sync and preview in a child process, trusting the sandbox's CA."""
    with SandboxServer(
        Sandbox(seed=3, people=40, atlassian=20), cert_dir=tmp_path / "tls"
    ) as server:
        env = {**os.environ, **settings_env(server)}
        env["ENTRA_SYNC_DATABASE_URL"] = f"sqlite:///{tmp_path / 'sync.db'}"
        env["ENTRA_SYNC_ASSETS_RATE"] = "0"

        def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "core.cli", *args],
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                timeout=120,
                check=False,
            )

        configured = run(
            "configure",
            "--tenant-id",
            env["ENTRA_TENANT_ID"],
            "--client-id",
            env["ENTRA_CLIENT_ID"],
            "--cadence-days",
            "1",
            stdin=env["ENTRA_CLIENT_SECRET"] + "\n",
        )
        assert configured.returncode == 0, configured.stderr
        assert run("schema").returncode == 0
        synced = run("sync", "--yes")
        assert synced.returncode == 0, synced.stderr
        preview = run("preview", "--json")
        assert preview.returncode == 0, preview.stderr
        body = json.loads(preview.stdout)
        assert body["counts"]["creates"] == 0
        assert body["requests"]["login"] == 2  # OpenID configuration + one token per process
