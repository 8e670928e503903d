"""Sign-in retries against respx: transient answers are retried, permanent ones are not.

The retry layer sits below MSAL's own throttle, so these tests also pin how the two
meet: MSAL sees only the final answer, and a request it answers from its throttle
memory is not retried behind its back.
"""

from __future__ import annotations

import random

import httpx
import pytest
import respx

from core.clients import GraphTokenProvider, RequestCounter, RetryPolicy
from core.clients.auth import SIGN_IN_BUDGET
from core.errors import AuthenticationError, RateLimited, ServerError, TransportFailure

from .conftest import GRAPH
from .test_auth import CLIENT, LOGIN, SECRET, TENANT, mock_login, openid_configuration, token_error

TOKEN_OK = httpx.Response(200, json={"access_token": "tok-1", "expires_in": 3599})
DISCOVERY = f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration"


class FakeTime:
    """A monotonic clock that only the retry policy's sleep moves."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def signer(
    http: httpx.Client,
    counter: RequestCounter,
    time_: FakeTime,
    *,
    attempts: int = 4,
    max_retry_after: float = 30.0,
) -> GraphTokenProvider:
    retry = RetryPolicy(
        attempts=attempts,
        max_retry_after=max_retry_after,
        sleep=time_.sleep,
        rng=random.Random(7),
    )
    return GraphTokenProvider(
        TENANT,
        CLIENT,
        SECRET,
        login_url=LOGIN,
        graph_url=GRAPH,
        http=http,
        counter=counter,
        retry=retry,
        clock=time_.clock,
    )


def unavailable(status: int, retry_after: int | None = None) -> httpx.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    body = {"error": "temporarily_unavailable", "error_description": "AADSTS50196: try later"}
    return httpx.Response(status, json=body, headers=headers)


def test_one_503_from_the_token_endpoint_is_retried(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """A single 503 costs one backoff wait and one more request, then the token arrives."""
    _, token = mock_login(router)
    token.mock(side_effect=[unavailable(503), TOKEN_OK])
    assert signer(http, counter, time_).headers() == {"Authorization": "Bearer tok-1"}
    assert token.call_count == 2
    assert len(time_.waits) == 1 and 0 <= time_.waits[0] <= 0.5
    assert counter.snapshot() == {"login": 3}


def test_retry_after_from_the_sign_in_service_is_waited_in_full(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """A 429 with Retry-After: 7 waits exactly 7 seconds before asking again."""
    _, token = mock_login(router)
    token.mock(side_effect=[unavailable(429, retry_after=7), TOKEN_OK])
    assert signer(http, counter, time_).headers() == {"Authorization": "Bearer tok-1"}
    assert time_.waits == [7.0]


@pytest.mark.parametrize(
    "problem",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("reset by peer")],
    ids=["timeout", "reset"],
)
def test_a_transport_error_is_retried(
    router: respx.MockRouter,
    http: httpx.Client,
    counter: RequestCounter,
    time_: FakeTime,
    problem: httpx.TransportError,
) -> None:
    """A timed-out or reset token request is sent again; a token request is safe to repeat."""
    _, token = mock_login(router)
    token.mock(side_effect=[problem, TOKEN_OK])
    assert signer(http, counter, time_).headers() == {"Authorization": "Bearer tok-1"}
    assert token.call_count == 2


def test_a_discovery_503_is_retried(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """The OpenID configuration read that MSAL makes first is retried the same way."""
    discovery, _ = mock_login(router)
    discovery.mock(
        side_effect=[unavailable(503), httpx.Response(200, json=openid_configuration(LOGIN))]
    )
    assert signer(http, counter, time_).headers() == {"Authorization": "Bearer tok-1"}
    assert discovery.call_count == 2


def test_a_persistent_503_fails_after_the_bounded_attempts(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """Four 503s: four requests, three waits, then one clear error that is not a settings one."""
    _, token = mock_login(router, token=unavailable(503))
    with pytest.raises(ServerError) as caught:
        signer(http, counter, time_).headers()
    assert token.call_count == 4
    assert len(time_.waits) == 3
    assert str(caught.value) == (
        "login HTTP 503: the sign-in service failed after 4 attempts; try again later"
    )


def test_msal_throttle_memory_is_respected_not_retried_around(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """After a failed sign-in MSAL answers from memory for Retry-After seconds: no request.

    The next call in that window fails at once and says how long to wait; once the
    window has passed (real time, as MSAL measures it) a request goes out again.
    """
    _, token = mock_login(router, token=unavailable(503, retry_after=2))
    tokens = signer(http, counter, time_, attempts=2)
    with pytest.raises(ServerError, match="after 2 attempts; try again in 2 s"):
        tokens.headers()
    assert token.call_count == 2
    with pytest.raises(ServerError, match=r"failed; try again in \d s"):
        tokens.headers()
    assert token.call_count == 2  # answered from MSAL's throttle memory
    assert time_.waits == [2.0]


def test_a_persistent_429_is_throttling_not_a_bad_setting(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """MSAL reads a 429's JSON body as an OAuth error; it must not read as a bad secret."""
    _, token = mock_login(router, token=unavailable(429, retry_after=1))
    with pytest.raises(RateLimited) as caught:
        signer(http, counter, time_).headers()
    assert not isinstance(caught.value, AuthenticationError)
    assert token.call_count == 4
    assert "throttling requests after 4 attempts; try again in 1 s" in str(caught.value)


def test_a_429_page_that_is_not_json_is_one_clear_error(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """A gateway's HTML 429 makes MSAL's JSON parse fail; that is still throttling."""
    mock_login(router, token=httpx.Response(429, text="<html>Too Many Requests</html>"))
    with pytest.raises(RateLimited, match="throttling requests after 4 attempts"):
        signer(http, counter, time_).headers()


def test_a_throttled_discovery_is_not_reported_as_an_unknown_tenant(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """MSAL treats any 4xx from discovery as "tenant not found"; a 429 is not that."""
    router.get(DISCOVERY).mock(return_value=unavailable(429))
    with pytest.raises(RateLimited) as caught:
        signer(http, counter, time_).headers()
    assert "not found" not in str(caught.value)


def test_a_retry_after_beyond_the_cap_is_not_shortened(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """Asked to wait 120 s with a 30 s cap: no early retry; the error names the wait."""
    _, token = mock_login(router, token=unavailable(503, retry_after=120))
    with pytest.raises(ServerError, match="after 1 attempt; try again in 120 s"):
        signer(http, counter, time_).headers()
    assert token.call_count == 1
    assert time_.waits == []


def test_retries_stop_at_the_time_budget(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """Many attempts allowed, 20 s asked each time: no retry ends past the 60 s budget."""
    _, token = mock_login(router, token=unavailable(503, retry_after=20))
    with pytest.raises(ServerError, match="after 4 attempts"):
        signer(http, counter, time_, attempts=50).headers()
    assert time_.waits == [20.0, 20.0, 20.0]
    assert sum(time_.waits) <= SIGN_IN_BUDGET
    assert token.call_count == 4


def test_transport_errors_that_persist_fail_with_the_reason(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """Four timeouts in a row: the error names the transport failure and the attempts."""
    _, token = mock_login(router)
    token.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransportFailure) as caught:
        signer(http, counter, time_).headers()
    assert token.call_count == 4
    assert str(caught.value) == (
        "login: could not reach the sign-in service (ReadTimeout) after 4 attempts; try again later"
    )


@pytest.mark.parametrize(
    "case",
    [
        ("bad_secret", 401, "Certificates & secrets"),
        ("unknown_client", 400, "check Client ID"),
        ("other", 400, "invalid_request: AADSTS900144"),
    ],
    ids=["bad-secret", "unknown-client", "bad-request"],
)
def test_permanent_errors_are_never_retried(
    router: respx.MockRouter,
    http: httpx.Client,
    counter: RequestCounter,
    time_: FakeTime,
    case: tuple[str, int, str],
) -> None:
    """A bad secret, unknown client or malformed request: one request, today's message."""
    name, status, expected = case
    _, token = mock_login(router, token=token_error(name, status=status))
    with pytest.raises(AuthenticationError) as caught:
        signer(http, counter, time_).headers()
    assert token.call_count == 1
    assert time_.waits == []
    assert expected in str(caught.value)
    assert SECRET not in str(caught.value)


def test_an_unknown_tenant_is_never_retried(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter, time_: FakeTime
) -> None:
    """A 400 from discovery is a wrong tenant: one request and today's message."""
    discovery = router.get(DISCOVERY).mock(return_value=token_error("unknown_tenant"))
    with pytest.raises(AuthenticationError) as caught:
        signer(http, counter, time_).headers()
    assert f"tenant '{TENANT}' not found" in str(caught.value)
    assert discovery.call_count == 1
    assert time_.waits == []
