"""ENTRA_SYNC_PREVIEW_REQUESTERS: read and validated in settings, applied by core's one rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.config import PreviewRequesters, Settings, TeamSettings, load_settings
from core.errors import ConfigError
from core.runs import Approvals, SyncService
from core.store import Store, load_cipher

APPROVER, MEMBER, ADMIN = "UAPPROVER", "UMEMBER", "UADMIN"


def load(**env: str) -> Settings:
    return load_settings({f"ENTRA_SYNC_{k}": v for k, v in env.items()}, env_file=None)


def test_the_default_is_approvers_and_admins() -> None:
    assert load().preview_requesters is PreviewRequesters.APPROVERS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("approvers", PreviewRequesters.APPROVERS),
        ("everyone", PreviewRequesters.EVERYONE),
        ("Everyone", PreviewRequesters.EVERYONE),
    ],
)
def test_both_values_are_read(value: str, expected: PreviewRequesters) -> None:
    assert load(PREVIEW_REQUESTERS=value).preview_requesters is expected


@pytest.mark.parametrize("value", ["admins", "all", "approvers,everyone"])
def test_another_value_is_an_error_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(PREVIEW_REQUESTERS=value)
    assert [p.field for p in caught.value.problems] == ["ENTRA_SYNC_PREVIEW_REQUESTERS"]
    message = str(caught.value)
    assert "ENTRA_SYNC_PREVIEW_REQUESTERS: must be one of approvers, everyone" in message
    assert value not in message  # rules name variables, never values


@pytest.fixture
def approvals_for(tmp_path: Path) -> Iterator[dict[str, Approvals]]:
    """One Approvals per setting, each over its own database with one approver named."""
    made: dict[str, Approvals] = {}
    services: list[SyncService] = []
    for value in PreviewRequesters:
        environ = {
            "ENTRA_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / f'{value}.db'}",
            "ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
            "ENTRA_SYNC_PREVIEW_REQUESTERS": value.value,
        }
        settings = load_settings(environ, env_file=None)
        service = SyncService(settings, Store(settings.database_url, load_cipher(settings)))
        service.save_team_settings(TeamSettings(None, (APPROVER,)), ADMIN)
        services.append(service)
        made[value.value] = Approvals(service)
    yield made
    for service in services:
        service.close()
        service.store.close()


class AdminLookup:
    """Stands in for Slack's admin check and counts how often it is asked."""

    def __init__(self, verdict: bool) -> None:
        self.verdict = verdict
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.verdict


def test_by_default_approvers_and_admins_may_ask(approvals_for: dict[str, Approvals]) -> None:
    approvals = approvals_for["approvers"]
    not_admin, admin = AdminLookup(False), AdminLookup(True)
    assert approvals.may_request_preview(APPROVER, not_admin)
    assert not_admin.asked == 0  # an approver needs no call to Slack
    assert approvals.may_request_preview(ADMIN, admin)
    assert not approvals.may_request_preview(MEMBER, not_admin)
    assert approvals.preview_refusal() == (
        f"Only approvers (<@{APPROVER}>) and admins can ask for a preview; ask one of them."
    )


def test_everyone_may_ask_when_configured(approvals_for: dict[str, Approvals]) -> None:
    approvals = approvals_for["everyone"]
    lookup = AdminLookup(False)
    assert approvals.may_request_preview(MEMBER, lookup)
    assert lookup.asked == 0
