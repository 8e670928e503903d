"""Who is an admin and who an approver, with Slack's ``users.info`` faked at its Web API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.permissions import CACHE_SECONDS, Permissions
from core.cli.demo import sandbox_environ
from core.config import TeamSettings, load_settings
from core.runs import SyncService
from core.sandbox import Sandbox
from core.store import Store, load_cipher
from tests.bot.slack_fake import FakeSlack

CONFIGURED = "U0CONFIGURED"
WORKSPACE_ADMIN, OWNER, MEMBER = "U0WSADMIN", "U0OWNER", "U0MEMBER"
APPROVERS = ("U0BOB", "U0CAROL")


class Clock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def service(tmp_path: Path) -> Iterator[SyncService]:
    settings = load_settings(sandbox_environ(f"sqlite:///{tmp_path / 'bot.db'}"), env_file=None)
    store = Store(settings.database_url, load_cipher(settings))
    service = SyncService(settings, store, transport=Sandbox().transport())
    yield service
    service.close()
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def permissions(fake_slack: FakeSlack, service: SyncService, clock: Clock) -> Permissions:
    fake_slack.set_user(WORKSPACE_ADMIN, is_admin=True)
    fake_slack.set_user(OWNER, is_owner=True)
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)
    return Permissions(client, service, (CONFIGURED,), clock=clock)


def lookups(fake_slack: FakeSlack) -> list[str]:
    """Whom ``users.info`` was asked about, in order."""
    return [str(call.params["user"]) for call in fake_slack.calls("users.info")]


def test_configured_admins_need_no_lookup(permissions: Permissions, fake_slack: FakeSlack) -> None:
    assert permissions.is_admin(CONFIGURED)
    assert lookups(fake_slack) == []


def test_workspace_admins_and_owners_are_admins_members_are_not(
    permissions: Permissions, fake_slack: FakeSlack
) -> None:
    assert permissions.is_admin(WORKSPACE_ADMIN)
    assert permissions.is_admin(OWNER)
    assert not permissions.is_admin(MEMBER)
    assert lookups(fake_slack) == [WORKSPACE_ADMIN, OWNER, MEMBER]


@pytest.mark.parametrize(("error", "status"), [("user_not_found", 200), ("fatal_error", 500)])
def test_a_failed_lookup_means_not_an_admin(
    permissions: Permissions, fake_slack: FakeSlack, error: str, status: int
) -> None:
    """No answer from Slack, no admin rights: even a real workspace admin is refused."""
    fake_slack.fail_next("users.info", error=error, status=status)
    assert not permissions.is_admin(WORKSPACE_ADMIN)
    assert lookups(fake_slack) == [WORKSPACE_ADMIN]


def test_the_verdict_is_cached_for_the_window_then_looked_up_again(
    permissions: Permissions, fake_slack: FakeSlack, clock: Clock
) -> None:
    """Two checks within the window cost one lookup; after it, a demotion takes effect."""
    assert permissions.is_admin(WORKSPACE_ADMIN)
    clock.now += CACHE_SECONDS - 1
    assert permissions.is_admin(WORKSPACE_ADMIN)
    assert lookups(fake_slack) == [WORKSPACE_ADMIN]

    fake_slack.set_user(WORKSPACE_ADMIN, is_admin=False)  # demoted in Slack
    clock.now += 1  # exactly CACHE_SECONDS after the lookup: no longer fresh
    assert not permissions.is_admin(WORKSPACE_ADMIN)
    assert lookups(fake_slack) == [WORKSPACE_ADMIN, WORKSPACE_ADMIN]


def test_the_cache_is_per_person(
    permissions: Permissions, fake_slack: FakeSlack, clock: Clock
) -> None:
    assert permissions.is_admin(WORKSPACE_ADMIN)
    clock.now += 1
    assert not permissions.is_admin(MEMBER)
    assert permissions.is_admin(WORKSPACE_ADMIN)
    assert not permissions.is_admin(MEMBER)
    assert lookups(fake_slack) == [WORKSPACE_ADMIN, MEMBER]


def test_approvers_are_the_people_chosen_in_setup(
    permissions: Permissions, service: SyncService
) -> None:
    assert not permissions.is_approver(APPROVERS[0])
    service.save_team_settings(TeamSettings("C0OPS", APPROVERS), CONFIGURED)
    assert permissions.is_approver(APPROVERS[0]) and permissions.is_approver(APPROVERS[1])
    assert not permissions.is_approver(CONFIGURED)
    assert not permissions.is_approver(WORKSPACE_ADMIN)
