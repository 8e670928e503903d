"""Why a run failed, in words a person can act on.

A failed run stores one :class:`FailureCause`, so the scheduler can tell "the secret
expired three nights running" (one alert, one fix) from three unrelated failures.
Re-exported by :mod:`core.runs.scheduled`, which is where the bot imports it from.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import (
    AuthenticationError,
    InvalidInput,
    PermissionDenied,
    RateLimited,
    SchemaConflict,
    SchemaMissing,
    ServerError,
    TransportFailure,
)


class FailureCause(StrEnum):
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    SERVER = "server"
    TRANSPORT = "transport"
    CONFIGURATION = "configuration"
    OTHER = "other"


SYSTEMIC_CAUSES = frozenset(
    {
        FailureCause.AUTHENTICATION,
        FailureCause.PERMISSION,
        FailureCause.SERVER,
        FailureCause.TRANSPORT,
    }
)
"""Causes that fail every run the same way until someone fixes something outside."""

_CAUSES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], FailureCause], ...] = (
    (AuthenticationError, FailureCause.AUTHENTICATION),
    (PermissionDenied, FailureCause.PERMISSION),
    ((ServerError, RateLimited), FailureCause.SERVER),
    (TransportFailure, FailureCause.TRANSPORT),
    ((InvalidInput, SchemaMissing, SchemaConflict), FailureCause.CONFIGURATION),
)

_FIXES = {
    FailureCause.AUTHENTICATION: (
        "Check the tenant ID, client ID and secret with /entra setup; the secret may have expired."
    ),
    FailureCause.PERMISSION: (
        "Grant the app registration User.Read.All (admin consent) in Entra, and check that "
        "the Atlassian account can administer Assets."
    ),
    FailureCause.SERVER: (
        "Microsoft or Atlassian kept answering with server errors or throttling; check their "
        "status pages, the next check will try again."
    ),
    FailureCause.TRANSPORT: (
        "The APIs could not be reached; check the network, proxy and DNS of the host running "
        "the bot."
    ),
    FailureCause.CONFIGURATION: (
        "Fix the configuration the error names (environment, Entra connection or the ENTRA "
        "schema), then run /entra sync to check."
    ),
    FailureCause.OTHER: "Read the error above; if it repeats, report it with the run number.",
}


def failure_cause(exc: BaseException) -> FailureCause:
    """The cause class of an exception a run ended with; OTHER for anything unexpected."""
    for types, cause in _CAUSES:
        if isinstance(exc, types):
            return cause
    return FailureCause.OTHER


def cause_fix(cause: FailureCause) -> str:
    """What to do about ``cause``, in one sentence."""
    return _FIXES[FailureCause(cause)]
