"""Response helpers and the error bodies each real service sends.

Handlers raise :class:`HttpError` deep inside validation code; :mod:`core.sandbox.app`
turns it into the response. Each service has its own error shape, so clients under
test see the same bodies they would see in production.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

JsonDict = dict[str, Any]


class HttpError(Exception):
    """An error answer, raised so validation code can stop at the first problem."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def response(self) -> httpx.Response:
        return json_response(self.status, self.body, self.headers)


def json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """A JSON answer with compact encoding, like the real services send."""
    content = json.dumps(body, separators=(",", ":")).encode()
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return httpx.Response(status, content=content, headers=all_headers)


def text_response(status: int, text: str) -> httpx.Response:
    return httpx.Response(
        status, content=text.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
    )


def graph_error(status: int, code: str, message: str) -> HttpError:
    """Graph's ``{"error": {"code", "message", "innerError"}}`` shape."""
    request_id = str(uuid.uuid4())
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"request-id": request_id, "client-request-id": request_id},
        }
    }
    return HttpError(status, body, {"request-id": request_id})


def login_error(status: int, error: str, description: str) -> HttpError:
    """The OAuth 2.0 error shape Microsoft's token endpoint sends."""
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [int(description[6:].split(":", maxsplit=1)[0])]
        if description.startswith("AADSTS")
        else [],
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }
    return HttpError(status, body)


def atlassian_error(
    status: int, messages: list[str] | None = None, errors: Mapping[str, str] | None = None
) -> HttpError:
    """Jira's and Assets' ``{"errorMessages": [...], "errors": {...}}`` shape."""
    return HttpError(status, {"errorMessages": messages or [], "errors": dict(errors or {})})


def admin_error(status: int, message: str) -> HttpError:
    """The ``{"code", "message"}`` shape of api.atlassian.com: the org admin API's and the
    gateway's own refusals (``Unauthorized; scope does not match``)."""
    return HttpError(status, {"code": status, "message": message})


GATEWAY = "sandbox.gateway"
"""Request extension set on a request that came through ``/ex/jira/<cloud id>``."""


def via_gateway(request: httpx.Request) -> bool:
    """True when the request reached Jira or Assets through the API gateway."""
    return bool(request.extensions.get(GATEWAY))


def service_error(service: str, status: int, message: str) -> HttpError:
    """A generic error (used by faults) in the body shape of ``service``."""
    if service == "graph":
        code = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
        return graph_error(status, code.get(status, "UnknownError"), message)
    if service == "login":
        return login_error(status, "temporarily_unavailable", f"AADSTS50196: {message}")
    if service == "admin":
        return admin_error(status, message)
    return atlassian_error(status, [message])


def json_body(request: httpx.Request) -> JsonDict:
    """The request body as a JSON object, or an Atlassian-style 400."""
    try:
        data = json.loads(request.content or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise atlassian_error(400, ["Request body is not a JSON object"])
    return data


def int_param(request: httpx.Request, name: str, default: int, error: HttpError) -> int:
    """An integer query parameter, raising ``error`` when it is not one."""
    raw = request.url.params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise error from None


def basic_credentials(request: httpx.Request) -> tuple[str, str] | None:
    """``(user, password)`` from a Basic ``Authorization`` header, if well formed."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def bearer_token(request: httpx.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def origin(request: httpx.Request) -> str:
    """``scheme://host[:port]`` of the request, for links the service hands back."""
    return f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
