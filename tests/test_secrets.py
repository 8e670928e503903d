from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.config import Settings
from core.errors import ConfigError, SyncError
from core.store import load_cipher
from core.store.secrets import SecretCipher, key_file_path

SECRET = "client-secret-do-not-print"


def test_round_trip_and_ciphertext_hides_the_value() -> None:
    cipher = SecretCipher([Fernet.generate_key()])
    token = cipher.encrypt(SECRET)
    assert SECRET not in token
    assert cipher.decrypt(token) == SECRET


def test_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    old_token = SecretCipher([old]).encrypt(SECRET)
    rotated = SecretCipher([new, old])
    assert rotated.decrypt(old_token) == SECRET
    assert SecretCipher([new]).decrypt(rotated.encrypt(SECRET)) == SECRET
    assert SecretCipher([new]).decrypt(rotated.rotate(old_token)) == SECRET


def test_wrong_key_is_a_config_error_naming_the_key_without_the_token() -> None:
    token = SecretCipher([Fernet.generate_key()]).encrypt(SECRET)
    with pytest.raises(ConfigError, match="does not decrypt the stored client secret") as caught:
        SecretCipher([Fernet.generate_key()]).decrypt(token)
    assert [p.field for p in caught.value.problems] == ["ENTRA_SYNC_SECRET_KEY"]
    assert "--reset-secret" in str(caught.value)
    assert token not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_garbage_token_raises_sync_error() -> None:
    with pytest.raises(SyncError):
        SecretCipher([Fernet.generate_key()]).decrypt("not a token é")


def test_cipher_needs_a_valid_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SecretCipher([])
    with pytest.raises(ValueError, match="32 url-safe") as caught:
        SecretCipher([b"short-key-material"])
    assert "short-key-material" not in str(caught.value)


def test_repr_shows_no_key_material() -> None:
    key = Fernet.generate_key()
    assert key.decode() not in repr(SecretCipher([key]))


def test_keys_from_environment_comma_separated(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = SecretCipher([old]).encrypt(SECRET)
    database_url = f"sqlite:///{tmp_path / 'db' / 'sync.db'}"
    settings = Settings(database_url=database_url, secret_key=f" {new.decode()} , {old.decode()},")
    assert load_cipher(settings).decrypt(token) == SECRET
    assert not (tmp_path / "db" / "secret.key").exists()


def test_malformed_environment_key_names_the_variable_not_the_value() -> None:
    bad = "this-is-not-a-fernet-key"
    good = Fernet.generate_key().decode()
    with pytest.raises(ConfigError) as caught:
        load_cipher(Settings(secret_key=f"{good},{bad}"))
    assert [p.field for p in caught.value.problems] == ["ENTRA_SYNC_SECRET_KEY"]
    assert bad not in str(caught.value)
    assert good not in str(caught.value)


def test_key_file_created_once_beside_the_database(tmp_path: Path) -> None:
    """Created by the first encryption (not by loading), readable only by the owner."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'nested' / 'sync.db'}")
    first = load_cipher(settings)
    key_file = tmp_path / "nested" / "secret.key"
    assert not key_file.exists()
    token = first.encrypt(SECRET)
    assert key_file.is_file()
    if sys.platform != "win32":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    contents = key_file.read_bytes()
    assert load_cipher(settings).decrypt(token) == SECRET
    assert key_file.read_bytes() == contents
    assert [p.name for p in key_file.parent.iterdir()] == ["secret.key"]


@pytest.mark.parametrize("database_url", ["sqlite://", "sqlite:///:memory:"])
def test_key_file_falls_back_to_data_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert key_file_path(database_url) == Path("data") / "secret.key"
    load_cipher(Settings(database_url=database_url)).encrypt(SECRET)
    assert (tmp_path / "data" / "secret.key").is_file()


def test_relative_sqlite_path_keeps_the_key_beside_it() -> None:
    assert key_file_path("sqlite:///data/entra-sync.db") == Path("data") / "secret.key"


def test_corrupt_key_file_is_a_config_error(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text("corrupted")
    os.chmod(key_file, 0o600)
    with pytest.raises(ConfigError) as caught:
        load_cipher(Settings(database_url=f"sqlite:///{tmp_path / 'sync.db'}"))
    assert "corrupted" not in str(caught.value)


def test_a_lost_key_file_is_never_replaced_by_reading(tmp_path: Path) -> None:
    """Decrypting without the key file names it and how to recover, and creates nothing."""
    cipher = load_cipher(Settings(database_url=f"sqlite:///{tmp_path / 'sync.db'}"))
    with pytest.raises(ConfigError, match="is missing") as caught:
        cipher.decrypt(SecretCipher([Fernet.generate_key()]).encrypt(SECRET))
    assert [p.field for p in caught.value.problems] == [f"key file {tmp_path / 'secret.key'}"]
    assert "ENTRA_SYNC_SECRET_KEY" in str(caught.value)
    assert "--reset-secret" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_written_by_another_process_meanwhile_is_used(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'sync.db'}")
    waiting = load_cipher(settings)
    token = load_cipher(settings).encrypt(SECRET)  # another process creates the file
    assert waiting.decrypt(token) == SECRET
    # ... and encrypts with that key, never a second one of its own.
    assert load_cipher(settings).decrypt(waiting.encrypt(SECRET)) == SECRET
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_an_undecodable_environment_key_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_cipher(Settings(secret_key="\udcff" + Fernet.generate_key().decode()))
    assert [p.field for p in caught.value.problems] == ["ENTRA_SYNC_SECRET_KEY"]


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (Settings(database_url="postgresql://sync@db.example/sync"), "not a local SQLite file"),
        (Settings(database_url="mysql://sync@db.example/sync"), "not a local SQLite file"),
        (Settings(in_container=True), "ENTRA_SYNC_IN_CONTAINER"),
    ],
)
def test_a_shared_database_or_a_container_needs_the_key_variable(
    settings: Settings, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key file is read or made for them: replicas would each make their own."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_cipher(settings)
    assert "ENTRA_SYNC_SECRET_KEY" in str(caught.value)
    assert reason in str(caught.value)
    assert not (tmp_path / "data").exists()


def test_a_shared_database_with_the_key_variable_is_fine() -> None:
    key = Fernet.generate_key().decode()
    settings = Settings(database_url="postgresql://sync@db.example/sync", secret_key=key)
    cipher = load_cipher(settings)
    assert cipher.decrypt(cipher.encrypt(SECRET)) == SECRET
