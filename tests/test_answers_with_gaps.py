"""Answers that succeed with incomplete data never drive damaging writes.

Each case is the seeded sandbox after an approver's first sync, then a directory
answer that is quietly wrong: a downgraded Graph permission (null for everything
but the basic profile) and a full read cut short after its first page. The first
sync left a copy of the directory with a delta link, so a later run reads only the
changes; the full reads here are the ones a refused link falls back to.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.cli.demo import configure_sandbox, sandbox_environ, sandbox_service
from core.config import TeamSettings, load_settings
from core.errors import IncompleteRead
from core.runs import ScheduledKind, ScheduledSync, SyncService
from core.sandbox import Sandbox
from core.store import RunStatus

APPROVER = "UAPPROVER"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def service(tmp_path: Path, sandbox: Sandbox) -> Iterator[SyncService]:
    settings = load_settings(sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"), env_file=None)
    service = sandbox_service(sandbox, settings)
    configure_sandbox(service, cadence_days=1)
    service.create_schema("UADMIN")
    service.save_team_settings(TeamSettings("C0REPORTS", (APPROVER,)), "UADMIN")
    assert service.sync(APPROVER).status is RunStatus.SUCCEEDED
    sandbox.request_log.clear()
    yield service
    service.close()


def _values(sandbox: Sandbox) -> dict[str, dict[str, object]]:
    return {str(e["objectKey"]): dict(e["attributes"]) for e in sandbox.employees()}


def _writes(sandbox: Sandbox) -> list[tuple[str, str, str]]:
    return [
        e
        for e in sandbox.request_log
        if e[0] == "assets" and e[1] in {"POST", "PUT"} and "/aql" not in e[2]
    ]


def test_a_downgraded_graph_permission_reactivates_nobody_and_clears_are_held(
    service: SyncService, sandbox: Sandbox
) -> None:
    """A full read with null accountEnabled: Active is unknown; 30-odd emptied titles wait."""
    before = _values(sandbox)
    inactive = {k for k, v in before.items() if str(v.get("Active")) == "false"}
    assert inactive, "the seeded organisation has disabled people"
    sandbox.downgrade_graph_permission()
    sandbox.expire_delta_tokens()  # the copy's link is refused: everything is read afresh
    plan = service.preview("UALICE").plan
    reactivated = [
        u
        for u in plan.updates
        if any(c.attr.value == "Active" and c.after == "true" for c in u.changes)
    ]
    assert reactivated == []
    assert plan.inactivations == ()
    outcome = ScheduledSync(service).run_check()
    assert outcome.kind is ScheduledKind.HELD
    assert any("would be emptied for" in reason for reason in outcome.hold_reasons)
    assert _writes(sandbox) == []
    assert _values(sandbox) == before


def test_a_downgraded_permission_in_a_change_round_empties_nothing_and_is_not_kept(
    service: SyncService, sandbox: Sandbox
) -> None:
    """Changed users come with accountEnabled null: their other nulls say nothing either."""
    owner = service.directory_reader().owner
    kept = service.store.directory_copy(owner)
    assert kept is not None
    person = next(k for k, v in _values(sandbox).items() if v.get("Job Title"))
    user_id = str(_values(sandbox)[person]["Entra User ID"])
    sandbox.downgrade_graph_permission()
    sandbox.rename_user(user_id, "Renamed Person")
    plan = service.preview("UALICE").plan
    changes = {c.attr.value: (c.before, c.after) for u in plan.updates for c in u.changes}
    assert changes == {"Name": (kept.users[user_id].display_name, "Renamed Person")}
    assert plan.inactivations == ()
    after = service.store.directory_copy(owner)
    assert after is not None and after.version == kept.version  # read again next run


def test_a_full_read_cut_after_its_first_page_is_held(
    service: SyncService, sandbox: Sandbox
) -> None:
    """A last page that lists 10 users: fewer than Graph counts, so it waits and is not kept."""
    real = sandbox.handle
    owner = service.directory_reader().owner
    kept = service.store.directory_copy(owner)
    assert kept is not None
    sandbox.expire_delta_tokens()

    def cut(request: httpx.Request) -> httpx.Response:
        response = real(request)
        if request.url.path == "/v1.0/users/delta" and response.is_success:
            body = response.json()
            body.pop("@odata.nextLink", None)
            body["value"] = body["value"][:10]
            return httpx.Response(200, json=body)
        return response

    cutting = SyncService.open(service.settings, transport=httpx.MockTransport(cut))
    try:
        result = cutting.sync(APPROVER)
    finally:
        cutting.close()
    assert result.held
    assert any(
        r.startswith("Entra's pages held 10 users but Graph counts 60") for r in result.hold_reasons
    )
    assert _writes(sandbox) == []
    after = service.store.directory_copy(owner)
    assert after is not None and (after.version, after.link) == (kept.version, kept.link)


def test_an_assets_read_marked_last_too_early_stops_before_any_write(
    service: SyncService, sandbox: Sandbox
) -> None:
    """Half the Employees on a page that says isLast: no duplicate creates, a clear error."""
    real = sandbox.handle

    def early(request: httpx.Request) -> httpx.Response:
        response = real(request)
        if request.url.path.endswith("/object/aql"):
            body = response.json()
            body["values"] = body["values"][: len(body["values"]) // 2]
            body["isLast"] = True
            return httpx.Response(200, json=body)
        return response

    cutting = SyncService.open(service.settings, transport=httpx.MockTransport(early))
    try:
        with pytest.raises(IncompleteRead, match="returned 19 objects but Assets counts 38"):
            cutting.sync(APPROVER)
    finally:
        cutting.close()
    assert _writes(sandbox) == []
    assert len(sandbox.employees()) == 38
