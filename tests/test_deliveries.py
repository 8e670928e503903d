"""Slack delivery keys in the store: a key is claimed once per quarter hour, across processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session, func, select

from core.store import Store
from core.store.deliveries import DELIVERY_TTL
from core.store.secrets import SecretCipher
from core.store.tables import SlackDeliveryRow
from tests.clock import HandClock


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def cipher() -> SecretCipher:
    return SecretCipher([Fernet.generate_key()])


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sync.db'}"


@pytest.fixture
def store(url: str, cipher: SecretCipher, clock: HandClock) -> Iterator[Store]:
    store = Store(url, cipher, clock=clock)
    yield store
    store.close()


def stored_keys(store: Store) -> int:
    with Session(store.engine) as session:
        return int(session.exec(select(func.count()).select_from(SlackDeliveryRow)).one())


def test_a_key_is_first_once(store: Store) -> None:
    assert store.first_delivery("trigger:1") is True
    assert store.first_delivery("trigger:1") is False
    assert store.first_delivery("trigger:2") is True


def test_a_key_is_remembered_for_the_ttl_then_forgotten(store: Store, clock: HandClock) -> None:
    """Within 15 minutes a repeat is refused; after that the key is gone (bounded table)."""
    assert store.first_delivery("trigger:1")
    clock.now += DELIVERY_TTL - timedelta(seconds=1)
    assert not store.first_delivery("trigger:1")
    clock.now += timedelta(seconds=2)
    assert store.first_delivery("trigger:other")  # each claim prunes expired keys
    assert stored_keys(store) == 1
    assert store.first_delivery("trigger:1")


def test_the_ttl_outlasts_the_signature_window() -> None:
    """A replay passes the signature check for 5 minutes; the key must live longer."""
    assert timedelta(minutes=5) * 2 <= DELIVERY_TTL


def test_two_processes_claiming_one_key_get_one_first(
    url: str, cipher: SecretCipher, clock: HandClock
) -> None:
    """Two stores on one database (two bot replicas) race for a retried request's key."""
    stores = [Store(url, cipher, clock=clock) for _ in range(2)]
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def claim(store: Store) -> None:
        barrier.wait()
        results.append(store.first_delivery("trigger:raced"))

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert sorted(results) == [False, True]


def test_a_very_long_key_is_cut_to_the_column(store: Store) -> None:
    key = "trigger:" + "x" * 400
    assert store.first_delivery(key)
    assert not store.first_delivery(key)
