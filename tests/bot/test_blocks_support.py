"""Builders of the values the Block Kit tests render: plans, previews, runs, decisions.

No tests live here; the name only keeps this helper inside the files the blocks own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks import Message, limit_problems
from core.runs import Decision, DecisionKind, StatusReport, SyncResult
from core.store import ConnectionView, PreviewStatus, PreviewView, RunKind, RunStatus, RunView
from core.sync import (
    ApplyResult,
    Attr,
    ChangeKind,
    ChangeOutcome,
    Create,
    FieldChange,
    Inactivation,
    OutcomeStatus,
    Plan,
    Update,
)
from core.sync.plan import (
    InactivationReason,
    ManagerGap,
    MissingManager,
    PlanStats,
    PlanWarning,
    Unmatched,
    UnmatchedReason,
    WarningCode,
)

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
REQUESTER = "U0REQUEST"
APPROVER = "U0APPROVE"
HOSTILE = ("<!channel>", "<@U123>", "<!here>", "<https://evil.example|click me>")


def create(i: int, name: str | None = None) -> Create:
    label = name or f"Person {i}"
    return Create(
        f"e-{i}",
        label,
        (
            (Attr.FULL_NAME, label),
            (Attr.EMAIL, f"person{i}@example.com"),
            (Attr.JOB_TITLE, "Engineer"),
            (Attr.DEPARTMENT, "R&D"),
            (Attr.MANAGER, "e-boss"),
        ),
    )


def update(i: int, name: str | None = None) -> Update:
    return Update(
        f"o-{i}",
        f"ENTRA-{i}",
        f"e-{i}",
        name or f"Person {i}",
        (
            FieldChange(Attr.JOB_TITLE, "Engineer", "Senior <Engineer>"),
            FieldChange(Attr.DEPARTMENT, None, "Sales"),
            FieldChange(Attr.MANAGER, "e-old", "e-boss"),
            FieldChange(Attr.EMAIL, "a@example.com", "b@example.com"),
        ),
    )


def inactivation(i: int, name: str | None = None) -> Inactivation:
    return Inactivation(
        f"o-{i}",
        f"ENTRA-{i}",
        f"e-{i}",
        name or f"Person {i}",
        InactivationReason.DIRECTORY_DISABLED,
        (FieldChange(Attr.ACTIVE, "true", "false"),),
    )


def unmatched(i: int, name: str | None = None) -> Unmatched:
    return Unmatched(f"acc-{i}", name or f"Account {i}", None, UnmatchedReason.EMAIL_HIDDEN)


def missing(i: int, name: str | None = None) -> MissingManager:
    return MissingManager(
        f"e-{i}", name or f"Person {i}", "e-gone", None, ManagerGap.NO_ATLASSIAN_ACCOUNT
    )


def warning(i: int, name: str | None = None) -> PlanWarning:
    return PlanWarning(WarningCode.GUEST, name or f"Guest {i}", "guest account: " + (name or ""))


def big_plan(total: int = 20_000) -> Plan:
    """``total`` rows spread over every section, like a first sync of a large tenant."""
    share = total // 6
    return Plan(
        creates=tuple(create(i) for i in range(share)),
        updates=tuple(update(i) for i in range(share)),
        inactivations=tuple(inactivation(i) for i in range(share)),
        unmatched=tuple(unmatched(i) for i in range(share)),
        missing_managers=tuple(missing(i) for i in range(share)),
        warnings=tuple(warning(i) for i in range(total - 5 * share)),
        stats=PlanStats(25_000, 24_000, 23_000),
        manager_names=(("e-boss", "The <!channel> Boss"), ("e-old", "Old Boss")),
    )


def hostile_plan(width: int = 1) -> Plan:
    """Every section named by someone who would like to ping the whole workspace."""
    names = [HOSTILE[i % len(HOSTILE)] * width for i in range(8)]
    return Plan(
        creates=tuple(create(i, n) for i, n in enumerate(names)),
        updates=tuple(update(i, n) for i, n in enumerate(names)),
        inactivations=tuple(inactivation(i, n) for i, n in enumerate(names)),
        unmatched=tuple(unmatched(i, n) for i, n in enumerate(names)),
        missing_managers=tuple(missing(i, n) for i, n in enumerate(names)),
        warnings=tuple(warning(i, n) for i, n in enumerate(names)),
        manager_names=(("e-boss", "<!everyone>"),),
    )


def small_plan() -> Plan:
    return Plan(creates=(create(1),), updates=(update(2),), inactivations=(inactivation(3),))


def preview_view(
    plan: Plan,
    *,
    preview_id: int = 7,
    status: PreviewStatus = PreviewStatus.PENDING,
    decided_by: str | None = None,
) -> PreviewView:
    return PreviewView(
        id=preview_id,
        run_id=3,
        plan=plan,
        fingerprint=plan.fingerprint,
        status=status,
        requested_by=REQUESTER,
        created_at=NOW - timedelta(hours=1),
        expires_at=NOW + timedelta(hours=23),
        decided_by=decided_by,
        decided_at=NOW if decided_by else None,
        channel="C0PREVIEW",
        message_ts="1700000000.000100",
    )


def outcomes(
    ok: int, failed: int, detail: str = "Assets said <!channel> no"
) -> tuple[ChangeOutcome, ...]:
    good = [
        ChangeOutcome(ChangeKind.CREATE, f"e-{i}", f"Person {i}", OutcomeStatus.OK, f"E-{i}")
        for i in range(ok)
    ]
    bad = [
        ChangeOutcome(
            ChangeKind.UPDATE, f"e-f{i}", f"<@U123> {i}", OutcomeStatus.FAILED, None, detail
        )
        for i in range(failed)
    ]
    return (*good, *bad)


def sync_result(plan: Plan, ok: int = 3, failed: int = 0) -> SyncResult:
    status = (
        RunStatus.PARTIAL
        if failed and ok
        else RunStatus.FAILED
        if failed
        else (RunStatus.SUCCEEDED)
    )
    applied = ApplyResult(outcomes(ok, failed)) if not plan.is_empty else ApplyResult(())
    return SyncResult(41, plan, status, applied, {"graph": 12, "assets": 30}, 184.2)


def decision(
    kind: DecisionKind,
    preview: PreviewView,
    *,
    reason: str = "",
    result: SyncResult | None = None,
) -> Decision:
    return Decision(kind, preview, APPROVER, reason, result, (APPROVER,))


def run_view(
    run_id: int,
    *,
    kind: RunKind = RunKind.MANUAL,
    status: RunStatus = RunStatus.SUCCEEDED,
    error: str | None = None,
    requested_by: str = REQUESTER,
) -> RunView:
    started = NOW - timedelta(hours=run_id)
    finished = None if status is RunStatus.RUNNING else started + timedelta(seconds=95)
    return RunView(
        id=run_id,
        kind=kind,
        requested_by=requested_by,
        started_at=started,
        finished_at=finished,
        status=status,
        counts={"creates": 2, "updates": 1, "applied": 3, "failed": 0},
        requests={"graph": 4},
        error=error,
        fingerprint="f" * 64,
    )


def connection(*, has_secret: bool = True) -> ConnectionView:
    return ConnectionView(
        tenant_id="11111111-2222-3333-4444-555555555555",
        client_id="66666666-7777-8888-9999-000000000000",
        cadence_days=7,
        updated_at=NOW,
        updated_by=APPROVER,
        has_secret=has_secret,
    )


def status_report(*, runs: int = 30, configured: bool = True) -> StatusReport:
    recent = tuple(
        run_view(
            i + 1,
            kind=RunKind.SCHEDULED if i % 2 else RunKind.MANUAL,
            status=RunStatus.FAILED if i % 3 == 0 else RunStatus.SUCCEEDED,
            error="Graph said <!channel> " + "x" * 2000 if i % 3 == 0 else None,
        )
        for i in range(runs)
    )
    return StatusReport(
        connection=connection() if configured else None,
        last_manual=recent[0] if recent else None,
        last_scheduled=recent[1] if len(recent) > 1 else None,
        running=(run_view(99, status=RunStatus.RUNNING),),
        recent=recent,
    )


# -- inspecting what the builders made ---------------------------------------------------


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside a block list or view, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def texts(node: Any) -> list[str]:
    """Every ``text`` string anywhere in the blocks (sections, fields, buttons, dialogs)."""
    return [d["text"] for d in walk(node) if isinstance(d.get("text"), str)]


def action_ids(node: Any) -> list[str]:
    return [d["action_id"] for d in walk(node) if "action_id" in d]


def buttons(node: Any) -> list[dict[str, Any]]:
    return [d for d in walk(node) if d.get("type") == "button"]


def assert_message_fits(msg: Message) -> None:
    """Within every Slack limit, plus the ~13k aggregate that Slack enforces unannounced."""
    assert msg.text
    assert len(msg.blocks) <= 50
    assert limit_problems(msg.blocks, max_blocks=50) == []
    assert len(json.dumps(msg.blocks, ensure_ascii=False)) < 16_000
    assert sum(len(t) for t in texts(msg.blocks)) < 12_000


_OWN_TOKEN = re.compile(r"<(?!@[UW][A-Z0-9]+>|#[CGD][A-Z0-9]+>|!date\^)")


def assert_no_pings(node: Any, *extra: str) -> None:
    """No ``<…>`` token survives except the app's own user, channel and date tokens."""
    for text in [*texts(node), *extra]:
        for token in (*HOSTILE, "<!everyone>"):
            assert token not in text, text
        assert _OWN_TOKEN.search(text) is None, text
