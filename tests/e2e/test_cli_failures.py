"""Failures on the command line beyond the bad-input table: recovery, --debug, file modes.

The table of bad inputs itself is ``tests/test_bad_input.py``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli.main import open_service
from core.sandbox import SANDBOX_CLIENT_SECRET

from .conftest import CONFIGURE, Runner


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common umask, under which files are created 0644 unless we say otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_key_file_are_created_private(configured: Runner, workdir: Path) -> None:
    assert mode(workdir / "sync.db") == 0o600
    assert mode(workdir / "secret.key") == 0o600


def test_status_before_any_secret_creates_no_key(cli: Runner, workdir: Path) -> None:
    assert cli("status").code == 0
    assert not (workdir / "secret.key").exists()


def test_keep_secret_with_its_key_still_keeps_it(with_schema: Runner) -> None:
    result = with_schema(*CONFIGURE[:-1], "14", "--keep-secret")
    assert result.code == 0, result.err
    assert "every 14 days" in result.out
    assert with_schema("preview").code == 0  # the kept secret still signs in


def test_a_lost_key_is_refused_then_recovered_with_reset_secret(
    with_schema: Runner, workdir: Path
) -> None:
    """No new key while the old secret is stored; --reset-secret replaces both, audited."""
    key = workdir / "secret.key"
    key.unlink()
    for refused in (with_schema("preview"), with_schema(*CONFIGURE, stdin="another-secret\n")):
        assert refused.code == 2
        assert "secret.key" in refused.err
        assert "--reset-secret" in refused.err
        assert not key.exists()

    reset = with_schema(*CONFIGURE, "--reset-secret", stdin=SANDBOX_CLIENT_SECRET + "\n")
    assert reset.code == 0, reset.err
    assert mode(key) == 0o600
    assert with_schema("preview").code == 0  # the new secret, under the new key, signs in
    service = open_service(None)
    try:
        details = [event.detail for event in service.store.audit_events()]
    finally:
        service.close()
    assert any("secret reset" in detail for detail in details)


def test_reset_secret_needs_a_secret(configured: Runner, workdir: Path) -> None:
    (workdir / "secret.key").unlink()
    result = configured(*CONFIGURE, "--reset-secret", stdin="\n")
    assert result.code == 2
    assert "client_secret" in result.err
    assert not (workdir / "secret.key").exists()


def test_debug_prints_the_traceback_then_the_line(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTRA_SYNC_DATABASE_URL", "foo://db.example/sync")
    quiet = cli("status")
    loud = cli("--debug", "status")
    assert quiet.code == loud.code == 2
    assert "Traceback" not in quiet.err
    assert "Traceback" in loud.err
    assert loud.err.strip().splitlines()[-1] == quiet.err.strip()


def test_help_exits_zero(cli: Runner) -> None:
    result = cli("--help")
    assert result.code == 0
    assert "--debug" in result.out
