"""OutcomeRecorder: a run's outcomes reach the store in small batches, from many threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.runs.active import OutcomeRecorder
from core.store import RunKind, Store
from core.store.secrets import SecretCipher
from core.sync import ChangeKind, ChangeOutcome, OutcomeStatus


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'sync.db'}", SecretCipher([Fernet.generate_key()]))
    yield store
    store.close()


@pytest.fixture
def run_id(store: Store) -> int:
    return store.start_run(RunKind.MANUAL, "test")


def outcome(number: int) -> ChangeOutcome:
    return ChangeOutcome(
        ChangeKind.CREATE, f"u{number}", f"User {number}", OutcomeStatus.OK, f"ENTRA-{number}"
    )


def test_a_full_batch_is_stored_at_once(store: Store, run_id: int) -> None:
    record = OutcomeRecorder(store, run_id, batch=3, clock=Clock())
    record(outcome(1))
    record(outcome(2))
    assert store.outcomes(run_id) == []  # two outcomes, no round trip yet
    record(outcome(3))
    assert store.outcomes(run_id) == [outcome(1), outcome(2), outcome(3)]
    record(outcome(4))
    assert len(store.outcomes(run_id)) == 3
    record.flush()
    assert store.outcomes(run_id) == [outcome(n) for n in range(1, 5)]


def test_an_outcome_waits_no_longer_than_the_delay(store: Store, run_id: int) -> None:
    """Slow writes: the next outcome to arrive after the delay takes the waiting ones along."""
    clock = Clock()
    record = OutcomeRecorder(store, run_id, batch=100, max_delay=1.0, clock=clock)
    record(outcome(1))
    clock.now += 0.5
    record(outcome(2))
    assert store.outcomes(run_id) == []
    clock.now += 0.5
    record(outcome(3))
    assert store.outcomes(run_id) == [outcome(1), outcome(2), outcome(3)]


def test_leaving_the_block_stores_the_rest_even_when_it_raises(store: Store, run_id: int) -> None:
    class Killed(BaseException):
        pass

    def apply_then_die() -> None:
        with OutcomeRecorder(store, run_id, batch=10) as record:
            record(outcome(1))
            raise Killed

    with pytest.raises(Killed):
        apply_then_die()
    assert store.outcomes(run_id) == [outcome(1)]


def test_a_failed_store_keeps_the_outcomes_for_the_next_attempt(
    store: Store, run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = OutcomeRecorder(store, run_id, batch=1)
    real = store.record_outcomes
    failing = True

    def flaky(run: int, outcomes: list[ChangeOutcome]) -> None:
        if failing:
            raise OSError("disk I/O error")
        real(run, outcomes)

    monkeypatch.setattr(store, "record_outcomes", flaky)
    with pytest.raises(OSError, match="disk I/O"):
        record(outcome(1))
    failing = False
    record(outcome(2))
    assert store.outcomes(run_id) == [outcome(1), outcome(2)]


def test_many_threads_record_each_outcome_exactly_once(store: Store, run_id: int) -> None:
    record = OutcomeRecorder(store, run_id, batch=7)

    def worker(number: int) -> None:
        for n in range(50):
            record(outcome(number * 100 + n))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    with record:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    stored = store.outcomes(run_id)
    assert len(stored) == 400
    assert sorted(o.entra_user_id for o in stored) == sorted(
        f"u{t * 100 + n}" for t in range(8) for n in range(50)
    )
