"""GraphTokenProvider against respx: one token per process, errors that say what to fix."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from core.clients import GraphTokenProvider, RequestCounter, RetryPolicy
from core.errors import ApiError, AuthenticationError, ServerError, TransportFailure

from .conftest import GRAPH, load_fixture

LOGIN = "https://login.microsoftonline.com"
SANDBOX_LOGIN = "https://login.sandbox.test"
TENANT = "contoso-tenant"
CLIENT = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cr3t~value-that-must-never-leak"


def openid_configuration(login: str) -> dict[str, Any]:
    text = json.dumps(load_fixture("openid-configuration.json"))
    return dict(json.loads(text.replace("{login}", login).replace("{tenant}", TENANT)))


def mock_login(
    router: respx.MockRouter, login: str = LOGIN, token: httpx.Response | None = None
) -> tuple[respx.Route, respx.Route]:
    discovery = router.get(f"{login}/{TENANT}/v2.0/.well-known/openid-configuration").mock(
        return_value=httpx.Response(200, json=openid_configuration(login))
    )
    answer = token or httpx.Response(
        200, json={"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3599}
    )
    token_route = router.post(f"{login}/{TENANT}/oauth2/v2.0/token").mock(return_value=answer)
    # After a token error MSAL looks up the host's aliases, at Microsoft's own host only.
    router.get(f"{LOGIN}/common/discovery/instance").mock(
        return_value=httpx.Response(200, json=load_fixture("instance-discovery.json"))
    )
    return discovery, token_route


def provider(
    http: httpx.Client,
    counter: RequestCounter,
    login: str = LOGIN,
    retry: RetryPolicy | None = None,
) -> GraphTokenProvider:
    """A provider whose retries never sleep unless the test passes its own policy."""
    return GraphTokenProvider(
        TENANT,
        CLIENT,
        SECRET,
        login_url=login,
        graph_url=GRAPH,
        http=http,
        counter=counter,
        retry=retry or RetryPolicy(attempts=3, sleep=lambda _: None),
    )


def token_error(name: str, status: int = 400) -> httpx.Response:
    return httpx.Response(status, json=load_fixture("token-errors.json")[name])


def failure(http: httpx.Client, counter: RequestCounter) -> ApiError:
    with pytest.raises(ApiError) as caught:
        provider(http, counter).headers()
    assert SECRET not in str(caught.value)
    assert caught.value.service == "login"
    return caught.value


def test_token_is_acquired_once_and_reused(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    discovery, token = mock_login(router)
    tokens = provider(http, counter)

    assert tokens.headers() == {"Authorization": "Bearer tok-1"}
    assert tokens.headers() == {"Authorization": "Bearer tok-1"}

    assert (discovery.call_count, token.call_count) == (1, 1)
    form = token.calls[0].request.content.decode()
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in form
    assert "grant_type=client_credentials" in form
    assert counter.snapshot() == {"login": 2}


def test_a_login_host_of_our_own_needs_no_instance_discovery(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    mock_login(router, login=SANDBOX_LOGIN)  # any other request fails: respx mocks all
    tokens = provider(http, counter, login=SANDBOX_LOGIN)
    assert tokens.headers() == {"Authorization": "Bearer tok-1"}
    assert counter.snapshot() == {"login": 2}


def test_unknown_tenant_says_check_tenant_id(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    router.get(f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration").mock(
        return_value=token_error("unknown_tenant")
    )
    error = failure(http, counter)
    assert isinstance(error, AuthenticationError)
    assert f"tenant '{TENANT}' not found" in str(error)
    assert "Directory (tenant) ID" in str(error)
    assert counter.snapshot() == {"login": 1}


def test_bad_secret_says_create_a_new_secret(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    mock_login(router, token=token_error("bad_secret", status=401))
    error = failure(http, counter)
    assert isinstance(error, AuthenticationError)
    assert "Certificates & secrets" in str(error)
    assert "Value (not its ID)" in str(error)


def test_unknown_client_says_check_client_id(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    mock_login(router, token=token_error("unknown_client"))
    error = failure(http, counter)
    assert isinstance(error, AuthenticationError)
    assert f"application '{CLIENT}' not found in tenant: check Client ID" in str(error)


def test_other_errors_show_the_code_and_first_line(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    mock_login(router, token=token_error("other"))
    error = failure(http, counter)
    assert "invalid_request: AADSTS900144" in str(error)
    assert "Trace ID" not in str(error)


def test_a_failed_token_call_is_tried_again_by_the_next_run(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    router.get(f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration").mock(
        side_effect=[
            *[httpx.ConnectError("refused")] * 3,  # every attempt of the first call
            httpx.Response(200, json=openid_configuration(LOGIN)),
        ]
    )
    router.post(f"{LOGIN}/{TENANT}/oauth2/v2.0/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok-2", "expires_in": 3599})
    )
    tokens = provider(http, counter)
    with pytest.raises(TransportFailure):
        tokens.headers()
    assert tokens.headers() == {"Authorization": "Bearer tok-2"}


def test_server_error_from_the_token_endpoint(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    mock_login(router, token=httpx.Response(500, text="oops"))
    assert isinstance(failure(http, counter), ServerError)


def test_repr_hides_the_secret(http: httpx.Client, counter: RequestCounter) -> None:
    assert SECRET not in repr(provider(http, counter))


def test_errors_on_a_login_host_of_our_own_stay_offline(
    router: respx.MockRouter, http: httpx.Client, counter: RequestCounter
) -> None:
    mock_login(router, login=SANDBOX_LOGIN, token=token_error("bad_secret", status=401))
    with pytest.raises(AuthenticationError, match="Certificates & secrets"):
        provider(http, counter, login=SANDBOX_LOGIN).headers()
    assert not router.routes[2].called  # Microsoft's instance discovery
    assert counter.snapshot() == {"login": 2}
