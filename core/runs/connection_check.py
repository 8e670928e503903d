"""Test every credential a sync uses, one cheap request each, and say what to fix.

Run right after setup (``/entra setup``, ``entra-sync check-connection``) so an admin
learns what to fix before the first preview does. The steps, in the order setup asks
for them:

* Microsoft: the sign-in, then one Graph read of users (needs the sign-in's token,
  so it is skipped when sign-in fails).
* Atlassian, which does not depend on Microsoft: one Jira user search (the API token
  and the Browse users and groups permission), the Assets workspace, then the list of
  object schemas (can the account read Assets, and is the ENTRA schema there yet). A
  later step is skipped when an earlier one shows it cannot work: no settings, a
  refused token, an unreachable site. A missing Browse users permission does not stop
  the Assets steps, which do not need it.
* The organization admin key, when one is set: one read of the organization's users.

Each step reports its own result, and every failure names the setting and the fix.
Messages come from the engine's errors, which never carry a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.clients import explain_graph_permission_error, find_our_schema
from core.config import (
    ENV_ATLASSIAN_EMAIL,
    ENV_ATLASSIAN_ORG_API_KEY,
    ENV_ATLASSIAN_ORG_ID,
    ENV_ATLASSIAN_SITE,
    TokenKind,
)
from core.errors import (
    ApiError,
    AuthenticationError,
    ConfigError,
    NotFound,
    PermissionDenied,
    SchemaConflict,
    SyncError,
    TransportFailure,
)
from core.runs.service import SyncService

SIGN_IN = "Microsoft sign-in"
GRAPH = "Microsoft Graph"
JIRA = "Jira users"
ASSETS = "Assets workspace"
SCHEMAS = "Assets schemas"
ORG = "Atlassian organization"
SKIPPED = "skipped"

NOT_CONFIGURED = (
    "The Entra connection is not configured yet: enter the Tenant ID, Client ID and "
    "client secret in setup."
)
BROWSE_USERS_FIX = (
    f"Jira did not let the account list users: give the account of {ENV_ATLASSIAN_EMAIL} "
    "the Browse users and groups global permission (Jira settings > System > Global "
    "permissions)"
)
SCOPED_USERS_FIX = "; a scoped token also needs the read:jira-user scope"
ORG_NOT_SET = (
    f"Not set, which is optional: without {ENV_ATLASSIAN_ORG_ID} and "
    f"{ENV_ATLASSIAN_ORG_API_KEY}, emails that profile visibility hides stay hidden and "
    "those accounts are not matched."
)


@dataclass(frozen=True)
class CheckStep:
    name: str
    ok: bool
    message: str


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    steps: tuple[CheckStep, ...]


class _Refused(SyncError):
    """A step's answer was a success that shows the access is missing (its message says)."""


def check_connection(service: SyncService) -> ConnectionCheck:
    """Run every step and report each; never raises for an engine error."""
    steps = (*_microsoft(service), *_atlassian(service), _org(service))
    return ConnectionCheck(all(step.ok for step in steps), steps)


def _microsoft(service: SyncService) -> tuple[CheckStep, ...]:
    sign_in, failed = _run(SIGN_IN, lambda: _sign_in(service), _sign_in_problem)
    if failed is not None:
        return sign_in, _skipped(GRAPH)
    graph, _ = _run(GRAPH, lambda: _graph(service), _graph_problem)
    return sign_in, graph


def _atlassian(service: SyncService) -> tuple[CheckStep, ...]:
    kind = service.settings.atlassian_token_kind
    jira, failed = _run(JIRA, lambda: _jira(service), lambda exc: _jira_problem(exc, kind))
    if failed is not None and not isinstance(failed, PermissionDenied | _Refused):
        return jira, _skipped(ASSETS), _skipped(SCHEMAS)  # the same credentials would fail
    workspace, failed = _run(ASSETS, lambda: _workspace(service), _assets_problem)
    if failed is not None:
        return jira, workspace, _skipped(SCHEMAS)
    schemas, _ = _run(SCHEMAS, lambda: _schemas(service), _schemas_problem)
    return jira, workspace, schemas


def _org(service: SyncService) -> CheckStep:
    if not service.settings.has_org_admin:
        return CheckStep(ORG, True, ORG_NOT_SET)
    step, _ = _run(ORG, lambda: _org_users(service), _org_problem)
    return step


def _run(
    name: str, action: Callable[[], str], problem: Callable[[SyncError], str]
) -> tuple[CheckStep, SyncError | None]:
    """Run one step; an engine error becomes a failed step with what to fix."""
    try:
        return CheckStep(name, True, action()), None
    except SyncError as exc:
        return CheckStep(name, False, problem(exc)), exc


def _skipped(name: str) -> CheckStep:
    return CheckStep(name, False, SKIPPED)


# -- the actions: one cheap request each -----------------------------------------------


def _sign_in(service: SyncService) -> str:
    service.clients.fresh_token_provider().headers()  # a kept token would prove nothing
    return "Signed in to Microsoft Entra ID."


def _graph(service: SyncService) -> str:
    service.clients.directory().probe()
    return "Microsoft Graph lets the app read users (the User.Read.All application permission)."


def _jira(service: SyncService) -> str:
    settings = service.settings
    settings.require_atlassian()
    directory = service.clients.atlassian()
    if directory.probe() == 0:  # the account asking is a user: an empty list hides some
        raise _Refused(BROWSE_USERS_FIX)
    if settings.atlassian_token_kind is TokenKind.SCOPED:
        cloud_id = service.clients.routes().cloud_id
        return (
            f"Jira lets the scoped API token list users (through the gateway, cloud id {cloud_id})."
        )
    return "Jira lets the classic API token list users."


def _workspace(service: SyncService) -> str:
    return f"Found the Assets workspace {service.clients.look_up_workspace()}."


def _schemas(service: SyncService) -> str:
    schema = find_our_schema(service.clients.assets().schemas())
    if schema is None:
        return (
            "Assets lets the account list object schemas; the ENTRA schema does not exist "
            "yet, which is fine before `/entra schema` (or `entra-sync schema`) creates it."
        )
    return "Assets lets the account list object schemas, and the ENTRA schema exists."


def _org_users(service: SyncService) -> str:
    service.clients.atlassian().probe_org()
    return "The organization API key may read the organization's users (for hidden emails)."


# -- what each failure means ----------------------------------------------------------


def _sign_in_problem(exc: SyncError) -> str:
    if isinstance(exc, ConfigError):
        return NOT_CONFIGURED
    return _sentence(f"Sign-in failed: {_message(exc)}")


def _graph_problem(exc: SyncError) -> str:
    if isinstance(exc, ApiError) and exc.status == 403:
        return _sentence(f"Graph refused to list users: {explain_graph_permission_error(exc)}")
    return _sentence(f"Graph could not be read: {_message(exc)}")


def _jira_problem(exc: SyncError, kind: TokenKind) -> str:
    scoped = SCOPED_USERS_FIX if kind is TokenKind.SCOPED else ""
    if isinstance(exc, _Refused | PermissionDenied):
        return _sentence(BROWSE_USERS_FIX + scoped)
    return _atlassian_problem(exc, "Jira")


def _assets_problem(exc: SyncError) -> str:
    if isinstance(exc, PermissionDenied):
        return _sentence(
            f"Jira refused to name the Assets workspace ({_message(exc)}): the account needs "
            "access to Jira Service Management; a scoped token also needs the "
            "read:servicedesk-request scope"
        )
    return _atlassian_problem(exc, "Assets")


def _schemas_problem(exc: SyncError) -> str:
    if isinstance(exc, SchemaConflict):
        return str(exc)
    if isinstance(exc, PermissionDenied):
        return _sentence(
            f"Assets refused to list object schemas ({_message(exc)}): see "
            "docs/atlassian-access.md for the Assets role (classic token) or the cmdb scopes "
            "(scoped token) the account needs"
        )
    return _atlassian_problem(exc, "Assets")


def _atlassian_problem(exc: SyncError, what: str) -> str:
    """Missing settings, a refused token, an unreachable site: the same for every step."""
    if isinstance(exc, ConfigError):
        missing = ", ".join(p.field for p in exc.problems)
        return f"Jira settings are missing: set {missing} in the bot's environment."
    if isinstance(exc, AuthenticationError):  # its message says what to check, by kind
        return _sentence(_message(exc))
    if isinstance(exc, TransportFailure):
        return _sentence(f"{_message(exc)}: check {ENV_ATLASSIAN_SITE}")
    return _sentence(f"{what} could not be read: {_message(exc)}")


def _org_problem(exc: SyncError) -> str:
    if isinstance(exc, AuthenticationError):  # its message names the key and the org id
        return _sentence(_message(exc))
    if isinstance(exc, PermissionDenied):
        return _sentence(
            f"The organization refused to list its users ({_message(exc)}): check that "
            f"{ENV_ATLASSIAN_ORG_API_KEY} is an organization API key with access to users"
        )
    if isinstance(exc, NotFound):
        return _sentence(
            f"No such organization ({_message(exc)}): check {ENV_ATLASSIAN_ORG_ID}, the id "
            "in admin.atlassian.com's address after /o/"
        )
    return _sentence(f"The organization admin API could not be read: {_message(exc)}")


def _message(exc: SyncError) -> str:
    """An API error's message without the ``service HTTP n (GET path):`` prefix."""
    text = str(exc)
    if not isinstance(exc, ApiError):
        return text
    code = f" HTTP {exc.status}" if exc.status is not None else ""
    where = f" ({exc.method} {exc.path})" if exc.method and exc.path else ""
    return text.removeprefix(f"{exc.service}{code}{where}: ")


def _sentence(text: str) -> str:
    """Ending in a full stop, however the error was phrased."""
    words = text.strip()
    return words if words.endswith((".", "!", "?")) else words + "."
