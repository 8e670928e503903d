"""Scoped API tokens (service accounts) end to end: the CLI against the sandbox.

The sandbox answers a scoped token as Atlassian does: 401 on the site, the same paths
through ``https://api.atlassian.com/ex/jira/<cloud id>``. Sent to the site, as every
release before the token-kind setting did, the token stops the first Atlassian
request; with ``ENTRA_SYNC_ATLASSIAN_TOKEN_KIND=scoped`` schema, preview and sync
all work and write what a classic token writes.
"""

from __future__ import annotations

import pytest

from core.sandbox import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_SCOPED_TOKEN,
    SANDBOX_CLOUD_ID,
    Sandbox,
)
from core.sync import Attr

from .conftest import Runner

GATEWAY = f"/ex/jira/{SANDBOX_CLOUD_ID}/"
TENANT_INFO = "/_edge/tenant_info"


def atlassian_paths(sandbox: Sandbox) -> list[str]:
    return [path for service, _, path in sandbox.request_log if service in {"jira", "assets"}]


def written_employees(sandbox: Sandbox) -> list[list[tuple[str, str]]]:
    """Every Employee's attributes, the manager named by its Entra User ID.

    Object keys follow the order creates arrive in, which concurrent writes vary from
    run to run, so the Manager key itself is not comparable between two sandboxes.
    """
    employees = sandbox.employees()
    entra_id = {e["objectKey"]: e["attributes"][Attr.ENTRA_USER_ID.value] for e in employees}
    rows = []
    for employee in employees:
        attributes = dict(employee["attributes"])
        if Attr.MANAGER.value in attributes:
            attributes[Attr.MANAGER.value] = entra_id[attributes[Attr.MANAGER.value]]
        rows.append(sorted(attributes.items()))
    return sorted(rows)


def use_scoped_token(monkeypatch: pytest.MonkeyPatch, kind: str | None) -> None:
    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_API_TOKEN", SANDBOX_ATLASSIAN_SCOPED_TOKEN)
    if kind is None:
        monkeypatch.delenv("ENTRA_SYNC_ATLASSIAN_TOKEN_KIND", raising=False)
    else:
        monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_TOKEN_KIND", kind)


def test_a_scoped_token_sent_to_the_site_fails_and_says_which_kind_to_set(
    configured: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a service account met before: the site refuses its token with a 401."""
    use_scoped_token(monkeypatch, None)  # classic, the default: the site URL
    for command in ("schema", "preview"):
        result = configured(command)
        assert result.code == 1
        assert "HTTP 401" in result.err
        assert "refused the classic API token" in result.err
        assert "ENTRA_SYNC_ATLASSIAN_TOKEN_KIND=scoped" in result.err
        assert SANDBOX_ATLASSIAN_SCOPED_TOKEN not in result.err
    assert not any(path.startswith("/ex/") for path in atlassian_paths(sandbox))
    assert sandbox.employees() == []


def test_preview_and_sync_with_a_scoped_token_go_through_the_gateway(
    configured: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    twin = sandbox.clone()
    use_scoped_token(monkeypatch, "scoped")
    assert configured("schema").code == 0
    preview = configured("preview")
    assert preview.code == 0, preview.err
    sandbox.reset_counts()
    synced = configured("sync", "--yes")
    assert synced.code == 0, synced.err
    paths = atlassian_paths(sandbox)
    assert paths.count(TENANT_INFO) == 1  # the cloud id: once per process
    assert all(path.startswith(GATEWAY) for path in paths if path != TENANT_INFO)
    assert any("/jsm/assets/workspace/" in path for path in paths)

    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_API_TOKEN", SANDBOX_ATLASSIAN_API_TOKEN)
    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_TOKEN_KIND", "classic")
    for command in (("schema",), ("sync", "--yes")):
        classic = configured(*command, transport=twin.transport())
        assert classic.code == 0, classic.err
    assert not any(path.startswith("/ex/") for path in atlassian_paths(twin))
    written = written_employees(sandbox)
    assert written == written_employees(twin)
    assert len(written) > 0
