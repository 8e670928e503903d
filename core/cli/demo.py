"""``entra-sync demo``: the whole story on the in-process sandbox, with a throwaway database.

Schema, preview, sync, then a directory change (someone leaves, someone changes title,
a new hire), preview and sync again, and the status page. Every step prints the
requests each sandbox service received and the time it took.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from core.config import Settings, TokenKind, load_settings
from core.errors import FieldProblem, InvalidInput
from core.runs import ScheduledSync, SyncService, requests_text, status_text
from core.sandbox import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_EMAIL,
    SANDBOX_ATLASSIAN_SCOPED_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ORG_API_KEY,
    SANDBOX_ORG_ID,
    SANDBOX_TENANT_ID,
    Sandbox,
)
from core.sync import Attr, plan_text

T = TypeVar("T")

IN_PROCESS_HOSTS = {
    "ENTRA_SYNC_LOGIN_URL": "https://login.sandbox.invalid",
    "ENTRA_SYNC_GRAPH_URL": "https://graph.sandbox.invalid",
    "ENTRA_SYNC_ATLASSIAN_SITE": "https://contoso.sandbox.invalid",
    "ENTRA_SYNC_ATLASSIAN_API_URL": "https://api.sandbox.invalid",
}


def sandbox_environ(database_url: str, token_kind: TokenKind = TokenKind.CLASSIC) -> dict[str, str]:
    """Settings that point the engine at the in-process sandbox.

    ``token_kind`` picks which of the sandbox account's two API tokens is used: the
    classic one goes to the site, the scoped one through the gateway.
    """
    scoped = token_kind is TokenKind.SCOPED
    return {
        **IN_PROCESS_HOSTS,
        "ENTRA_SYNC_DATABASE_URL": database_url,
        "ENTRA_SYNC_ATLASSIAN_EMAIL": SANDBOX_ATLASSIAN_EMAIL,
        "ENTRA_SYNC_ATLASSIAN_API_TOKEN": (
            SANDBOX_ATLASSIAN_SCOPED_TOKEN if scoped else SANDBOX_ATLASSIAN_API_TOKEN
        ),
        "ENTRA_SYNC_ATLASSIAN_TOKEN_KIND": token_kind.value,
        "ENTRA_SYNC_ATLASSIAN_ORG_ID": SANDBOX_ORG_ID,
        "ENTRA_SYNC_ATLASSIAN_ORG_API_KEY": SANDBOX_ORG_API_KEY,
        "ENTRA_SYNC_ASSETS_RATE": "0",  # the sandbox has no rate limit to respect
    }


def sandbox_service(sandbox: Sandbox, settings: Settings) -> SyncService:
    return SyncService.open(settings, transport=sandbox.transport())


def configure_sandbox(service: SyncService, cadence_days: int = 7) -> None:
    service.configure(
        SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, cadence_days, "demo"
    )


def run_demo(
    *,
    people: int = 60,
    atlassian: int = 45,
    seed: int = 7,
    token_kind: TokenKind = TokenKind.CLASSIC,
) -> int:
    print(
        f"Building a sandbox organisation: {people} directory users, "
        f"{atlassian} Atlassian accounts (seed {seed}), a {token_kind.value} API token"
    )
    sandbox = sandbox_of_size(people, atlassian, seed)
    with tempfile.TemporaryDirectory(prefix="entra-sync-demo-") as tmp:
        db = Path(tmp) / "demo.db"
        environ = sandbox_environ(f"sqlite:///{db}", token_kind)
        settings = load_settings(environ, env_file=None)
        service = sandbox_service(sandbox, settings)
        try:
            _story(sandbox, service)
        finally:
            service.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak memory {peak:.0f} MiB. Nothing outside this process was touched.")
    return 0


def sandbox_of_size(people: int, atlassian: int, seed: int) -> Sandbox:
    """The sandbox organisation, or ``InvalidInput`` when it cannot have that size."""
    try:
        return Sandbox(seed=seed, people=people, atlassian=atlassian)
    except ValueError as exc:  # its minimums and ratios; the message names which
        raise InvalidInput([FieldProblem("--people/--atlassian", str(exc))]) from None


def _step(sandbox: Sandbox, title: str, action: Callable[[], T]) -> T:
    print(f"\n== {title}")
    sandbox.reset_counts()
    started = time.monotonic()
    result = action()
    received = {k: v for k, v in sandbox.requests.items() if v}
    print(f"   sandbox received {requests_text(received)} in {time.monotonic() - started:.2f}s")
    return result


def _story(sandbox: Sandbox, service: SyncService) -> None:
    _step(sandbox, "1. Connect Entra (configure)", lambda: configure_sandbox(service))
    report = _step(sandbox, "2. Create the schema", lambda: service.create_schema("demo"))
    print(
        f"   created schema: {report.created_schema}, "
        f"attributes: {', '.join(report.created_attributes)}"
    )
    _preview_and_sync(sandbox, service, 3)
    _directory_changes(sandbox)
    _preview_and_sync(sandbox, service, 6)
    again = _step(sandbox, "8. Preview once more", lambda: service.preview("demo"))
    print(f"   {again.plan.write_count} changes: Assets matches the directory")
    print("\n== 9. Status")
    print(status_text(service.status()))
    print(f"Schedule: {ScheduledSync(service).status().summary}")


def _preview_and_sync(sandbox: Sandbox, service: SyncService, number: int) -> None:
    result = _step(sandbox, f"{number}. Preview", lambda: service.preview("demo"))
    print(plan_text(result.plan, limit=5))
    synced = _step(sandbox, f"{number + 1}. Sync", lambda: service.sync("demo"))
    applied = synced.applied
    ok = applied.succeeded if applied else 0
    failed = applied.failed if applied else 0
    print(f"   {synced.status.value}: {ok} writes applied, {failed} failed")


def _directory_changes(sandbox: Sandbox) -> None:
    print("\n== 5. Meanwhile, in the directory")
    employees = [e for e in sandbox.employees() if e["attributes"].get(Attr.ACTIVE.value) == "true"]
    leaver, promoted = employees[0], employees[1]
    leaver_id = leaver["attributes"][Attr.ENTRA_USER_ID.value]
    promoted_id = promoted["attributes"][Attr.ENTRA_USER_ID.value]
    sandbox.disable_user(leaver_id)
    print(f"   {leaver['attributes'][Attr.FULL_NAME.value]} leaves (account disabled)")
    sandbox.set_job_title(promoted_id, "Head of Platform")
    print(f"   {promoted['attributes'][Attr.FULL_NAME.value]} becomes Head of Platform")
    sandbox.hire("Grace Hopper", "Engineering", "Staff Engineer", promoted_id)
    print(
        "   Grace Hopper joins Engineering, reporting to "
        f"{promoted['attributes'][Attr.FULL_NAME.value]}"
    )
