"""App-only sign-in to Microsoft Entra ID for Graph, through MSAL and our httpx client.

MSAL keeps the token in its in-memory cache and serves it until shortly before it
expires, so one :class:`GraphTokenProvider` per process means one token request per
run. Its HTTP goes through the shared httpx client (same proxy, CA bundle and sandbox
transport as every other API) and is counted as service ``login``.

Transient failures of the sign-in service (429, any 5xx, timeouts and resets) are
retried by :class:`_SignInHttp`, the client MSAL is given, with the run's
:class:`~core.clients.http.RetryPolicy`: ``Retry-After`` when the service sends one,
jittered backoff otherwise, at most ``attempts`` tries and no retry that would end
later than :data:`SIGN_IN_BUDGET` seconds after the first. MSAL wraps that client in
its own throttle (msal >= 1.31): an error answer of 429 or 5xx is remembered for its
``Retry-After`` (5 seconds without one) and any token request in that window is answered
from memory, without the network. Our retries sit below that throttle, so MSAL only
ever sees the final answer; when that answer is still transient MSAL remembers it, and
we never go round it: a request it answers from memory fails at once with "try again
in N s" rather than being retried. A ``Retry-After`` longer than the policy's cap or
the time left is not shortened either: the sign-in fails, naming the wait.

A permanent answer (400 or 401 with an ``AADSTS`` code: bad secret, unknown client or
tenant) is never retried.

Sign-in failures become :class:`core.errors.AuthenticationError` whose message says
which setting to fix. The client secret never appears in a message: MSAL does not
echo it, and :func:`_redact` removes it anyway should a server ever send it back.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import msal

from core.clients.http import RequestCounter, RetryPolicy, parse_retry_after
from core.errors import (
    ApiError,
    AuthenticationError,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportFailure,
)

LOGIN = "login"

log = logging.getLogger(__name__)

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

# No retry of one sign-in request starts if it would end more than this many seconds
# after the first attempt: with a 30-second HTTP timeout that bounds a sign-in to a few
# minutes at worst, and a run waiting on it fails with a clear reason instead of hanging.
SIGN_IN_BUDGET = 60.0

# How long MSAL's throttle remembers a 429 or 5xx that carries no Retry-After
# (``default_throttle_time`` of a confidential client in msal's application.py).
MSAL_DEFAULT_THROTTLE = 5.0

# MSAL's tenant discovery: the one GET whose answer a fresh process may reuse.
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


class SignInMemory(Protocol):
    """What a new process may reuse from an earlier sign-in (the store keeps it).

    ``discovery`` answers a tenant discovery URL with the JSON kept for it, or None;
    ``tokens`` is MSAL's serialised token cache for this connection, or None. A
    memory that holds nothing costs the two requests MSAL would make anyway.
    """

    def discovery(self, url: str) -> str | None: ...

    def keep_discovery(self, url: str, body: str) -> None: ...

    def tokens(self) -> str | None: ...

    def keep_tokens(self, serialized: str) -> None: ...


def is_transient(status: int) -> bool:
    """Answers of the sign-in service worth asking again: throttled or failing."""
    return status == 429 or status >= 500


@dataclass(frozen=True)
class SignInAnswer:
    """What the last sign-in request in this thread ended with, after its retries.

    ``status`` is ``None`` when no answer came (a timeout, a refused or reset
    connection; ``error`` names it). ``retry_after`` is the service's own wait, if any.
    """

    status: int | None
    attempts: int
    retry_after: float | None = None
    error: str | None = None

    @property
    def transient(self) -> bool:
        return self.status is None or is_transient(self.status)


class _SignInHttp:
    """The ``http_client`` MSAL calls: the shared httpx client, counted and retried.

    MSAL wraps whatever it gets and only reads ``status_code``, ``text`` and
    ``headers`` of the answer (its wrapper supplies ``raise_for_status``), so plain
    httpx responses do. ``close`` is a no-op: the httpx client belongs to the process.

    Every request (discovery GET and token POST alike; a client-credentials token
    request is safe to send twice) is retried here on a transient answer, below MSAL's
    throttle, so MSAL sees one final answer. :meth:`answer` tells the provider what
    that answer was in the calling thread, so a failure says "throttled" or "down"
    rather than being mistaken for a settings problem.
    """

    def __init__(
        self,
        http: httpx.Client,
        counter: RequestCounter,
        retry: RetryPolicy,
        *,
        budget: float,
        clock: Callable[[], float],
        memory: SignInMemory | None = None,
    ) -> None:
        self._http = http
        self._memory = memory
        self._counter = counter
        self._retry = retry
        self._budget = budget
        self._clock = clock
        self._local = threading.local()

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        if self._memory is None or params or not url.endswith(DISCOVERY_SUFFIX):
            return self._send("GET", url, params=params, headers=headers, kwargs=kwargs)
        kept = self._memory.discovery(url)
        if kept is not None:
            request = httpx.Request("GET", url)
            return httpx.Response(200, text=kept, headers=_JSON, request=request)
        response = self._send("GET", url, params=params, headers=headers, kwargs=kwargs)
        if response.status_code == 200 and _is_discovery_answer(response.text):
            _remember(self._memory.keep_discovery, url, response.text)
        return response

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = (
            {"content": data} if isinstance(data, str | bytes) else {"data": data}
        )
        return self._send("POST", url, params=params, headers=headers, kwargs=kwargs, body=body)

    def close(self) -> None:
        """Leave the shared client open; the process closes it."""

    def forget(self) -> None:
        """Start a sign-in: no request sent yet in this thread."""
        self._local.answers = {}

    def answer(self, method: str) -> SignInAnswer | None:
        """The last ``method`` request's outcome in this thread; ``None`` if MSAL sent none.

        Kept per method because MSAL follows a failed token POST with a GET of its own
        (instance metadata), whose answer says nothing about the token.
        """
        answers: dict[str, SignInAnswer] = getattr(self._local, "answers", {})
        return answers.get(method)

    def _record(self, method: str, answer: SignInAnswer) -> None:
        if not hasattr(self._local, "answers"):
            self._local.answers = {}
        self._local.answers[method] = answer

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            self._counter.add(LOGIN)
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    headers=_clean_headers(headers),
                    **(body or {}),
                    **_timeout(kwargs),
                )
            except httpx.TransportError as exc:
                wait = self._retry.backoff(attempt)
                if not self._may_retry(attempt, started, wait):
                    self._record(method, SignInAnswer(None, attempt, error=type(exc).__name__))
                    raise
                self._retry.sleep(wait)
                continue
            status = response.status_code
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if is_transient(status):
                wait = self._retry.backoff(attempt) if retry_after is None else retry_after
                if self._may_retry(attempt, started, wait):
                    self._retry.sleep(wait)
                    continue
            self._record(method, SignInAnswer(status, attempt, retry_after))
            return response

    def _may_retry(self, attempt: int, started: float, wait: float) -> bool:
        """Another try only within the attempts, the cap on one wait, and the budget."""
        if attempt >= self._retry.attempts or wait > self._retry.max_retry_after:
            return False
        return self._clock() - started + wait <= self._budget


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
        retry: RetryPolicy | None = None,
        budget: float = SIGN_IN_BUDGET,
        clock: Callable[[], float] = time.monotonic,
        memory: SignInMemory | None = None,
    ) -> None:
        self._tenant_id = tenant_id
        self._client_id = client_id
        self._secret = client_secret
        self._login_url = login_url.rstrip("/")
        self._scope = f"{graph_url.rstrip('/')}/.default"
        self._http = _SignInHttp(
            http, counter, retry or RetryPolicy(), budget=budget, clock=clock, memory=memory
        )
        self._memory = memory
        self._cache = msal.SerializableTokenCache()
        self._from_memory = False  # the token in use was kept by an earlier process
        self._clock = clock
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        # When MSAL's throttle stops answering from memory: set from the last transient
        # answer, read when MSAL answers a token request without sending it.
        self._throttled: tuple[SignInAnswer, float] | None = None

    def __repr__(self) -> str:
        return f"GraphTokenProvider(tenant_id={self._tenant_id!r}, client_id={self._client_id!r})"

    def headers(self) -> dict[str, str]:
        """The Authorization header for Graph; MSAL serves a cached token when it has one."""
        return {"Authorization": f"Bearer {self._token()}"}

    def _token(self) -> str:
        app = self._application()
        self._http.forget()
        try:
            result = app.acquire_token_for_client(scopes=[self._scope])
        except (httpx.TransportError, msal.exceptions.MsalServiceError, ValueError):
            # ValueError: an answer that is not JSON (a proxy's page, a throttled 429).
            raise self._unavailable("POST") from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if token:
            self._throttled = None
            if self._cache.has_state_changed:  # MSAL asked Entra: the token is our own
                self._from_memory = False
                self._keep_tokens()
            return str(token)
        answer = self._http.answer("POST")
        if (answer is not None and answer.transient) or (answer is None and self._remembered()):
            raise self._unavailable("POST")
        raise self._rejected(result if isinstance(result, dict) else {})

    def _unavailable(self, method: str) -> ApiError:
        """The service did not give a token and is not saying the settings are wrong."""
        answer = self._http.answer(method)
        if answer is None:
            remembered = self._remembered()
            if remembered is None:
                return ServerError(
                    LOGIN, "the sign-in service gave no usable answer; try again later"
                )
            answer, until = remembered
            wait = max(1, round(until - self._clock()))
            return _unavailable_error(answer, f"try again in {wait} s", remembered=True)
        if method == "POST" and answer.transient and answer.status is not None:
            seconds = (
                answer.retry_after if answer.retry_after is not None else MSAL_DEFAULT_THROTTLE
            )
            self._throttled = (answer, self._clock() + seconds)
        if answer.retry_after is not None:
            return _unavailable_error(answer, f"try again in {max(1, round(answer.retry_after))} s")
        return _unavailable_error(answer, "try again later")

    def _remembered(self) -> tuple[SignInAnswer, float] | None:
        """The transient answer MSAL's throttle is still repeating, if any."""
        throttled = self._throttled
        if throttled is None or throttled[1] <= self._clock():
            return None
        return throttled

    def _application(self) -> msal.ConfidentialClientApplication:
        """Build the MSAL app once; a failed build is retried on the next call."""
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def renew(self) -> bool:
        """After a 401: drop a token an earlier process kept, so the next request signs in.

        True when there was such a token, and the request may be sent once more. A
        token this process got itself is never dropped: asking again would get the
        same refusal, and the 401 is the answer.
        """
        with self._lock:
            if not self._from_memory:
                return False
            self._from_memory = False
            kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
            for token in list(self._cache.search(kind)):
                self._cache.remove_at(token)
        self._keep_tokens()
        return True

    def _keep_tokens(self) -> None:
        """Hand a token MSAL just got to the memory, for the next process."""
        if self._memory is not None and self._cache.has_state_changed:
            _remember(self._memory.keep_tokens, self._cache.serialize())
            self._cache.has_state_changed = False

    def _recall_tokens(self) -> None:
        """Load the tokens an earlier process kept; unreadable ones are ignored."""
        kept = self._memory.tokens() if self._memory is not None else None
        if kept:
            try:
                self._cache.deserialize(kept)
                self._from_memory = True
            except ValueError:
                log.warning("kept sign-in tokens were unreadable; signing in afresh")
            self._cache.has_state_changed = False

    def _build(self) -> msal.ConfidentialClientApplication:
        self._http.forget()
        self._recall_tokens()
        try:
            return msal.ConfidentialClientApplication(
                client_id=self._client_id,
                client_credential=self._secret,
                authority=f"{self._login_url}/{self._tenant_id}",
                http_client=self._http,
                token_cache=self._cache,
                instance_discovery=None if _is_microsoft_host(self._login_url) else False,
            )
        except (httpx.TransportError, msal.exceptions.MsalServiceError, RuntimeError):
            raise self._unavailable("GET") from None
        except ValueError as exc:
            answer = self._http.answer("GET")
            if answer is not None and (answer.transient or answer.status == 200):
                # A 429 reads to MSAL like a 4xx, and a 200 that is not JSON is no tenant
                # verdict either: neither means the tenant is wrong.
                raise self._unavailable("GET") from None
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


def _unavailable_error(answer: SignInAnswer, advice: str, *, remembered: bool = False) -> ApiError:
    """Network trouble, throttling or a 5xx from the sign-in service: not a settings problem."""
    tries = "" if remembered else f" after {answer.attempts} attempt{'s' * (answer.attempts != 1)}"
    if answer.status is None:
        message = f"could not reach the sign-in service ({answer.error}){tries}; {advice}"
        return TransportFailure(LOGIN, message)
    if answer.status == 429:
        message = f"the sign-in service is throttling requests{tries}; {advice}"
        return RateLimited(LOGIN, message, status=429)
    if answer.status >= 500:
        message = f"the sign-in service failed{tries}; {advice}"
        return ServerError(LOGIN, message, status=answer.status)
    return ServerError(LOGIN, f"the sign-in service gave no usable answer; {advice}")


_JSON = {"content-type": "application/json"}


def _is_discovery_answer(text: str) -> bool:
    """Only a document MSAL can use is kept: a JSON object naming a token endpoint."""
    try:
        document = json.loads(text)
    except ValueError:
        return False
    return isinstance(document, dict) and isinstance(document.get("token_endpoint"), str)


def _remember(keep: Callable[..., None], *args: str) -> None:
    """Keep something for the next process; failing to is never this sign-in's failure."""
    try:
        keep(*args)
    except Exception:  # a busy or read-only database costs the next process a request
        log.warning("could not keep a sign-in answer for the next process", exc_info=True)


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]") if secret else text


def _is_microsoft_host(login_url: str) -> bool:
    return (urlsplit(login_url).hostname or "").lower() in MICROSOFT_LOGIN_HOSTS


def explain_graph_permission_error(err: ApiError) -> str:
    """What to fix when Graph refuses to list users; other errors speak for themselves."""
    if isinstance(err, PermissionDenied) or err.status == 403:
        return GRAPH_PERMISSION_FIX
    return str(err)
