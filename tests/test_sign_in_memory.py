"""Sign-in in a new process reuses what an earlier one kept: no request until it expires.

Each ``SyncService.open`` here stands for a new process (its own MSAL app and cache);
they share one database, as a cron job's runs or two replicas do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ, sandbox_service
from core.config import Settings, load_settings
from core.errors import ApiError, AuthenticationError
from core.runs import SyncService
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


@contextmanager
def process(sandbox: Sandbox, settings: Settings) -> Iterator[SyncService]:
    """A service as a new process builds it (its own MSAL app), closed afterwards."""
    service = sandbox_service(sandbox, settings)
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def configured(sandbox: Sandbox, settings: Settings) -> None:
    """The connection and the schema, set up by a process that never signed in."""
    with process(sandbox, settings) as service:
        configure_sandbox(service)
        service.create_schema("test")


def sign_ins_of_a_preview(sandbox: Sandbox, settings: Settings) -> int:
    """The sign-in requests a preview makes in a process of its own."""
    with process(sandbox, settings) as service:
        return service.preview("test").requests.get("login", 0)


@pytest.mark.usefixtures("configured")
def test_a_new_process_reuses_the_kept_discovery_and_token(
    sandbox: Sandbox, settings: Settings
) -> None:
    assert sign_ins_of_a_preview(sandbox, settings) == 2  # discovery, then a token
    assert sign_ins_of_a_preview(sandbox, settings) == 0


@pytest.mark.usefixtures("configured")
def test_a_new_secret_is_tried_for_real_not_answered_from_a_kept_token(
    sandbox: Sandbox, settings: Settings
) -> None:
    """The connection check must prove a new secret works; a kept token proves nothing."""
    with process(sandbox, settings) as service:
        service.preview("test")
        service.configure(SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID, "a-wrong-secret", 7, "test")
    with (
        process(sandbox, settings) as later,
        pytest.raises(AuthenticationError, match="client secret is invalid"),
    ):
        later.preview("test")


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


@pytest.mark.usefixtures("configured")
def test_a_spoiled_discovery_answer_is_not_kept(sandbox: Sandbox, settings: Settings) -> None:
    sandbox.add_fault(Fault(service="login", method="GET", answer=Answer.MALFORMED))
    with process(sandbox, settings) as first, pytest.raises(ApiError):
        first.preview("test")

    assert sign_ins_of_a_preview(sandbox, settings) == 2


@pytest.mark.usefixtures("configured")
def test_a_kept_token_graph_refuses_is_dropped_and_the_run_signs_in_afresh(
    sandbox: Sandbox, settings: Settings
) -> None:
    sign_ins_of_a_preview(sandbox, settings)
    sandbox.revoke_access_tokens()

    with process(sandbox, settings) as later:
        requests = later.preview("test").requests

    assert requests["login"] == 1  # a token only: the discovery answer was still good
    assert sign_ins_of_a_preview(sandbox, settings) == 0  # and the new token is kept


@pytest.mark.usefixtures("configured")
def test_a_token_this_process_got_is_not_asked_for_again_on_a_401(
    sandbox: Sandbox, settings: Settings
) -> None:
    """Asking again would get the same refusal: the 401 is the answer."""
    with process(sandbox, settings) as service:
        service.preview("test")
        sandbox.revoke_access_tokens()
        with pytest.raises(AuthenticationError):
            service.preview("test")
