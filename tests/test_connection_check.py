"""The connection check on the in-process sandbox: each step passes or says what to fix.

Every credential a sync uses is tried once: the Microsoft sign-in and a Graph read, a
Jira user search, the Assets workspace and schemas, and the org admin key when set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import TokenKind, load_settings
from core.runs import SKIPPED, SyncService, check_connection
from core.runs.connection_check import (
    ASSETS,
    GRAPH,
    JIRA,
    NOT_CONFIGURED,
    ORG,
    SCHEMAS,
    SIGN_IN,
)
from core.sandbox import (
    SANDBOX_ATLASSIAN_SCOPED_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLOUD_ID,
    SANDBOX_TENANT_ID,
    Answer,
    Fault,
    Sandbox,
)
from core.store import Store, load_cipher

WRONG_SECRET = "wrong-secret-do-not-print-9Z~q"
WRONG_TOKEN = "wrong-api-token-do-not-print"
WRONG_KEY = "wrong-org-key-do-not-print"
STEPS = [SIGN_IN, GRAPH, JIRA, ASSETS, SCHEMAS, ORG]


class Build(Protocol):
    """The ``build`` fixture: a service on the sandbox with these ENTRA_SYNC_* changes.

    A name with ``None`` leaves that variable out.
    """

    def __call__(self, kind: TokenKind = TokenKind.CLASSIC, **env: str | None) -> SyncService: ...


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=40, atlassian=30)


@pytest.fixture
def build(tmp_path: Path, sandbox: Sandbox) -> Iterator[Build]:
    built: list[SyncService] = []

    def make(kind: TokenKind = TokenKind.CLASSIC, **env: str | None) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}", kind),
            "ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
        }
        for name, value in env.items():
            environ.pop(f"ENTRA_SYNC_{name}")
            if value is not None:
                environ[f"ENTRA_SYNC_{name}"] = value
        settings = load_settings(environ, env_file=None)
        store = Store(settings.database_url, load_cipher(settings))
        retry = RetryPolicy(sleep=lambda _: None)
        service = SyncService(settings, store, transport=sandbox.transport(), retry=retry)
        built.append(service)
        return service

    yield make
    for service in built:
        service.close()
        service.store.close()


def messages(service: SyncService) -> dict[str, tuple[bool, str]]:
    check = check_connection(service)
    assert check.ok == all(step.ok for step in check.steps)
    assert [step.name for step in check.steps] == STEPS
    return {step.name: (step.ok, step.message) for step in check.steps}


def passed(steps: dict[str, tuple[bool, str]], *names: str) -> bool:
    return all(steps[name][0] for name in names)


def test_every_step_passes_on_a_working_setup(build: Build) -> None:
    """Configured sandbox with a classic token: every step passes and says what works."""
    service = build()
    configure_sandbox(service)
    check = check_connection(service)
    assert check.ok
    steps = {step.name: step.message for step in check.steps}
    assert "User.Read.All" in steps[GRAPH]
    assert "classic API token" in steps[JIRA]
    assert "workspace" in steps[ASSETS]
    assert "does not exist yet" in steps[SCHEMAS]
    assert "/entra schema" in steps[SCHEMAS]
    assert "organization API key" in steps[ORG]


def test_a_scoped_token_passes_through_the_gateway(build: Build, sandbox: Sandbox) -> None:
    service = build(TokenKind.SCOPED)
    configure_sandbox(service)
    service.create_schema("test")
    steps = messages(service)
    assert passed(steps, *STEPS)
    assert "scoped API token" in steps[JIRA][1]
    assert SANDBOX_CLOUD_ID in steps[JIRA][1]
    assert "the ENTRA schema exists" in steps[SCHEMAS][1]


def test_a_scoped_token_sent_to_the_site_says_to_set_the_kind(build: Build) -> None:
    """The service account's token with the classic setting: the site answers 401."""
    service = build(ATLASSIAN_API_TOKEN=SANDBOX_ATLASSIAN_SCOPED_TOKEN)
    configure_sandbox(service)
    steps = messages(service)
    ok, message = steps[JIRA]
    assert not ok
    assert "refused the classic API token" in message
    assert "ENTRA_SYNC_ATLASSIAN_TOKEN_KIND=scoped" in message
    assert steps[ASSETS] == steps[SCHEMAS] == (False, SKIPPED)
    assert passed(steps, SIGN_IN, GRAPH, ORG)


@pytest.mark.parametrize("kind", list(TokenKind))
def test_a_wrong_token_names_the_settings_for_its_kind(build: Build, kind: TokenKind) -> None:
    service = build(kind, ATLASSIAN_API_TOKEN=WRONG_TOKEN)
    configure_sandbox(service)
    steps = messages(service)
    ok, message = steps[JIRA]
    assert not ok
    assert f"refused the {kind.value} API token" in message
    assert "ENTRA_SYNC_ATLASSIAN_EMAIL" in message
    assert "ENTRA_SYNC_ATLASSIAN_API_TOKEN" in message
    if kind is TokenKind.SCOPED:
        assert "docs/atlassian-access.md" in message  # the scopes it needs
    assert steps[ASSETS] == steps[SCHEMAS] == (False, SKIPPED)
    assert all(WRONG_TOKEN not in text for _, text in steps.values())


def test_without_browse_users_the_jira_step_names_the_permission(
    build: Build, sandbox: Sandbox
) -> None:
    """Jira's 403: the global permission is named; Assets, which needs none, still runs."""
    service = build()
    configure_sandbox(service)
    sandbox.revoke_browse_users()
    steps = messages(service)
    ok, message = steps[JIRA]
    assert not ok
    assert "Browse users and groups global permission" in message
    assert "ENTRA_SYNC_ATLASSIAN_EMAIL" in message
    assert passed(steps, ASSETS, SCHEMAS)


def test_an_empty_user_search_is_read_as_the_missing_permission(
    build: Build, sandbox: Sandbox
) -> None:
    """Jira may answer an empty list instead of 403; the account asking is a user itself."""
    service = build(TokenKind.SCOPED)
    configure_sandbox(service)
    sandbox.add_fault(Fault(service="jira", path_contains="users/search", answer=Answer.EMPTY))
    ok, message = messages(service)[JIRA]
    assert not ok
    assert "Browse users and groups" in message
    assert "read:jira-user" in message


def test_bad_secret_names_the_fix_and_skips_graph_only(build: Build) -> None:
    """A wrong client secret: sign-in says to create a new secret; Graph is skipped, and
    the Atlassian steps, which do not need Microsoft, still run."""
    service = build()
    service.configure(SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID, WRONG_SECRET, 7, "UADMIN")
    steps = messages(service)
    ok, message = steps[SIGN_IN]
    assert not ok
    assert "client secret is invalid or expired" in message
    assert "Certificates & secrets" in message
    assert steps[GRAPH] == (False, SKIPPED)
    assert passed(steps, JIRA, ASSETS, SCHEMAS, ORG)
    assert all(WRONG_SECRET not in text for _, text in steps.values())


def test_unknown_tenant_says_to_check_the_tenant_id(build: Build) -> None:
    """A tenant the sign-in service does not know points at the Tenant ID."""
    service = build()
    service.configure(
        "11111111-2222-4333-8444-555555555555", SANDBOX_CLIENT_ID, WRONG_SECRET, 7, "UADMIN"
    )
    ok, message = messages(service)[SIGN_IN]
    assert not ok
    assert "Tenant ID" in message


def test_not_configured_says_to_run_setup(build: Build) -> None:
    """Before setup the sign-in step asks for the connection details."""
    assert messages(build())[SIGN_IN] == (False, NOT_CONFIGURED)


def test_graph_403_names_the_missing_permission(build: Build, sandbox: Sandbox) -> None:
    """Graph refusing to list users points at User.Read.All and admin consent."""
    service = build()
    configure_sandbox(service)
    sandbox.add_fault(Fault(service="graph", status=403))
    steps = messages(service)
    assert steps[SIGN_IN][0]
    ok, message = steps[GRAPH]
    assert not ok
    assert "User.Read.All" in message
    assert "admin consent" in message
    assert passed(steps, JIRA, ASSETS, SCHEMAS)


def test_missing_atlassian_settings_are_named(build: Build) -> None:
    """Without the site and token the Jira step names both; the Assets steps wait."""
    service = build(ATLASSIAN_SITE=None, ATLASSIAN_API_TOKEN=None)
    configure_sandbox(service)
    steps = messages(service)
    ok, message = steps[JIRA]
    assert not ok
    assert "ENTRA_SYNC_ATLASSIAN_SITE" in message
    assert "ENTRA_SYNC_ATLASSIAN_API_TOKEN" in message
    assert "ENTRA_SYNC_ATLASSIAN_EMAIL" not in message
    assert steps[ASSETS] == steps[SCHEMAS] == (False, SKIPPED)
    assert passed(steps, SIGN_IN, GRAPH)


def test_a_site_without_assets_says_what_assets_needs(build: Build, sandbox: Sandbox) -> None:
    service = build()
    configure_sandbox(service)
    sandbox.add_fault(Fault(service="jira", path_contains="assets/workspace", answer=Answer.EMPTY))
    steps = messages(service)
    ok, message = steps[ASSETS]
    assert not ok
    assert "Premium" in message
    assert steps[SCHEMAS] == (False, SKIPPED)


def test_the_workspace_step_asks_jira_even_when_a_run_kept_the_id(
    build: Build, sandbox: Sandbox
) -> None:
    """A kept workspace id must not pass the step without the credential being tried."""
    service = build()
    configure_sandbox(service)
    service.create_schema("test")  # keeps the workspace id in the database
    sandbox.add_fault(Fault(service="jira", path_contains="assets/workspace", status=403))
    ok, _ = messages(service)[ASSETS]
    assert not ok


def test_sign_in_asks_entra_even_with_a_token_kept(build: Build, sandbox: Sandbox) -> None:
    """ "Signed in" must prove the stored secret works now, not that a token is left over."""
    service = build()
    configure_sandbox(service)
    service.create_schema("test")
    service.preview("test")  # the shared sign-in now holds a token (and kept it)
    sandbox.reset_counts()
    steps = messages(service)
    assert passed(steps, SIGN_IN)
    assert sandbox.requests["login"] >= 1


def test_a_foreign_entra_schema_is_reported(build: Build, sandbox: Sandbox) -> None:
    """Another schema holding the key ENTRA would stop `/entra schema`: said now."""
    service = build()
    configure_sandbox(service)
    sandbox.create_foreign_schema()
    ok, message = messages(service)[SCHEMAS]
    assert not ok
    assert "Legacy HR" in message


def test_assets_refusing_the_schema_list_points_at_the_access_page(
    build: Build, sandbox: Sandbox
) -> None:
    service = build()
    configure_sandbox(service)
    sandbox.add_fault(Fault(service="assets", path_contains="objectschema/list", status=403))
    ok, message = messages(service)[SCHEMAS]
    assert not ok
    assert "docs/atlassian-access.md" in message


def test_a_refused_org_key_names_the_key_and_the_org(build: Build) -> None:
    service = build(ATLASSIAN_ORG_API_KEY=WRONG_KEY)
    configure_sandbox(service)
    steps = messages(service)
    ok, message = steps[ORG]
    assert not ok
    assert "ENTRA_SYNC_ATLASSIAN_ORG_API_KEY" in message
    assert "ENTRA_SYNC_ATLASSIAN_ORG_ID" in message
    assert WRONG_KEY not in message
    assert passed(steps, SIGN_IN, GRAPH, JIRA, ASSETS, SCHEMAS)


def test_an_unknown_org_names_the_org_id(build: Build) -> None:
    service = build(ATLASSIAN_ORG_ID="not-our-org")
    configure_sandbox(service)
    ok, message = messages(service)[ORG]
    assert not ok
    assert "ENTRA_SYNC_ATLASSIAN_ORG_ID" in message


def test_an_org_key_refused_with_403_says_which_key(build: Build, sandbox: Sandbox) -> None:
    service = build()
    configure_sandbox(service)
    sandbox.add_fault(Fault(service="admin", status=403))
    ok, message = messages(service)[ORG]
    assert not ok
    assert "ENTRA_SYNC_ATLASSIAN_ORG_API_KEY" in message


def test_without_an_org_key_the_step_passes_and_says_what_it_would_add(
    build: Build, sandbox: Sandbox
) -> None:
    service = build(ATLASSIAN_ORG_ID=None, ATLASSIAN_ORG_API_KEY=None)
    configure_sandbox(service)
    ok, message = messages(service)[ORG]
    assert ok
    assert "optional" in message
    assert sandbox.requests["admin"] == 0
