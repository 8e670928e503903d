"""Injected failures: throttling, outages and timeouts on demand.

A fault matches the next ``times`` requests it fits and is then used up, so a test can
say "the second Graph page answers 429 once" and watch the client retry.

Most faults stand in for the request: it never reaches the service, so nothing changes.
``after_processing`` is the other case a writer must survive: the service does the
work (the object is created) and then the answer is lost on the way back, as a 5xx
from a proxy or a timeout. A client cannot tell the two apart from the error alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from core.sandbox.http import HttpError, service_error


@dataclass
class Fault:
    """A failure to inject.

    ``service``, ``method`` and ``path_contains`` narrow which requests match (``None``
    matches any); ``path_contains`` is looked for in the decoded path plus query. With
    ``batch_item`` the fault hits a sub-request inside a Graph ``$batch`` instead, matched
    on the sub-request's method and relative URL. With ``after_processing`` the request
    is handled first (its changes are kept) and only then answered with ``status``, or
    with a timeout when ``timeout`` is set.
    """

    service: str | None = None
    method: str | None = None
    path_contains: str | None = None
    status: int = 503
    times: int = 1
    retry_after: float | None = None
    timeout: bool = False
    batch_item: bool = False
    after_processing: bool = False

    def matches(self, service: str, method: str, target: str, *, batch_item: bool) -> bool:
        if self.times <= 0 or self.batch_item != batch_item:
            return False
        if self.service is not None and self.service != service:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_contains is None or self.path_contains in target

    def error(self, service: str) -> HttpError:
        """The answer this fault gives, in the body shape of ``service``."""
        message = {
            429: "Too many requests. Please retry after the time in the Retry-After header.",
            503: "The service is temporarily unavailable. Please retry later.",
        }.get(self.status, f"Injected failure with status {self.status}.")
        error = service_error(service, self.status, message)
        if self.retry_after is not None:
            seconds = self.retry_after
            error.headers["Retry-After"] = (
                str(int(seconds)) if seconds == int(seconds) else str(seconds)
            )
        return error


class FaultBook:
    """The pending faults; thread-safe so the HTTPS server's threads can share it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, service: str, method: str, target: str, *, batch_item: bool) -> Fault | None:
        """Consume one use of the first matching fault, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(service, method, target, batch_item=batch_item):
                    fault.times -= 1
                    return fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
