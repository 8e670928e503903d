"""Sign-in in a new process reuses what an earlier one kept: no request until it expires.

Each ``SyncService.open`` here stands for a new process (its own MSAL app and cache);
they share one database, as a cron job's runs or two replicas do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ, sandbox_service
from core.config import Settings, load_settings
from core.errors import ApiError, AuthenticationError
from core.sandbox import SANDBOX_CLIENT_ID, SANDBOX_TENANT_ID, Answer, Fault, Sandbox
from core.store import Store
from core.store.secrets import SecretCipher


def fresh_key() -> SecretCipher:
    return SecretCipher([Fernet.generate_key()])


DISCOVERY_URL = "https://login.example/tenant/v2.0/.well-known/openid-configuration"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=3, people=40, atlassian=30)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"), env_file=None)


def sign_ins_of_a_preview(sandbox: Sandbox, settings: Settings) -> int:
    """The sign-in requests a preview makes in a process of its own."""
    service = sandbox_service(sandbox, settings)
    try:
        return service.preview("test").requests.get("login", 0)
    finally:
        service.close()


def test_a_new_process_reuses_the_kept_discovery_and_token(
    sandbox: Sandbox, settings: Settings
) -> None:
    first = sandbox_service(sandbox, settings)
    try:
        configure_sandbox(first)
        first.create_schema("test")
        assert first.preview("test").requests["login"] == 2  # discovery, then a token
    finally:
        first.close()

    assert sign_ins_of_a_preview(sandbox, settings) == 0


def test_a_new_secret_is_tried_for_real_not_answered_from_a_kept_token(
    sandbox: Sandbox, settings: Settings
) -> None:
    """The connection check must prove a new secret works; a kept token proves nothing."""
    service = sandbox_service(sandbox, settings)
    try:
        configure_sandbox(service)
        service.create_schema("test")
        service.preview("test")
        service.configure(SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID, "a-wrong-secret", 7, "test")
    finally:
        service.close()
    later = sandbox_service(sandbox, settings)
    try:
        with pytest.raises(AuthenticationError, match="client secret is invalid"):
            later.preview("test")
    finally:
        later.close()


def test_tokens_kept_under_another_key_are_not_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    old = Store(url, fresh_key())
    old.keep_sign_in_tokens("connection", '{"AccessToken": {}}')
    old.close()

    assert Store(url, fresh_key()).sign_in_tokens("connection") is None


def test_only_the_current_connections_tokens_are_kept(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'one.db'}", fresh_key())
    store.keep_sign_in_tokens("old connection", "{}")
    store.keep_sign_in_tokens("new connection", '{"x": 1}')

    assert store.sign_in_tokens("old connection") is None
    assert store.sign_in_tokens("new connection") == '{"x": 1}'


def test_a_discovery_answer_is_reused_for_a_day_only(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = Store(
        f"sqlite:///{tmp_path / 'day.db'}",
        fresh_key(),
        clock=lambda: now[0],
    )
    store.keep_sign_in_discovery(DISCOVERY_URL, '{"token_endpoint": "t"}')

    now[0] += timedelta(hours=23)
    assert store.sign_in_discovery(DISCOVERY_URL) == '{"token_endpoint": "t"}'
    now[0] += timedelta(hours=2)
    assert store.sign_in_discovery(DISCOVERY_URL) is None


def test_a_spoiled_discovery_answer_is_not_kept(sandbox: Sandbox, settings: Settings) -> None:
    first = sandbox_service(sandbox, settings)
    try:
        configure_sandbox(first)
        first.create_schema("test")
        sandbox.add_fault(Fault(service="login", method="GET", answer=Answer.MALFORMED))
        with pytest.raises(ApiError):
            first.preview("test")
    finally:
        first.close()

    assert sign_ins_of_a_preview(sandbox, settings) == 2


def test_a_kept_token_graph_refuses_is_dropped_and_the_run_signs_in_afresh(
    sandbox: Sandbox, settings: Settings
) -> None:
    first = sandbox_service(sandbox, settings)
    try:
        configure_sandbox(first)
        first.create_schema("test")
        first.preview("test")
    finally:
        first.close()
    sandbox.revoke_access_tokens()

    later = sandbox_service(sandbox, settings)
    try:
        requests = later.preview("test").requests
    finally:
        later.close()

    assert requests["login"] == 1  # a token only: the discovery answer was still good
    assert sign_ins_of_a_preview(sandbox, settings) == 0  # and the new token is kept


def test_a_token_this_process_got_is_not_asked_for_again_on_a_401(
    sandbox: Sandbox, settings: Settings
) -> None:
    """Asking again would get the same refusal: the 401 is the answer."""
    service = sandbox_service(sandbox, settings)
    try:
        configure_sandbox(service)
        service.create_schema("test")
        service.preview("test")
        sandbox.revoke_access_tokens()
        with pytest.raises(AuthenticationError):
            service.preview("test")
    finally:
        service.close()
