"""Injected failures: throttling, outages, lost connections and answers that lie.

A fault matches the next ``times`` requests it fits and is then used up, so a test can
say "the second Graph page answers 429 once" and watch the client retry.

Three families, each what a real service or something on the way to it does:

* **No answer, or an error answer** (``status``, ``timeout``, ``reset``): the request
  never reaches the service, so nothing changes, and the caller gets an error status
  in the service's own error shape, a read timeout or a connection reset.
* **The answer lost after the work** (``after_processing``): the service does the work
  (the object is created) and then the answer is lost on the way back, as a 5xx from a
  proxy, a timeout or a reset. A client cannot tell this from the first family by the
  error alone.
* **A success that lies** (``answer``): the service does the work and answers, and the
  answer is then spoiled on the way back: not JSON, empty, cut short, or with the
  fields the engine reads set to null. Each is a 2xx, so no retry rule notices it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from core.sandbox.http import HttpError, json_response, service_error


class Answer(StrEnum):
    """How a fault spoils a successful answer (see :meth:`Fault.spoil`)."""

    MALFORMED = "malformed"
    """200 with a JSON content type and a body cut off mid-value: not JSON at all."""

    EMPTY = "empty"
    """The same status and the right shape with nothing in it.

    ``{"value": []}`` for a Graph list, ``[]`` for a bare array (Jira user search, an
    Assets attribute list), ``{"values": [], "isLast": true}`` for an Assets or
    service-desk page, ``{"data": [], "links": {}}`` for the org admin list,
    ``{"responses": []}`` for a Graph ``$batch``, ``0`` for a count answered in plain
    text (Graph ``$count``), and ``{}`` for any other JSON object (a token, one user,
    a created object).
    """

    TRUNCATED = "truncated"
    """A page that stops early and says it is complete.

    The first half of the items (rounded down) and no way on: a Graph list without
    ``@odata.nextLink``, an Assets page with ``isLast: true``, a short Jira page, an
    org admin page without ``links.next``, a ``$batch`` answer missing the later
    responses. An answer that is not a page (a token, one object, a count) is left
    as it is: a body cut short is :attr:`MALFORMED`.
    """

    NULLS = "nulls"
    """The fields the engine reads, null, wherever they occur in the body.

    Graph: ``accountEnabled``, ``department`` and ``jobTitle`` (what a downgraded
    permission returns; :meth:`core.sandbox.Sandbox.downgrade_graph_permission`
    withholds more, and keeps doing it). The token endpoint: ``access_token`` and
    ``expires_in``. Jira: ``emailAddress``, ``displayName`` and ``active``. The org
    admin API: ``email`` and ``account_status``. Assets: every attribute value
    (``value``, ``displayValue``, ``searchValue``, ``referencedObject``, ``user``), so
    an Employee read back has none of its fields. Ids and object keys stay: an answer
    without them would not name anything.
    """


NULL_FIELDS: dict[str, frozenset[str]] = {
    "graph": frozenset({"accountEnabled", "department", "jobTitle"}),
    "login": frozenset({"access_token", "expires_in"}),
    "jira": frozenset({"emailAddress", "displayName", "active"}),
    "admin": frozenset({"email", "account_status"}),
    "assets": frozenset({"value", "displayValue", "searchValue", "referencedObject", "user"}),
}
"""The fields :attr:`Answer.NULLS` sets to null, by service."""

MALFORMED_BODY = b'{"value": [{"id": "'
"""A JSON body that stops mid-string, as a connection closed mid-answer leaves it."""


@dataclass
class Fault:
    """A failure to inject.

    ``service``, ``method`` and ``path_contains`` narrow which requests match (``None``
    matches any); ``path_contains`` is looked for in the decoded path plus query. With
    ``batch_item`` the fault hits a sub-request inside a Graph ``$batch`` instead,
    matched on the sub-request's method and relative URL.

    What it answers, the first that applies:

    * ``answer``: the request is handled (its changes are kept) and its answer, when it
      is a success, is spoiled as :class:`Answer` says; an error answer passes as it
      is (the fault is used up all the same).
    * ``timeout``: ``httpx.ReadTimeout``, the request sent and no answer read.
    * ``reset``: ``httpx.ReadError`` for a connection reset by the peer.
    * otherwise ``status`` (503 unless set) in the service's error shape, with a
      ``Retry-After`` header when ``retry_after`` is set.

    With ``after_processing`` the request is handled first (its changes are kept) and
    only then answered with the timeout, the reset or the status. A batch item has no
    connection of its own, so ``timeout`` and ``reset`` cannot apply to one.
    """

    service: str | None = None
    method: str | None = None
    path_contains: str | None = None
    status: int = 503
    times: int = 1
    retry_after: float | None = None
    timeout: bool = False
    reset: bool = False
    answer: Answer | None = None
    batch_item: bool = False
    after_processing: bool = False

    def __post_init__(self) -> None:
        if self.batch_item and (self.timeout or self.reset):
            raise ValueError("a $batch item cannot time out or be reset on its own")
        if self.answer is not None:
            self.answer = Answer(self.answer)

    @property
    def processes(self) -> bool:
        """True when the request reaches the service before the fault answers."""
        return self.after_processing or self.answer is not None

    def matches(self, service: str, method: str, target: str, *, batch_item: bool) -> bool:
        if self.times <= 0 or self.batch_item != batch_item:
            return False
        if self.service is not None and self.service != service:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_contains is None or self.path_contains in target

    def error(self, service: str) -> HttpError:
        """The error answer this fault gives, in the body shape of ``service``."""
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

    def fail(self, service: str, request: httpx.Request) -> httpx.Response:
        """The answer of a fault without ``answer``: raise for timeouts and resets."""
        if self.timeout:
            raise httpx.ReadTimeout("Sandbox fault: the read timed out", request=request)
        if self.reset:
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        return self.error(service).response()

    def spoil(self, service: str, response: httpx.Response) -> httpx.Response:
        """``response`` as this fault's ``answer`` spoils it; errors pass unchanged."""
        if self.answer is None or not response.is_success:
            return response
        if self.answer is Answer.MALFORMED:
            return httpx.Response(
                200,
                content=MALFORMED_BODY,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("application/json"):  # a count in plain text
            if self.answer is not Answer.EMPTY:
                return response
            return httpx.Response(
                response.status_code, content=b"0", headers={"Content-Type": content_type}
            )
        body = response.json()
        spoilers: dict[Answer, Callable[[Any], Any]] = {
            Answer.EMPTY: empty_body,
            Answer.TRUNCATED: truncated_body,
            Answer.NULLS: lambda b: nulled(b, NULL_FIELDS.get(service, frozenset())),
        }
        return json_response(response.status_code, spoilers[self.answer](body))


# The item list of each kind of page, and what an empty page of that kind looks like.
EMPTY_PAGES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("value", {"value": []}),  # Graph
    ("values", {"values": [], "isLast": True}),  # Assets, service desk
    ("data", {"data": [], "links": {}}),  # org admin
    ("responses", {"responses": []}),  # Graph $batch
)


def empty_body(body: Any) -> Any:
    """The shape of ``body`` with no items (:attr:`Answer.EMPTY`)."""
    if isinstance(body, list):
        return []
    for items, empty in EMPTY_PAGES:
        if isinstance(body, dict) and isinstance(body.get(items), list):
            return dict(empty)
    return {}


def truncated_body(body: Any) -> Any:
    """The first half of a page's items, marked complete (:attr:`Answer.TRUNCATED`)."""
    if isinstance(body, list):
        return body[: len(body) // 2]
    if not isinstance(body, dict):
        return body
    cut = dict(body)
    for items, _ in EMPTY_PAGES:
        if isinstance(cut.get(items), list):
            cut[items] = cut[items][: len(cut[items]) // 2]
            break
    else:
        return body
    cut.pop("@odata.nextLink", None)
    if "isLast" in cut:
        cut["isLast"] = True
    if isinstance(cut.get("links"), dict):
        cut["links"] = {k: v for k, v in cut["links"].items() if k != "next"}
    return cut


def nulled(body: Any, fields: frozenset[str]) -> Any:
    """``body`` with every key in ``fields`` set to null, at any depth."""
    if isinstance(body, list):
        return [nulled(item, fields) for item in body]
    if isinstance(body, dict):
        return {k: None if k in fields else nulled(v, fields) for k, v in body.items()}
    return body


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
