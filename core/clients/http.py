"""One HTTP behaviour for every API: timeouts, retries, typed errors, request counts.

Every client in :mod:`core.clients` sends its requests through :class:`ApiClient`, so
the retry rules live in one place:

* 429 is retried after ``Retry-After`` (capped), or a jittered backoff when the header
  is missing. It means the request was not processed, so writes are retried too.
* 5xx answers (503 included) and transport errors (timeouts, resets, refused
  connections) are retried with jittered exponential backoff (503 after its
  ``Retry-After``), but only for idempotent requests. A create that got one of them
  may have happened: a gateway answers 503 and a read times out after the service did
  the work. Sending it again here could make a duplicate, so the failure goes back to
  the caller, which can look the object up first (:func:`core.clients.assets.create_once`).
* After the last attempt the failure becomes a typed :class:`core.errors.ApiError`.
* A success whose body is not JSON becomes :class:`core.errors.UnreadableAnswer`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from core.errors import (
    ApiError,
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportFailure,
    UnreadableAnswer,
)

RETRY_ALWAYS_STATUSES = frozenset({429})  # not processed: safe to send again
RETRY_IDEMPOTENT_STATUSES = frozenset({500, 502, 503, 504})  # maybe processed


class RequestCounter:
    """Counts requests sent per service; thread-safe, because writes run in a pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, service: str) -> None:
        with self._lock:
            self._counts[service] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


@dataclass
class RetryPolicy:
    """How often and how long to wait. Tests pass a ``sleep`` that records instead."""

    attempts: int = 5
    max_retry_after: float = 60.0
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given (1-based) attempt."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)

    def wait_for(self, response: httpx.Response, attempt: int) -> float:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return self.backoff(attempt)
        return min(retry_after, self.max_retry_after)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class RateLimiter:
    """A token bucket: at most ``per_minute`` acquisitions a minute, in smooth steps."""

    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 60.0 / per_minute
        self._capacity = max(1.0, per_minute / 60.0)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(
                    self._capacity, self._tokens + (now - self._updated) / self._interval
                )
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) * self._interval
            self._sleep(wait)


HeaderProvider = Callable[[], Mapping[str, str]]


class ApiClient:
    """Requests to one service's base URL, with auth headers, retries and counting."""

    def __init__(
        self,
        service: str,
        base_url: str,
        http: httpx.Client,
        *,
        counter: RequestCounter,
        retry: RetryPolicy | None = None,
        headers: HeaderProvider | None = None,
        limiter: RateLimiter | None = None,
        unauthorized_hint: str | None = None,
        renew: Callable[[], bool] | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._counter = counter
        self._retry = retry or RetryPolicy()
        self._headers = headers
        self._limiter = limiter
        self._unauthorized_hint = unauthorized_hint
        # On a 401: may the credentials be renewed and the request sent once more?
        self._renew = renew

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy in force, for callers that retry parts of an answer themselves.

        Graph's ``$batch`` answers 200 while single items inside it are throttled;
        the Graph client retries those items with this same budget and ``sleep``.
        """
        return self._retry

    def url(self, path: str) -> str:
        """An absolute URL: paths are joined to the base; links must stay on its host.

        Paging links (``@odata.nextLink``, ``links.next``) are followed with this
        client's credentials, so a link to another host is refused, not followed.
        """
        if not path.startswith(("https://", "http://")):
            return f"{self.base_url}/{path.lstrip('/')}"
        if httpx.URL(path).netloc != httpx.URL(self.base_url).netloc:
            raise ApiError(self.service, "refusing to follow a link to another host")
        return path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise a typed ``ApiError``."""
        url = self.url(path)
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            last = attempt >= self._retry.attempts
            try:
                response = self._send(method, url, params, json, headers)
            except httpx.TransportError as exc:
                if last or not idempotent:
                    raise self._transport_error(method, path, exc) from exc
                self._retry.sleep(self._retry.backoff(attempt))
                continue
            if response.is_success:
                return response
            if response.status_code == 401 and not renewed and self._renewed():
                renewed = True  # a kept credential went stale: once more with a fresh one
                continue
            if not last and self._should_retry(response.status_code, idempotent):
                self._retry.sleep(self._retry.wait_for(response, attempt))
                continue
            raise error_for(
                self.service, method, path, response, unauthorized_hint=self._unauthorized_hint
            )

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.json_of(self.request("GET", path, **kwargs), "GET", path)

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.json_of(self.request("POST", path, json=body, **kwargs), "POST", path)

    def json_of(self, response: httpx.Response, method: str, path: str) -> Any:
        """The JSON of a successful answer, or :class:`UnreadableAnswer` when it has none.

        A proxy or captive portal answers 200 with an HTML page, and an empty or cut-off
        body is no answer either: neither may reach a caller as data, and neither says
        whether a write happened.
        """
        content_type = response.headers.get("Content-Type", "")
        reason = None
        if content_type and "json" not in content_type.lower():
            reason = f"Content-Type {content_type.split(';')[0].strip()[:60]}"
        else:
            try:
                return response.json()
            except ValueError:  # JSONDecodeError, and UnicodeDecodeError for binary bodies
                reason = "an empty body" if not response.content.strip() else "unparseable"
        raise UnreadableAnswer(
            self.service,
            f"answered {response.status_code} with a body that is not JSON ({reason}); "
            "is a proxy answering instead of the service?",
            status=response.status_code,
            method=method,
            path=_path_only(path),
        )

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        if self._limiter is not None:
            self._limiter.acquire()
        merged: dict[str, str] = {"Accept": "application/json"}
        if self._headers is not None:
            merged.update(self._headers())
        if headers:
            merged.update(headers)
        self._counter.add(self.service)
        return self._http.request(method, url, params=params, json=body, headers=merged)

    def _renewed(self) -> bool:
        return self._renew is not None and self._renew()

    @staticmethod
    def _should_retry(status: int, idempotent: bool) -> bool:
        return status in RETRY_ALWAYS_STATUSES or (
            idempotent and status in RETRY_IDEMPOTENT_STATUSES
        )

    def _transport_error(
        self, method: str, path: str, exc: httpx.TransportError
    ) -> TransportFailure:
        reason = type(exc).__name__
        return TransportFailure(
            self.service, f"could not reach the service ({reason})", method=method, path=path
        )


def error_for(
    service: str,
    method: str,
    path: str,
    response: httpx.Response,
    *,
    unauthorized_hint: str | None = None,
) -> ApiError:
    """Map a non-2xx response to the typed error a caller can act on.

    ``unauthorized_hint`` follows the service's own words on a 401: what the operator
    should check, which only the code that chose the credentials knows.
    """
    status = response.status_code
    message = summarise_error_body(response)
    kind: type[ApiError]
    if status == 401:
        kind = AuthenticationError
        if unauthorized_hint:
            joint = " " if message.endswith((".", "!", "?")) else "; "
            message = f"{message}{joint}{unauthorized_hint}"
    elif status == 403:
        kind = PermissionDenied
    elif status == 404:
        kind = NotFound
    elif status == 429:
        kind = RateLimited
    elif status >= 500:
        kind = ServerError
    else:
        kind = RequestRejected
    return kind(service, message, status=status, method=method, path=_path_only(path))


def summarise_error_body(response: httpx.Response, limit: int = 300) -> str:
    """The human part of a Graph, Atlassian or Entra error body, shortened."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text or response.reason_phrase)[:limit]
    return _message_from(body)[:limit] or response.reason_phrase


def _message_from(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)
    error = body.get("error")
    if isinstance(error, dict):  # Graph: {"error": {"code", "message"}}
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    if isinstance(error, str):  # Entra token endpoint: {"error", "error_description"}
        return str(body.get("error_description") or error)
    parts = [str(m) for m in body.get("errorMessages") or []]  # Atlassian
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts.extend(f"{key}: {value}" for key, value in errors.items())
    return "; ".join(parts) or str(body.get("message", ""))


def _path_only(path: str) -> str:
    """Drop the query string: it can carry emails, and errors end up in logs."""
    return httpx.URL(path).path if path.startswith("http") else path.split("?", 1)[0]


def build_http_client(
    *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The process-wide httpx client. ``transport`` is the sandbox's, in tests and demos."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=limits,
        transport=transport,
        follow_redirects=False,
    )
