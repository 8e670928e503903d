"""Where long work runs: never inside Slack's 3-second acknowledgement, never on Bolt's pool.

Bolt runs listeners on a small thread pool; a sync that takes minutes there would
starve every other click. Listeners ack, then hand the work to this worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

log = logging.getLogger(__name__)


class Worker:
    """A small pool for background jobs; failures are logged, never lost silently."""

    def __init__(self, max_workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="entra-job")
        self._lock = threading.Lock()
        self._futures: set[Future[None]] = set()

    def submit(self, job: Callable[[], None], *, name: str) -> None:
        future = self._pool.submit(self._run, job, name)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every job submitted so far has finished (tests and shutdown)."""
        while True:
            with self._lock:
                pending = set(self._futures)
            if not pending:
                return
            _, not_done = wait(pending, timeout=timeout)
            if not_done:
                raise TimeoutError(f"{len(not_done)} background jobs still running")

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    @staticmethod
    def _run(job: Callable[[], None], name: str) -> None:
        try:
            job()
        except Exception:
            log.exception("background job %s failed", name)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)
