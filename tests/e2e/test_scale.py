"""Request budget at scale: 20,000 directory users and 5,000 Atlassian accounts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.cli.demo import configure_sandbox, sandbox_environ, sandbox_service
from core.config import load_settings
from core.sandbox import Sandbox

PREVIEW_REQUEST_BUDGET = 15  # the target at 20k/5k, every service and sign-in counted
# Besides Graph, a preview after a sync reads only the accounts and the Employees:
# 5,004 accounts in 6 pages of 1,000 and an empty one; 4,993 Employees in 5 pages of
# 999 and their count. No workspace, schema or org admin read: the ids were kept and
# no hidden email can change the plan.
ATLASSIAN_READS = {"jira": 7, "assets": 6, "admin": 0}


# Timed, and the tracer slows this run two- to threefold; every line it reaches is also
# reached by the rest of the suite, so coverage loses nothing by skipping it.
@pytest.mark.no_cover
def test_preview_after_sync_stays_within_request_budget(tmp_path: Path) -> None:
    """After a full sync, a preview of 20k users / 5k accounts makes at most 15 requests.

    The preview runs on a new service, as the command line does in a new process, so
    only what the database kept saves a read: the Assets ids, the directory copy and
    its delta link, and the sign-in (the sync's discovery answer and token).
    """
    sandbox = Sandbox(seed=11, people=20_000, atlassian=5_000)
    settings = load_settings(sandbox_environ(f"sqlite:///{tmp_path / 'scale.db'}"), env_file=None)
    service = sandbox_service(sandbox, settings)
    try:
        configure_sandbox(service)
        service.create_schema("test")
        synced = service.sync("test")
        assert synced.applied is not None
        assert synced.applied.failed == 0
    finally:
        service.close()
    service = sandbox_service(sandbox, settings)
    try:
        sandbox.reset_counts()
        started = time.monotonic()
        preview = service.preview("test")
        elapsed = time.monotonic() - started
    finally:
        service.close()
    received = sum(sandbox.requests.values())
    assert preview.plan.is_empty
    assert sum(preview.requests.values()) == received
    assert received <= PREVIEW_REQUEST_BUDGET, dict(sandbox.requests)
    assert sandbox.requests["graph"] == 2  # $count and one users/delta page of changes
    assert sandbox.requests["login"] == 0  # the sync's process kept discovery and token
    assert {name: sandbox.requests[name] for name in ATLASSIAN_READS} == ATLASSIAN_READS
    assert elapsed < 30
