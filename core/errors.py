"""Errors the engine raises on purpose.

::

    SyncError
    ├── InvalidInput            bad user input; names every field and rule (exit 2)
    │   └── ConfigError         bad or missing process configuration (exit 2)
    ├── SchemaConflict          another schema already uses the key ENTRA
    ├── SchemaMissing           the ENTRA schema or its Employee type is not there yet
    └── ApiError                an API answered with an error, or could not be reached
        ├── AuthenticationError 401, or the token endpoint refused the credentials
        ├── PermissionDenied    403
        ├── NotFound            404
        ├── RateLimited         429 still answered after the retries
        ├── ServerError         5xx still answered after the retries
        ├── TransportFailure    timeouts, refused connections, TLS failures
        └── RequestRejected     any other 4xx (validation errors on writes)

Messages never contain a secret: API error bodies are summarised, never echoed whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SyncError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    rule: str


class InvalidInput(SyncError):
    """One or more fields are invalid; the message names every one of them."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        details = "; ".join(f"{p.field}: {p.rule}" for p in self.problems)
        super().__init__(f"Invalid input: {details}")


class ConfigError(InvalidInput):
    """Process configuration (environment) is invalid or incomplete."""


class SchemaConflict(SyncError):
    """Another schema uses our key; we refuse to write into it."""


class SchemaMissing(SyncError):
    """The ENTRA schema, its Employee type or one of its attributes is missing."""


class ApiError(SyncError):
    """An API call failed. ``service`` is one of login, graph, jira, admin, assets."""

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.service = service
        self.status = status
        self.method = method
        self.path = path
        where = f" ({method} {path})" if method and path else ""
        code = f" HTTP {status}" if status is not None else ""
        super().__init__(f"{service}{code}{where}: {message}")


class AuthenticationError(ApiError):
    pass


class PermissionDenied(ApiError):
    pass


class NotFound(ApiError):
    pass


class RateLimited(ApiError):
    pass


class ServerError(ApiError):
    pass


class TransportFailure(ApiError):
    pass


class RequestRejected(ApiError):
    pass


class IncompleteRead(ServerError):
    """An answer that succeeded but holds less than the service itself counts.

    Planning on it would create duplicates or inactivate people who are there, so
    the run stops before its first write, as for any other read error.
    """


class UnreadableAnswer(ServerError):
    """A success whose body is not what the API sends: not JSON, or missing what it names.

    Something between us and the service spoiled it (a proxy's page, a connection cut
    mid-body, a field withheld). A read that gets one stops the run before any write;
    a create that gets one may have happened, so it is looked up before being resent.
    """
