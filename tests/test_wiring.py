"""The clients a run is built from: where Atlassian requests go, and what is looked up once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.cli.demo import sandbox_environ
from core.clients import RetryPolicy
from core.config import TokenKind, load_settings
from core.errors import ConfigError, UnreadableAnswer
from core.runs import SyncService
from core.sandbox import SANDBOX_CLOUD_ID, Answer, Fault, Sandbox
from core.store import Store, load_cipher


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=40, atlassian=30)


def open_service(tmp_path: Path, sandbox: Sandbox, kind: TokenKind) -> SyncService:
    environ = {
        **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}", kind),
        "ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
    }
    settings = load_settings(environ, env_file=None)
    store = Store(settings.database_url, load_cipher(settings))
    retry = RetryPolicy(sleep=lambda _: None)
    return SyncService(settings, store, transport=sandbox.transport(), retry=retry)


@pytest.fixture
def scoped(tmp_path: Path, sandbox: Sandbox) -> Iterator[SyncService]:
    service = open_service(tmp_path, sandbox, TokenKind.SCOPED)
    yield service
    service.close()
    service.store.close()


def paths(sandbox: Sandbox) -> list[str]:
    return [path for _, _, path in sandbox.request_log]


def test_a_scoped_token_asks_for_the_cloud_id_and_the_workspace_once(
    scoped: SyncService, sandbox: Sandbox
) -> None:
    """A bot runs for months: the site's ids are asked for once, not on every run."""
    clients = scoped.clients
    for _ in range(3):
        assert clients.routes().cloud_id == SANDBOX_CLOUD_ID
        clients.assets().schemas()
        clients.atlassian().probe()
    asked = paths(sandbox)
    assert asked.count("/_edge/tenant_info") == 1
    gateway = f"/ex/jira/{SANDBOX_CLOUD_ID}"
    assert asked.count(f"{gateway}/rest/servicedeskapi/assets/workspace") == 1
    assert asked.count(f"{gateway}/rest/api/3/users/search") == 3


def test_a_classic_token_never_asks_for_the_cloud_id(tmp_path: Path, sandbox: Sandbox) -> None:
    service = open_service(tmp_path, sandbox, TokenKind.CLASSIC)
    try:
        assert service.clients.routes().cloud_id is None
        service.clients.assets().schemas()
        service.clients.atlassian().probe()
    finally:
        service.close()
        service.store.close()
    assert "/_edge/tenant_info" not in paths(sandbox)
    assert not any(path.startswith("/ex/") for path in paths(sandbox))


def test_a_scoped_token_without_the_site_names_the_missing_setting(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """The cloud id is asked of the site: without it there is nowhere to ask."""
    environ = {
        **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}", TokenKind.SCOPED),
        "ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
    }
    del environ["ENTRA_SYNC_ATLASSIAN_SITE"]
    settings = load_settings(environ, env_file=None)
    store = Store(settings.database_url, load_cipher(settings))
    service = SyncService(settings, store, transport=sandbox.transport())
    try:
        with pytest.raises(ConfigError, match="ENTRA_SYNC_ATLASSIAN_SITE"):
            service.clients.routes()
    finally:
        service.close()
        store.close()
    assert sandbox.request_log == []


def test_a_failed_cloud_id_lookup_is_retried_and_not_remembered(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A 503 is retried (a read); an unreadable answer fails naming the site setting, and
    the next call asks again instead of keeping nothing or a wrong id."""
    service = open_service(tmp_path, sandbox, TokenKind.SCOPED)
    try:
        sandbox.add_fault(Fault(service="jira", path_contains="tenant_info", status=503))
        sandbox.add_fault(Fault(service="jira", path_contains="tenant_info", answer=Answer.EMPTY))
        with pytest.raises(UnreadableAnswer, match="ENTRA_SYNC_ATLASSIAN_SITE"):
            service.clients.routes()
        assert service.clients.routes().cloud_id == SANDBOX_CLOUD_ID
    finally:
        service.close()
        service.store.close()
    assert paths(sandbox).count("/_edge/tenant_info") == 3
