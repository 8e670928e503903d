"""``entra-sync rotate-key``: the stored secret moves to the new key, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.cli.main import open_service
from core.sandbox import SANDBOX_CLIENT_SECRET

from .conftest import Runner, configure_connection

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
KEY = "ENTRA_SYNC_SECRET_KEY"


def configure(cli: Runner) -> None:
    result = configure_connection(cli)
    assert result.code == 0, result.err


def stored_secret() -> str:
    service = open_service(None)
    try:
        return service.store.client_secret()
    finally:
        service.close()


def test_rotate_moves_the_secret_to_the_new_key(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY, OLD)
    configure(cli)
    assert cli("schema").code == 0
    monkeypatch.setenv(KEY, f"{NEW},{OLD}")
    result = cli("rotate-key")
    assert result.code == 0, result.err
    assert "Re-encrypted" in result.out
    monkeypatch.setenv(KEY, NEW)  # the old key is gone: the secret still reads
    assert stored_secret() == SANDBOX_CLIENT_SECRET
    assert cli("preview").code == 0
    monkeypatch.setenv(KEY, OLD)  # and the old key alone no longer does
    refused = cli("preview")
    assert refused.code == 2
    assert KEY in refused.err
    assert "does not decrypt" in refused.err


def test_rotate_is_audited(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY, OLD)
    configure(cli)
    monkeypatch.setenv(KEY, f"{NEW},{OLD}")
    assert cli("rotate-key").code == 0
    service = open_service(None)
    try:
        event = service.store.last_audit("rotate-key")
    finally:
        service.close()
    assert event is not None
    assert event.actor.startswith("cli:")


def test_rotate_moves_a_key_file_secret_into_the_environment(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    """From a key file to ENTRA_SYNC_SECRET_KEY: NEW,<the file's key>, rotate, NEW alone."""
    configure(cli)  # no variable: a secret.key file beside the database
    file_key = (workdir / "secret.key").read_text().strip()
    monkeypatch.setenv(KEY, f"{NEW},{file_key}")
    assert cli("rotate-key").code == 0
    monkeypatch.setenv(KEY, NEW)
    assert stored_secret() == SANDBOX_CLIENT_SECRET


def test_rotate_needs_the_new_and_the_old_key(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY, OLD)
    configure(cli)
    result = cli("rotate-key")
    assert result.code == 2
    assert KEY in result.err
    assert "NEW,OLD" in result.err
    assert OLD not in result.out + result.err


def test_rotate_without_the_current_key_changes_nothing(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY, OLD)
    configure(cli)
    other = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY, f"{NEW},{other}")
    result = cli("rotate-key")
    assert result.code == 2
    assert KEY in result.err
    assert "does not decrypt" in result.err
    assert NEW not in result.err and other not in result.err
    monkeypatch.setenv(KEY, OLD)
    assert stored_secret() == SANDBOX_CLIENT_SECRET


def test_rotate_with_nothing_stored_says_so(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY, f"{NEW},{OLD}")
    result = cli("rotate-key")
    assert result.code == 0, result.err
    assert "nothing to re-encrypt" in result.out
