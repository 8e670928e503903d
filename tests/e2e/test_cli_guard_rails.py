"""The guard rails hold a dangerous plan on the command line too, and say how to pass."""

from __future__ import annotations

from core.cli.commands import EXIT_HELD
from core.cli.main import open_service
from core.sandbox import Sandbox

from .conftest import Runner
from .test_cli_flow import writes


def _active(sandbox: Sandbox) -> int:
    return sum(1 for e in sandbox.employees() if str(e["attributes"].get("Active")) == "true")


def _empty_the_directory(with_schema: Runner, sandbox: Sandbox) -> int:
    """A first sync, then a directory read that comes back empty; returns the active count."""
    assert with_schema("sync", "--yes").code == 0
    active = _active(sandbox)
    assert active > 0
    for user_id in list(sandbox.directory_users):
        sandbox.delete_user(user_id)
    sandbox.request_log.clear()
    return active


def test_sync_yes_holds_an_empty_directory_read(with_schema: Runner, sandbox: Sandbox) -> None:
    """Exit 3, the rule that held it and both ways past it; not one write."""
    active = _empty_the_directory(with_schema, sandbox)
    result = with_schema("sync", "--yes")
    assert result.code == EXIT_HELD == 3
    assert "Entra returned 0 users" in result.out
    assert "waits for an approver in Slack" in result.out
    assert "--allow-mass-change" in result.out
    assert writes(sandbox) == []
    assert _active(sandbox) == active
    service = open_service(None)
    try:
        (pending,) = service.pending_previews()
    finally:
        service.close()
    assert pending.held
    assert pending.hold_reasons[0].startswith("Entra returned 0 users")


def test_allow_mass_change_applies_and_the_audit_names_the_override(
    with_schema: Runner, sandbox: Sandbox
) -> None:
    """The operator's explicit override applies the held plan and is recorded."""
    _empty_the_directory(with_schema, sandbox)
    result = with_schema("sync", "--yes", "--allow-mass-change")
    assert result.code == 0, result.err
    assert "Guard rail overridden" in result.out
    assert _active(sandbox) == 0
    service = open_service(None)
    try:
        overrides = [e for e in service.store.audit_events() if e.action == "override"]
    finally:
        service.close()
    assert len(overrides) == 1
    assert overrides[0].actor.startswith("cli:")
    assert "Entra returned 0 users" in overrides[0].detail
