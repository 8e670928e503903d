"""``entra-sync demo`` tells the whole story and ends with nothing left to change."""

from __future__ import annotations

import pytest

from core.cli import main


def test_demo_tells_the_story_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    """Every step runs, the second sync applies the three changes, the last preview is empty."""
    assert main(["demo", "--people", "50", "--atlassian", "30"]) == 0
    out = capsys.readouterr().out
    for step in ("2. Create the schema", "4. Sync", "5. Meanwhile", "7. Sync", "9. Status"):
        assert f"== {step}" in out
    assert "Inactivations                       1" in out
    assert "0 changes: Assets matches the directory" in out
    assert "sandbox received" in out
    assert "sandbox-client-secret" not in out
