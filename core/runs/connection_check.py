"""Test the connection: sign in to Microsoft, read one Graph user, find the Assets workspace.

Run right after setup so an admin learns what to fix before the first preview does.
Each step reports its own result, and every failure says which setting to change.
Graph needs the sign-in's token, so it is skipped when sign-in fails; so is Assets,
which keeps one fix at a time, in the order setup asks for them. Messages come from
the engine's errors, which never carry a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.clients import discover_workspace, explain_graph_permission_error
from core.errors import ApiError, AuthenticationError, ConfigError, SyncError, TransportFailure
from core.runs.service import SyncService

SIGN_IN = "Microsoft sign-in"
GRAPH = "Microsoft Graph"
ASSETS = "Jira Assets"
SKIPPED = "skipped"

NOT_CONFIGURED = (
    "The Entra connection is not configured yet: enter the Tenant ID, Client ID and "
    "client secret in setup."
)
ATLASSIAN_CREDENTIALS_FIX = (
    "Jira refused the credentials: check ENTRA_SYNC_ATLASSIAN_EMAIL and "
    "ENTRA_SYNC_ATLASSIAN_API_TOKEN (an API token of that account)"
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


def check_connection(service: SyncService) -> ConnectionCheck:
    """Run every step and report each; never raises for an engine error."""
    sign_in = _step(SIGN_IN, lambda: _sign_in(service), _sign_in_problem)
    if not sign_in.ok:
        skipped = (CheckStep(GRAPH, False, SKIPPED), CheckStep(ASSETS, False, SKIPPED))
        return ConnectionCheck(False, (sign_in, *skipped))
    steps = (
        sign_in,
        _step(GRAPH, lambda: _graph(service), _graph_problem),
        _step(ASSETS, lambda: _assets(service), _assets_problem),
    )
    return ConnectionCheck(all(step.ok for step in steps), steps)


def _step(name: str, action: Callable[[], str], problem: Callable[[SyncError], str]) -> CheckStep:
    """Run one step; an engine error becomes a failed step with what to fix."""
    try:
        return CheckStep(name, True, action())
    except SyncError as exc:
        return CheckStep(name, False, problem(exc))


def _sign_in(service: SyncService) -> str:
    service.clients.token_provider().headers()
    return "Signed in to Microsoft Entra ID."


def _graph(service: SyncService) -> str:
    service.clients.directory().probe()
    return "Microsoft Graph lets the app read users."


def _assets(service: SyncService) -> str:
    service.settings.require_atlassian()
    workspace = discover_workspace(service.clients.site())
    return f"Found the Assets workspace {workspace}."


def _sign_in_problem(exc: SyncError) -> str:
    if isinstance(exc, ConfigError):
        return NOT_CONFIGURED
    return _sentence(f"Sign-in failed: {_message(exc)}")


def _graph_problem(exc: SyncError) -> str:
    if isinstance(exc, ApiError) and exc.status == 403:
        return _sentence(f"Graph refused to list users: {explain_graph_permission_error(exc)}")
    return _sentence(f"Graph could not be read: {_message(exc)}")


def _assets_problem(exc: SyncError) -> str:
    if isinstance(exc, ConfigError):
        missing = ", ".join(p.field for p in exc.problems)
        return f"Jira settings are missing: set {missing} in the bot's environment."
    if isinstance(exc, AuthenticationError):
        return ATLASSIAN_CREDENTIALS_FIX + "."
    if isinstance(exc, TransportFailure):
        return _sentence(f"{_message(exc)}: check ENTRA_SYNC_ATLASSIAN_SITE")
    return _sentence(f"Assets could not be reached: {_message(exc)}")


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
