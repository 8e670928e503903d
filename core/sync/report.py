"""Plain-text and CSV renderings of plans and apply results.

Pure functions from values to strings, shared by the CLI and by the bot's CSV file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from core.sync.models import Attr
from core.sync.plan import FieldChange, Inactivation, MissingManager, Plan, Unmatched, Update
from core.sync.results import ChangeOutcome, OutcomeStatus

COUNT_LABELS = (
    ("creates", "Creates"),
    ("updates", "Updates"),
    ("inactivations", "Inactivations"),
    ("unmatched", "Unmatched Atlassian accounts"),
    ("missing_managers", "Missing manager links"),
    ("warnings", "Warnings"),
)
CSV_HEADER = ("section", "subject", "id", "field", "before", "after", "reason")


def counts_lines(counts: dict[str, int]) -> list[str]:
    return [f"  {label:<30} {counts.get(key, 0):>6}" for key, label in COUNT_LABELS]


def _value(plan: Plan, change: FieldChange, value: str | None) -> str:
    if change.attr is Attr.MANAGER:
        value = plan.manager_name(value)
    return "(empty)" if value in (None, "") else str(value)


def plan_text(plan: Plan, *, limit: int = 20) -> str:
    """Counts, then the first ``limit`` rows of each section."""
    sections: list[tuple[str, Sequence[Any], Callable[[Any], str]]] = [
        ("Creates", plan.creates, lambda c: f"+ {c.label} <{c.get(Attr.EMAIL) or ''}>"),
        ("Updates", plan.updates, lambda u: _update_line(plan, u)),
        ("Inactivations", plan.inactivations, _inactivation_line),
        ("Unmatched Atlassian accounts", plan.unmatched, _unmatched_line),
        ("Missing manager links", plan.missing_managers, _missing_manager_line),
        ("Warnings", plan.warnings, lambda w: f"* {w.subject}: {w.message}"),
    ]
    lines = ["Preview", *counts_lines(plan.counts()), ""]
    for title, items, render in sections:
        lines += _section(title, items, render, limit)
    if plan.is_empty:
        lines.append("Nothing to write: Assets already matches the directory.")
    lines.append(f"Fingerprint {plan.fingerprint[:16]}")
    return "\n".join(lines)


def _update_line(plan: Plan, update: Update) -> str:
    changes = "; ".join(
        f"{c.attr.value}: {_value(plan, c, c.before)} -> {_value(plan, c, c.after)}"
        for c in update.changes
    )
    return f"~ {update.label} ({update.object_key}): {changes}"


def _inactivation_line(inactivation: Inactivation) -> str:
    return f"- {inactivation.label} ({inactivation.object_key}): {inactivation.reason.value}"


def _unmatched_line(unmatched: Unmatched) -> str:
    return f"? {unmatched.display_name} <{unmatched.email or 'hidden'}>: {unmatched.reason.value}"


def _missing_manager_line(gap: MissingManager) -> str:
    return f"! {gap.label}: manager {gap.manager_name or gap.manager_id}: {gap.reason.value}"


def _section(
    title: str, items: Sequence[Any], render: Callable[[Any], str], limit: int
) -> list[str]:
    if not items:
        return []
    shown = [f"  {render(item)}" for item in items[:limit]]
    extra = len(items) - limit
    more = [f"  ... and {extra} more (use --csv for all)"] if extra > 0 else []
    return [f"{title}:", *shown, *more, ""]


def plan_rows(plan: Plan) -> Iterator[tuple[str, ...]]:
    """Every row of the plan, one per field change or finding, for CSV export."""
    for c in plan.creates:
        for attr, value in c.values:
            shown = plan.manager_name(value) if attr is Attr.MANAGER else value
            yield ("create", c.label, c.entra_user_id, attr.value, "", shown or "", "")
    for u in plan.updates:
        for ch in u.changes:
            before, after = _value(plan, ch, ch.before), _value(plan, ch, ch.after)
            yield ("update", u.label, u.object_key, ch.attr.value, before, after, "")
    for i in plan.inactivations:
        for ch in i.changes:
            before, after = _value(plan, ch, ch.before), _value(plan, ch, ch.after)
            yield (
                "inactivate",
                i.label,
                i.object_key,
                ch.attr.value,
                before,
                after,
                i.reason.value,
            )
    for n in plan.unmatched:
        yield (
            "unmatched",
            n.display_name,
            n.account_id,
            "email",
            "",
            n.email or "",
            n.reason.value,
        )
    for m in plan.missing_managers:
        yield (
            "missing_manager",
            m.label,
            m.entra_user_id,
            "manager",
            "",
            m.manager_name or m.manager_id,
            m.reason.value,
        )
    for w in plan.warnings:
        yield ("warning", w.subject, "", w.code.value, "", "", w.message)


def plan_csv(plan: Plan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(_safe_cell_row(row) for row in plan_rows(plan))
    return buffer.getvalue()


def _safe_cell_row(row: Sequence[str]) -> list[str]:
    """Neutralise spreadsheet formulas: directory data is not ours to execute."""
    return ["'" + cell if cell[:1] in ("=", "+", "-", "@") else cell for cell in row]


def failures_text(outcomes: Sequence[ChangeOutcome], limit: int = 10) -> str:
    failed = [o for o in outcomes if o.status is OutcomeStatus.FAILED]
    if not failed:
        return ""
    lines = [f"{len(failed)} changes failed:"]
    lines += [f"  {o.kind.value} {o.label}: {o.detail}" for o in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"  ... and {len(failed) - limit} more")
    return "\n".join(lines)
