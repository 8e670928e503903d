"""A run's outcomes, stored while the apply is still writing.

The applier hands each outcome over as its change finishes, from its worker threads.
Writing each one to the database at once would be a round trip per write; waiting for
the end would lose the history of a run killed half-way. :class:`OutcomeRecorder`
keeps a few in memory and stores them together: when :data:`OUTCOME_BATCH` are
waiting, or when one arrives and the oldest has waited :data:`OUTCOME_MAX_DELAY`
seconds, and always when the apply ends, however it ends. A run stopped by an
exception (lost lease, Ctrl-C) loses nothing; a process killed outright loses at most
the outcomes of that last small batch, which the next run's read of Assets still sees.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from core.store import Store
from core.sync import ChangeOutcome

# About half a second of writes at Assets' 1,000 requests a minute.
OUTCOME_BATCH = 10
OUTCOME_MAX_DELAY = 1.0

log = logging.getLogger(__name__)


class OutcomeRecorder:
    """Stores the outcomes of one run in small batches; thread-safe.

    Use it as a context manager around the apply, and pass the instance as the
    applier's ``record`` callback. A failed store keeps the outcomes waiting for the
    next attempt; the last one, on leaving the block, raises unless the block is
    already raising (then it is logged, and the first error goes on).
    """

    def __init__(
        self,
        store: Store,
        run_id: int,
        *,
        batch: int = OUTCOME_BATCH,
        max_delay: float = OUTCOME_MAX_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._batch = max(1, batch)
        self._max_delay = max_delay
        self._clock = clock
        self._pending: list[ChangeOutcome] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def __call__(self, outcome: ChangeOutcome) -> None:
        with self._lock:
            now = self._clock()
            if not self._pending:
                self._oldest = now
            self._pending.append(outcome)
            if len(self._pending) >= self._batch or now - self._oldest >= self._max_delay:
                self._flush()

    def flush(self) -> None:
        """Store every outcome still waiting."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._store.record_outcomes(self._run_id, self._pending)
            self._pending = []

    def __enter__(self) -> OutcomeRecorder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.flush()
            return
        try:
            self.flush()
        except Exception:
            log.exception("could not store the outcomes of run #%d", self._run_id)
