"""The shared HTTP behaviour: retries, Retry-After, typed errors, counting."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from core.clients import ApiClient, RateLimiter, RequestCounter, RetryPolicy
from core.clients.http import (
    build_http_client,
    error_for,
    parse_retry_after,
    summarise_error_body,
)
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
    """The waits asked for; a retry loop that never ends fails fast instead of hanging."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        assert len(self) < 50, "retrying without end"


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
def test_create_that_times_out_is_sent_once(api: ApiClient, sleeps: Sleeps) -> None:
    """A create that timed out may have happened: resending it could make a duplicate."""
    route = respx.post(f"{BASE}/object/create").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransportFailure, match=r"could not reach the service \(ReadTimeout\)"):
        api.request("POST", "object/create", json={}, idempotent=False)
    assert route.call_count == 1
    assert sleeps == []


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
    ("content", "kind", "reason"),
    [
        (b"<html><body>Sign in</body></html>", "text/html", "Content-Type text/html"),
        (b'{"value": [', "application/json", "unparseable"),
        (b"", "application/json", "an empty body"),
    ],
)
def test_a_success_that_is_not_json_is_an_unreadable_answer(
    api: ApiClient, content: bytes, kind: str, reason: str
) -> None:
    """A proxy's page or a body cut mid-value: a typed error naming the service, not a
    decode error, and not retried (it answered; a retry is the caller's choice)."""
    route = respx.get(f"{BASE}/thing").mock(
        return_value=httpx.Response(200, content=content, headers={"Content-Type": kind})
    )
    with pytest.raises(UnreadableAnswer) as info:
        api.get_json("thing?q=ada@example.com")
    assert str(info.value) == (
        f"assets HTTP 200 (GET thing): answered 200 with a body that is not JSON ({reason}); "
        "is a proxy answering instead of the service?"
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
        assert len(waits) < 50, "waiting without end"

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


@respx.mock
def test_a_create_that_times_out_names_where_it_failed(api: ApiClient) -> None:
    """The error says which service, method and path could not be reached."""
    respx.post(f"{BASE}/object/create").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportFailure) as caught:
        api.request("POST", "object/create", json={}, idempotent=False)
    error = caught.value
    assert (error.service, error.method, error.path, error.status) == (
        "assets",
        "POST",
        "object/create",
        None,
    )
    assert str(error) == ("assets (POST object/create): could not reach the service (ConnectError)")


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("thing?email=ada@example.com", "thing"),
        ("thing?a=1?b=2", "thing"),
        (f"{BASE}/page?$skiptoken=ada@example.com", "/v1/page"),
        (
            "users/ada_x.com#EXT#@t.onmicrosoft.com?$select=id",
            "users/ada_x.com#EXT#@t.onmicrosoft.com",
        ),
    ],
)
def test_errors_carry_status_method_and_the_path_without_its_query(path: str, shown: str) -> None:
    error = error_for("graph", "GET", path, httpx.Response(404, json={"message": "gone"}))
    assert isinstance(error, NotFound)
    assert (error.service, error.status, error.method, error.path) == ("graph", 404, "GET", shown)
    assert str(error) == f"graph HTTP 404 (GET {shown}): gone"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"error": {"code": "Request_BadRequest", "message": "Invalid filter"}},
            "Request_BadRequest: Invalid filter",
        ),
        ({"error": {"code": "Request_BadRequest"}}, "Request_BadRequest"),
        ({"error": {"message": "Invalid filter"}}, "Invalid filter"),
        (
            {"error": "invalid_client", "error_description": "AADSTS7000215: bad secret"},
            "AADSTS7000215: bad secret",
        ),
        ({"error": "invalid_client"}, "invalid_client"),
        (
            {"errorMessages": ["No access"], "errors": {"name": "too long"}},
            "No access; name: too long",
        ),
        ({"errors": {"name": "too long", "label": "taken"}}, "name: too long; label: taken"),
        ({"message": "Rate limit exceeded"}, "Rate limit exceeded"),
        ({"error": {"code": "XmlError", "message": "Bad XX"}}, "XmlError: Bad XX"),
        ({"errorMessages": [], "errors": {}}, "Bad Request"),
        (["not", "an", "object"], "['not', 'an', 'object']"),
    ],
)
def test_error_bodies_of_every_api_are_summarised(body: Any, message: str) -> None:
    """Graph, Entra's token endpoint and Atlassian each shape errors their own way."""
    assert summarise_error_body(httpx.Response(400, json=body)) == message


def test_error_bodies_that_are_not_json_are_summarised_as_text() -> None:
    assert summarise_error_body(httpx.Response(502, text=" upstream timed out \n")) == (
        "upstream timed out"
    )
    assert summarise_error_body(httpx.Response(502, text="   ")) == "Bad Gateway"
    assert summarise_error_body(httpx.Response(502, text="x" * 500)) == "x" * 300
    assert summarise_error_body(httpx.Response(400, json={"message": "y" * 500})) == "y" * 300


class Ceiling(random.Random):
    """Full jitter at its largest: ``uniform(a, b)`` answers ``b``."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=3.0, rng=Ceiling())
    assert [policy.backoff(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@respx.mock
def test_a_retry_after_header_of_any_case_is_read(api: ApiClient, sleeps: Sleeps) -> None:
    respx.get(f"{BASE}/thing").mock(
        side_effect=[httpx.Response(429, headers={"retry-after": "4"}), httpx.Response(200)]
    )
    api.request("GET", "thing")
    assert sleeps == [4.0]


def test_retry_after_never_asks_for_a_negative_wait() -> None:
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412500.0) == 0.0


def test_a_retry_after_date_counts_from_the_current_time() -> None:
    soon = datetime.now(UTC) + timedelta(seconds=90)
    wait = parse_retry_after(format_datetime(soon, usegmt=True))
    assert wait is not None and 85.0 <= wait <= 90.0
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past) == 0.0


def test_rate_limiter_allows_a_burst_of_a_seconds_worth_then_spaces() -> None:
    """At 120 a minute two go through at once, then one every half second."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds
        assert len(waits) < 50, "waiting without end"

    limiter = RateLimiter(120, clock=lambda: now[0], sleep=sleep)
    limiter.acquire()
    limiter.acquire()
    assert waits == []
    limiter.acquire()
    assert waits == [pytest.approx(0.5)]
    now[0] += 0.25  # half a token earned while idle
    limiter.acquire()
    assert waits == [pytest.approx(0.5), pytest.approx(0.25)]


@respx.mock
def test_json_helpers_name_the_method_and_pass_options_on(api: ApiClient) -> None:
    respx.get(f"{BASE}/gone").mock(return_value=httpx.Response(404, json={}))
    with pytest.raises(NotFound) as missing:
        api.get_json("gone")
    assert missing.value.method == "GET"
    create = respx.post(f"{BASE}/object/create").mock(return_value=httpx.Response(500, json={}))
    with pytest.raises(ServerError) as failed:
        api.post_json("object/create", {"a": 1}, idempotent=False)
    assert failed.value.method == "POST"
    assert create.call_count == 1  # idempotent=False reached the request: no retry


def test_the_process_client_has_timeouts_limits_and_no_redirects() -> None:
    client = build_http_client()
    assert client.timeout == httpx.Timeout(30.0, connect=10.0)
    assert client.follow_redirects is False
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert (pool._max_connections, pool._max_keepalive_connections) == (32, 16)
    client.close()
    assert build_http_client(timeout=5.0).timeout == httpx.Timeout(5.0, connect=5.0)


def test_the_process_client_sends_through_the_given_transport() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://elsewhere.test/"})

    with build_http_client(transport=httpx.MockTransport(answer)) as client:
        response = client.get("https://api.test/v1/thing")
    assert response.status_code == 302  # the redirect is not followed
    assert seen == ["https://api.test/v1/thing"]


@respx.mock
def test_the_content_type_named_is_the_media_type_alone(api: ApiClient) -> None:
    """Parameters are dropped and a long type is cut at 60 characters."""
    respx.get(f"{BASE}/thing").mock(
        return_value=httpx.Response(
            200, content=b"<html/>", headers={"Content-Type": "text/html; charset=utf-8"}
        )
    )
    with pytest.raises(UnreadableAnswer, match=r"\(Content-Type text/html\);"):
        api.get_json("thing")
    long_type = "application/" + "x" * 80
    respx.get(f"{BASE}/other").mock(
        return_value=httpx.Response(200, content=b"<x/>", headers={"Content-Type": long_type})
    )
    with pytest.raises(UnreadableAnswer) as info:
        api.get_json("other")
    assert f"(Content-Type {long_type[:60]});" in str(info.value)


@respx.mock
def test_a_json_answer_without_a_content_type_is_read(api: ApiClient) -> None:
    """Some gateways drop the header; the body alone decides then."""
    respx.get(f"{BASE}/thing").mock(return_value=httpx.Response(200, content=b'{"a": 1}'))
    assert api.get_json("thing") == {"a": 1}
