"""Encryption of the stored Entra client secret.

The client secret lives in the database, so the database alone must not reveal it:
it is Fernet-encrypted with a key kept outside the database (the environment, or a
``secret.key`` file readable only by the owner). Several keys may be configured for
rotation: the first encrypts, every one of them decrypts.

The key file is created when the first secret is encrypted, never earlier: a missing
file with a secret already stored means the key was lost (deleted, or the database
moved without it), and a new key could never read that secret. Reading the stored
secret then fails naming the file and how to recover, and nothing is created;
replacing the secret needs ``entra-sync configure --reset-secret`` (see
:meth:`core.store.Store.save_connection`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.config import (
    ENV_SECRET_KEY,
    RULE_KEY_IN_CONTAINER,
    RULE_KEY_SHARED_DATABASE,
    Settings,
)
from core.errors import ConfigError, FieldProblem

KEY_FILE_NAME = "secret.key"
FALLBACK_KEY_DIR = Path("data")
RESET_HINT = "or enter the secret again with `entra-sync configure --reset-secret`"
RULE_KEY = "must be one or more comma-separated Fernet keys (32 url-safe base64-encoded bytes)"
RULE_KEY_FILE = f"must hold a Fernet key; restore the file or set {ENV_SECRET_KEY}"
RULE_UNDECRYPTABLE = (
    "does not decrypt the stored client secret (it was encrypted with another key); restore "
    f"the previous key (list it after the new one in {ENV_SECRET_KEY}), {RESET_HINT}"
)
RULE_KEY_LOST = (
    "is missing, and the stored client secret was encrypted with it; restore the file, "
    f"or set {ENV_SECRET_KEY} to that key, {RESET_HINT}"
)


class Cipher(Protocol):
    """What the store needs: encrypt a new secret, decrypt or re-encrypt a stored one."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...

    def rotate(self, token: str) -> str: ...


class SecretCipher:
    """Encrypts with the first key and decrypts with any, so keys can be rotated.

    ``source`` names where the keys came from (a variable, a file) in the error a
    wrong key raises.
    """

    def __init__(self, keys: Sequence[bytes], *, source: str = ENV_SECRET_KEY) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is needed")
        try:
            fernets = [Fernet(key) for key in keys]
        except ValueError:
            # Chain nothing: the underlying error must not carry key material along.
            raise ValueError("a Fernet key must be 32 url-safe base64-encoded bytes") from None
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)
        self._source = source

    def __repr__(self) -> str:
        return f"SecretCipher(keys={self._key_count})"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeEncodeError):
            raise self._undecryptable() from None

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the first key (after adding a new key in front)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise self._undecryptable() from None

    @property
    def key_count(self) -> int:
        """How many keys were configured: rotation needs a new one and an old one."""
        return self._key_count

    def _undecryptable(self) -> ConfigError:
        return ConfigError([FieldProblem(self._source, RULE_UNDECRYPTABLE)])


class KeyFileCipher:
    """The cipher of a ``secret.key`` file: read when present, created on first encryption.

    Decrypting without the file never creates one: it raises :class:`ConfigError`
    naming the file and how to recover.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cipher: SecretCipher | None = None
        if path.exists():  # a corrupt or unreadable file is reported at once
            self._cipher = _file_cipher(path, _read_key_file(path))

    def __repr__(self) -> str:
        return f"KeyFileCipher({str(self.path)!r})"

    @property
    def has_key(self) -> bool:
        """True when the key file exists (or appeared since, from another process)."""
        return self._loaded() is not None

    def encrypt(self, plaintext: str) -> str:
        cipher = self._loaded()
        if cipher is None:
            cipher = self._cipher = _file_cipher(self.path, _create_key_file(self.path))
        return cipher.encrypt(plaintext)

    def decrypt(self, token: str) -> str:
        return self._required().decrypt(token)

    def rotate(self, token: str) -> str:
        return self._required().rotate(token)

    def _loaded(self) -> SecretCipher | None:
        if self._cipher is None and self.path.exists():
            self._cipher = _file_cipher(self.path, _read_key_file(self.path))
        return self._cipher

    def _required(self) -> SecretCipher:
        cipher = self._loaded()
        if cipher is None:
            raise ConfigError([FieldProblem(_key_file_field(self.path), RULE_KEY_LOST)])
        return cipher


def load_cipher(settings: Settings) -> SecretCipher | KeyFileCipher:
    """The cipher from ``ENTRA_SYNC_SECRET_KEY``, else from the ``secret.key`` file.

    The file is read if it exists and created only when a secret is first encrypted.
    It may hold the key only for a local SQLite database outside a container
    (:attr:`Settings.key_file_allowed`); :func:`core.config.load_settings` refuses the
    rest already, and this refuses settings built some other way.
    """
    if settings.secret_key:
        return _cipher_from_env(settings.secret_key)
    if not settings.key_file_allowed:
        rule = RULE_KEY_IN_CONTAINER if settings.in_container else RULE_KEY_SHARED_DATABASE
        raise ConfigError([FieldProblem(ENV_SECRET_KEY, rule)])
    return KeyFileCipher(key_file_path(settings.database_url))


def key_file_path(database_url: str) -> Path:
    """``secret.key`` beside a SQLite database file; ``./data/secret.key`` otherwise."""
    database = _sqlite_file(database_url)
    directory = database.parent if database is not None else FALLBACK_KEY_DIR
    return directory / KEY_FILE_NAME


def _sqlite_file(database_url: str) -> Path | None:
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        return None
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # SQLite URI filenames may be in-memory; do not guess
        return None
    return Path(database)


def _cipher_from_env(value: str) -> SecretCipher:
    try:
        keys = [part.strip().encode() for part in value.split(",") if part.strip()]
        return SecretCipher(keys, source=ENV_SECRET_KEY)
    except (ValueError, UnicodeEncodeError):
        raise ConfigError([FieldProblem(ENV_SECRET_KEY, RULE_KEY)]) from None


def _file_cipher(path: Path, key: bytes) -> SecretCipher:
    field = _key_file_field(path)
    try:
        return SecretCipher([key], source=field)
    except ValueError:
        raise ConfigError([FieldProblem(field, RULE_KEY_FILE)]) from None


def _key_file_field(path: Path) -> str:
    return f"key file {path}"


def _read_key_file(path: Path) -> bytes:
    return path.read_bytes().strip()


def _create_key_file(path: Path) -> bytes:
    """Write a new key readable only by the owner, atomically and at most once.

    The key is written to a private temporary file (mode 0600 from the start) and
    hard-linked into place, so a second process starting at the same moment either
    wins or reads the complete key the first one wrote; it never sees a half-written
    file.
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
