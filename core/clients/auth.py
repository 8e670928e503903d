"""App-only sign-in to Microsoft Entra ID for Graph, through MSAL and our httpx client.

MSAL keeps the token in its in-memory cache and serves it until shortly before it
expires, so one :class:`GraphTokenProvider` per process means one token request per
run. Its HTTP goes through the shared httpx client (same proxy, CA bundle and sandbox
transport as every other API) and is counted as service ``login``.

Sign-in failures become :class:`core.errors.AuthenticationError` whose message says
which setting to fix. The client secret never appears in a message: MSAL does not
echo it, and :func:`_redact` removes it anyway should a server ever send it back.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal

from core.clients.http import RequestCounter
from core.errors import (
    ApiError,
    AuthenticationError,
    PermissionDenied,
    ServerError,
    TransportFailure,
)

LOGIN = "login"

# Hosts MSAL already knows. Anything else (a proxy, a sandbox) must skip instance
# discovery, which would otherwise call login.microsoftonline.com from the constructor.
MICROSOFT_LOGIN_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"}
)

TENANT_FIX = "check Tenant ID (Directory (tenant) ID on the app registration overview)"
INVALID_CLIENT_FIX = (
    "client secret is invalid or expired: create a new secret under Certificates & "
    "secrets and paste its Value (not its ID)"
)
GRAPH_PERMISSION_FIX = (
    "the app lacks the User.Read.All application permission, or admin consent was not granted"
)

_AADSTS = re.compile(r"AADSTS(\d+)")


class _CountingHttp:
    """The ``http_client`` MSAL calls: the shared httpx client, each request counted.

    MSAL wraps whatever it gets and only reads ``status_code``, ``text`` and
    ``headers`` of the answer (its wrapper supplies ``raise_for_status``), so plain
    httpx responses do. ``close`` is a no-op: the httpx client belongs to the process.
    """

    def __init__(self, http: httpx.Client, counter: RequestCounter) -> None:
        self._http = http
        self._counter = counter

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        self._counter.add(LOGIN)
        return self._http.get(
            url, params=params, headers=_clean_headers(headers), **_timeout(kwargs)
        )

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        self._counter.add(LOGIN)
        body: dict[str, Any] = (
            {"content": data} if isinstance(data, str | bytes) else {"data": data}
        )
        return self._http.post(
            url, params=params, headers=_clean_headers(headers), **body, **_timeout(kwargs)
        )

    def close(self) -> None:
        """Leave the shared client open; the process closes it."""


def _clean_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """MSAL may pass ``None`` values (e.g. no correlation id); httpx rejects them."""
    return {k: str(v) for k, v in (headers or {}).items() if v is not None}


def _timeout(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Forward only ``timeout``; other requests-style kwargs mean nothing to httpx."""
    return {"timeout": kwargs["timeout"]} if kwargs.get("timeout") is not None else {}


class GraphTokenProvider:
    """One msal.ConfidentialClientApplication per process; its in-memory token cache is reused.

    The app is built on first use, not in ``__init__``, because building it fetches
    the tenant's OpenID configuration: configuration checks should not need a network.
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        login_url: str,
        graph_url: str,
        http: httpx.Client,
        counter: RequestCounter,
    ) -> None:
        self._tenant_id = tenant_id
        self._client_id = client_id
        self._secret = client_secret
        self._login_url = login_url.rstrip("/")
        self._scope = f"{graph_url.rstrip('/')}/.default"
        self._http = _CountingHttp(http, counter)
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GraphTokenProvider(tenant_id={self._tenant_id!r}, client_id={self._client_id!r})"

    def headers(self) -> dict[str, str]:
        """The Authorization header for Graph; MSAL serves a cached token when it has one."""
        return {"Authorization": f"Bearer {self._token()}"}

    def _token(self) -> str:
        app = self._application()
        try:
            result = app.acquire_token_for_client(scopes=[self._scope])
        except (httpx.TransportError, msal.exceptions.MsalServiceError) as exc:
            raise _service_failure(exc) from None
        except ValueError:  # MSAL parses the answer itself; a proxy's web page is no token
            raise ApiError(LOGIN, "the token answer is not JSON; is a proxy answering?") from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if token:
            return str(token)
        raise self._rejected(result if isinstance(result, dict) else {})

    def _application(self) -> msal.ConfidentialClientApplication:
        """Build the MSAL app once; a failed build is retried on the next call."""
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def _build(self) -> msal.ConfidentialClientApplication:
        try:
            return msal.ConfidentialClientApplication(
                client_id=self._client_id,
                client_credential=self._secret,
                authority=f"{self._login_url}/{self._tenant_id}",
                http_client=self._http,
                instance_discovery=None if _is_microsoft_host(self._login_url) else False,
            )
        except (httpx.TransportError, msal.exceptions.MsalServiceError) as exc:
            raise _service_failure(exc) from None
        except ValueError as exc:
            raise self._build_error(exc) from None

    def _build_error(self, exc: ValueError) -> AuthenticationError:
        """MSAL drops the AADSTS90002 text on an unknown tenant; say what it means."""
        if str(exc).startswith("Your given address"):
            return AuthenticationError(
                LOGIN, f"login URL '{self._login_url}' is not a valid https URL: check the cloud"
            )
        return AuthenticationError(LOGIN, f"tenant '{self._tenant_id}' not found: {TENANT_FIX}")

    def _rejected(self, result: Mapping[str, Any]) -> AuthenticationError:
        """Turn an MSAL error result into the setting an admin has to fix."""
        codes = _error_codes(result)
        if codes & {"7000215", "7000222"}:
            message = INVALID_CLIENT_FIX
        elif "700016" in codes:
            message = f"application '{self._client_id}' not found in tenant: check Client ID"
        elif codes & {"90002", "900023"}:
            message = f"tenant '{self._tenant_id}' not found: {TENANT_FIX}"
        else:
            error = str(result.get("error") or "unknown_error")
            first_line = str(result.get("error_description") or "").strip().splitlines()[:1]
            message = _redact(": ".join([error, *first_line]), self._secret)
        return AuthenticationError(LOGIN, message)


def _error_codes(result: Mapping[str, Any]) -> set[str]:
    """AADSTS codes from ``error_codes`` and from the description, as strings."""
    codes = {str(code) for code in result.get("error_codes") or []}
    codes.update(_AADSTS.findall(str(result.get("error_description") or "")))
    return codes


def _service_failure(exc: Exception) -> ApiError:
    """Network trouble or a 5xx from the sign-in service: not a settings problem."""
    if isinstance(exc, httpx.TransportError):
        reason = type(exc).__name__
        return TransportFailure(LOGIN, f"could not reach the sign-in service ({reason})")
    return ServerError(LOGIN, "the sign-in service failed; try again later")


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]") if secret else text


def _is_microsoft_host(login_url: str) -> bool:
    return (urlsplit(login_url).hostname or "").lower() in MICROSOFT_LOGIN_HOSTS


def explain_graph_permission_error(err: ApiError) -> str:
    """What to fix when Graph refuses to list users; other errors speak for themselves."""
    if isinstance(err, PermissionDenied) or err.status == 403:
        return GRAPH_PERMISSION_FIX
    return str(err)
