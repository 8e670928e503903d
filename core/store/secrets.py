"""Encryption of the stored Entra client secret.

The client secret lives in the database, so the database alone must not reveal it:
it is Fernet-encrypted with a key kept outside the database (the environment, or a
``secret.key`` file readable only by the owner). Several keys may be configured for
rotation: the first encrypts, every one of them decrypts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.config import ENV_SECRET_KEY, Settings
from core.errors import ConfigError, FieldProblem, SyncError

KEY_FILE_NAME = "secret.key"
FALLBACK_KEY_DIR = Path("data")
RULE_KEY = "must be one or more comma-separated Fernet keys (32 url-safe base64-encoded bytes)"
RULE_KEY_FILE = f"must hold a Fernet key; restore the file or set {ENV_SECRET_KEY}"
UNDECRYPTABLE = (
    "stored secret cannot be decrypted with the configured key; restore the previous key "
    f"(list it after the new one in {ENV_SECRET_KEY}) or run configure again"
)


class SecretCipher:
    """Encrypts with the first key and decrypts with any, so keys can be rotated."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is needed")
        try:
            fernets = [Fernet(key) for key in keys]
        except ValueError:
            # Chain nothing: the underlying error must not carry key material along.
            raise ValueError("a Fernet key must be 32 url-safe base64-encoded bytes") from None
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)

    def __repr__(self) -> str:
        return f"SecretCipher(keys={self._key_count})"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeEncodeError):
            raise SyncError(UNDECRYPTABLE) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the first key (after adding a new key in front)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise SyncError(UNDECRYPTABLE) from None


def load_cipher(settings: Settings) -> SecretCipher:
    """The cipher from ``ENTRA_SYNC_SECRET_KEY``, else from (a new) ``secret.key`` file."""
    if settings.secret_key:
        return _cipher_from_env(settings.secret_key)
    path = key_file_path(settings.database_url)
    key = _read_key_file(path) if path.exists() else _create_key_file(path)
    try:
        return SecretCipher([key])
    except ValueError:
        raise ConfigError([FieldProblem(f"key file {path}", RULE_KEY_FILE)]) from None


def key_file_path(database_url: str) -> Path:
    """``secret.key`` beside a SQLite database file; ``./data/secret.key`` otherwise."""
    database = _sqlite_file(database_url)
    directory = database.parent if database is not None else FALLBACK_KEY_DIR
    return directory / KEY_FILE_NAME


def _sqlite_file(database_url: str) -> Path | None:
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # SQLite URI filenames may be in-memory; do not guess
        return None
    return Path(database)


def _cipher_from_env(value: str) -> SecretCipher:
    keys = [part.strip().encode() for part in value.split(",") if part.strip()]
    try:
        return SecretCipher(keys)
    except ValueError:
        raise ConfigError([FieldProblem(ENV_SECRET_KEY, RULE_KEY)]) from None


def _read_key_file(path: Path) -> bytes:
    return path.read_bytes().strip()


def _create_key_file(path: Path) -> bytes:
    """Write a new key readable only by the owner, atomically and at most once.

    The key is written to a private temporary file and hard-linked into place, so a
    second process starting at the same moment either wins or reads the complete key
    the first one wrote; it never sees a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key_file(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return key
