"""The shared HTTP behaviour: retries, Retry-After, typed errors, counting."""

from __future__ import annotations

import httpx
import pytest
import respx

from core.clients import ApiClient, RateLimiter, RequestCounter, RetryPolicy
from core.clients.http import parse_retry_after
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

BASE = "https://api.test/v1"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api(sleeps: Sleeps) -> ApiClient:
    policy = RetryPolicy(attempts=4, max_retry_after=30, sleep=sleeps)
    return ApiClient("assets", BASE, httpx.Client(), counter=RequestCounter(), retry=policy)


@respx.mock
def test_retry_after_is_honoured_then_success(api: ApiClient, sleeps: Sleeps) -> None:
    """A 429 with Retry-After waits exactly that long, then the retry succeeds."""
    route = respx.get(f"{BASE}/thing").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    assert api.get_json("thing") == {"ok": True}
    assert route.call_count == 2
    assert sleeps == [7.0]


@respx.mock
def test_retry_after_is_capped(api: ApiClient, sleeps: Sleeps) -> None:
    """A huge Retry-After is capped by the policy instead of stalling the run."""
    respx.get(f"{BASE}/thing").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "3600"}), httpx.Response(200)]
    )
    api.request("GET", "thing")
    assert sleeps == [30.0]


@respx.mock
def test_503_then_success_without_header_backs_off(api: ApiClient, sleeps: Sleeps) -> None:
    """Without Retry-After a 503 is retried after a bounded jittered backoff."""
    respx.get(f"{BASE}/thing").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    api.request("GET", "thing")
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.5


@respx.mock
def test_gives_up_after_attempts_with_typed_error(api: ApiClient, sleeps: Sleeps) -> None:
    """429 for ever ends as RateLimited after the configured number of attempts."""
    route = respx.get(f"{BASE}/thing").mock(return_value=httpx.Response(429))
    with pytest.raises(RateLimited):
        api.request("GET", "thing")
    assert route.call_count == 4
    assert len(sleeps) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@respx.mock
def test_create_is_not_retried_after_5xx(api: ApiClient, sleeps: Sleeps, status: int) -> None:
    """A non-idempotent write answered 5xx may have happened: it is not resent.

    A 503 included: a proxy or gateway answers 503 after the service did the work.
    """
    route = respx.post(f"{BASE}/object/create").mock(
        side_effect=[httpx.Response(status, headers={"Retry-After": "1"}), httpx.Response(201)]
    )
    with pytest.raises(ServerError):
        api.request("POST", "object/create", json={}, idempotent=False)
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("connection reset"),
        httpx.ConnectError("refused"),
    ],
)
@respx.mock
def test_create_is_not_retried_after_transport_errors(
    api: ApiClient, error: httpx.TransportError
) -> None:
    """A timeout or reset may come after the write; only the caller can check and resend."""
    route = respx.post(f"{BASE}/object/create").mock(side_effect=[error, httpx.Response(201)])
    with pytest.raises(TransportFailure):
        api.request("POST", "object/create", json={}, idempotent=False)
    assert route.call_count == 1


@respx.mock
def test_create_is_retried_after_429(api: ApiClient) -> None:
    """429 means not processed, so even a create is sent again."""
    route = respx.post(f"{BASE}/object/create").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201)]
    )
    api.request("POST", "object/create", json={}, idempotent=False)
    assert route.call_count == 2


@respx.mock
def test_transport_errors_are_retried_then_typed(api: ApiClient) -> None:
    """Timeouts are retried for reads and end as TransportFailure."""
    route = respx.get(f"{BASE}/thing").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransportFailure):
        api.request("GET", "thing")
    assert route.call_count == 4


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, AuthenticationError), (403, PermissionDenied), (404, NotFound), (400, RequestRejected)],
)
@respx.mock
def test_status_maps_to_typed_error(api: ApiClient, status: int, kind: type[Exception]) -> None:
    """Each failing status becomes the error type a caller can act on, without retries."""
    route = respx.get(f"{BASE}/thing").mock(
        return_value=httpx.Response(status, json={"errorMessages": ["nope"]})
    )
    with pytest.raises(kind, match="nope"):
        api.request("GET", "thing?email=secret@example.com")
    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize(
    ("content", "kind"),
    [(b"<html><body>Sign in</body></html>", "text/html"), (b'{"value": [', "application/json")],
)
def test_a_success_that_is_not_json_is_an_unreadable_answer(
    api: ApiClient, content: bytes, kind: str
) -> None:
    """A proxy's page or a body cut mid-value: a typed error naming the service, not a
    decode error, and not retried (it answered; a retry is the caller's choice)."""
    route = respx.get(f"{BASE}/thing").mock(
        return_value=httpx.Response(200, content=content, headers={"Content-Type": kind})
    )
    with pytest.raises(UnreadableAnswer) as info:
        api.get_json("thing?q=ada@example.com")
    assert str(info.value) == (
        f"assets HTTP 200 (GET thing): answered 200 with a body that is not JSON ({kind})"
    )
    assert isinstance(info.value, ServerError)
    assert route.call_count == 1


@respx.mock
def test_error_message_drops_query_string(api: ApiClient) -> None:
    """Error messages name the path but not the query, which can carry emails."""
    respx.get(f"{BASE}/thing").mock(return_value=httpx.Response(400, json={}))
    with pytest.raises(RequestRejected) as info:
        api.request("GET", "thing?filter=ada@example.com")
    assert "ada@example.com" not in str(info.value)


@respx.mock
def test_requests_are_counted_per_service(api: ApiClient) -> None:
    """Every attempt counts, retries included."""
    counter = RequestCounter()
    client = ApiClient(
        "graph", BASE, httpx.Client(), counter=counter, retry=RetryPolicy(sleep=lambda s: None)
    )
    respx.get(f"{BASE}/a").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    client.request("GET", "a")
    assert counter.snapshot() == {"graph": 2}


def test_parse_retry_after_accepts_seconds_and_dates() -> None:
    """Retry-After may be delta-seconds or an HTTP date; junk means no header."""
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_rate_limiter_spaces_requests() -> None:
    """At 60 a minute the bucket lets one through a second once the burst is spent."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(60, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.acquire()
    assert now[0] == pytest.approx(3.0)


@respx.mock
def test_links_to_another_host_are_refused(api: ApiClient) -> None:
    """A paging link pointing elsewhere is not followed with this client's credentials."""
    route = respx.get("https://evil.example/steal").mock(return_value=httpx.Response(200))
    with pytest.raises(ApiError, match="another host"):
        api.request("GET", "https://evil.example/steal")
    assert route.call_count == 0
