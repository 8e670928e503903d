"""Store.rotate_secret: the stored secret is re-encrypted once, and never over a new one."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.config import EntraInput
from core.errors import SyncError
from core.store import Store
from core.store.secrets import SecretCipher

TENANT = "0f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5"
CLIENT = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
OLD, NEW = Fernet.generate_key(), Fernet.generate_key()


def entra(secret: str) -> EntraInput:
    return EntraInput(TENANT, CLIENT, secret, 7)


def open_store(path: Path, *keys: bytes) -> Store:
    return Store(f"sqlite:///{path / 'sync.db'}", SecretCipher(list(keys)))


def test_rotation_re_encrypts_with_the_first_key(tmp_path: Path) -> None:
    old = open_store(tmp_path, OLD)
    old.save_connection(entra("first"), "alice")
    old.close()
    both = open_store(tmp_path, NEW, OLD)
    assert both.rotate_secret("alice") is True
    both.close()
    new_only = open_store(tmp_path, NEW)
    assert new_only.client_secret() == "first"
    new_only.close()


def test_nothing_stored_is_nothing_to_rotate(tmp_path: Path) -> None:
    store = open_store(tmp_path, NEW, OLD)
    assert store.rotate_secret("alice") is False
    assert store.last_audit("rotate-key") is None


class RacingCipher(SecretCipher):
    """Lets another writer store a new secret between the read and the update."""

    store: Store

    def rotate(self, token: str) -> str:
        rotated = super().rotate(token)
        self.store.save_connection(entra("entered meanwhile"), "bob")
        return rotated


def test_a_secret_entered_meanwhile_is_never_overwritten(tmp_path: Path) -> None:
    cipher = RacingCipher([NEW, OLD])
    store = Store(f"sqlite:///{tmp_path / 'sync.db'}", cipher)
    cipher.store = store
    store.save_connection(entra("first"), "alice")
    with pytest.raises(SyncError, match="rotate-key"):
        store.rotate_secret("alice")
    assert store.client_secret() == "entered meanwhile"
    assert store.last_audit("rotate-key") is None
