"""The connection check on the in-process sandbox: each step passes or says what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import load_settings
from core.runs import SKIPPED, SyncService, check_connection
from core.runs.connection_check import ASSETS, GRAPH, NOT_CONFIGURED, SIGN_IN
from core.sandbox import SANDBOX_CLIENT_ID, SANDBOX_TENANT_ID, Fault, Sandbox
from core.store import Store, load_cipher

WRONG_SECRET = "wrong-secret-do-not-print-9Z~q"


class Build(Protocol):
    """The ``build`` fixture: a service with the named ENTRA_SYNC_* variables left out."""

    def __call__(self, *drop: str) -> SyncService: ...


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=40, atlassian=30)


@pytest.fixture
def build(tmp_path: Path, sandbox: Sandbox) -> Iterator[Build]:
    """A service on the sandbox; ``drop`` names ENTRA_SYNC_* variables to leave out."""
    built: list[SyncService] = []

    def make(*drop: str) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
            "ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
        }
        for name in drop:
            environ.pop(f"ENTRA_SYNC_{name}")
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
    assert [step.name for step in check.steps] == [SIGN_IN, GRAPH, ASSETS]
    return {step.name: (step.ok, step.message) for step in check.steps}


def test_every_step_passes_on_a_working_setup(build: Build) -> None:
    """Configured sandbox: sign-in, Graph and Assets all pass."""
    service = build()
    configure_sandbox(service)
    check = check_connection(service)
    assert check.ok
    assert all(step.ok for step in check.steps)
    assert "workspace" in check.steps[2].message


def test_bad_secret_names_the_fix_and_skips_the_rest(build: Build) -> None:
    """A wrong client secret: sign-in says to create a new secret; later steps are skipped."""
    service = build()
    service.configure(SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID, WRONG_SECRET, 7, "UADMIN")
    steps = messages(service)
    ok, message = steps[SIGN_IN]
    assert not ok
    assert "client secret is invalid or expired" in message
    assert "Certificates & secrets" in message
    assert steps[GRAPH] == steps[ASSETS] == (False, SKIPPED)
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
    assert steps[ASSETS][0]


def test_missing_atlassian_settings_are_named(build: Build) -> None:
    """Without the site and token the Assets step names both variables."""
    service = build("ATLASSIAN_SITE", "ATLASSIAN_API_TOKEN")
    configure_sandbox(service)
    steps = messages(service)
    ok, message = steps[ASSETS]
    assert not ok
    assert "ENTRA_SYNC_ATLASSIAN_SITE" in message
    assert "ENTRA_SYNC_ATLASSIAN_API_TOKEN" in message
    assert "ENTRA_SYNC_ATLASSIAN_EMAIL" not in message
    assert steps[SIGN_IN][0] and steps[GRAPH][0]


def test_refused_jira_credentials_name_the_variables(build: Build, sandbox: Sandbox) -> None:
    """Jira answering 401 points at the Atlassian email and API token."""
    service = build()
    configure_sandbox(service)
    sandbox.add_fault(Fault(service="jira", status=401))
    ok, message = messages(service)[ASSETS]
    assert not ok
    assert "ENTRA_SYNC_ATLASSIAN_API_TOKEN" in message
