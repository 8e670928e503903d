"""Plain-text and CSV renderings of plans and apply results.

Pure functions from values to strings, shared by the CLI and by the bot's CSV file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

from core.sync.models import Attr
from core.sync.plan import (
    Create,
    Inactivation,
    MissingManager,
    Plan,
    PlanWarning,
    Unmatched,
    Update,
)
from core.sync.results import ChangeOutcome, OutcomeStatus
from core.sync.sections import (
    CREATES,
    CSV_HEADER,
    INACTIVATIONS,
    MISSING_MANAGERS,
    SECTIONS,
    UNMATCHED,
    UPDATES,
    WARNINGS,
    Section,
    plain_value,
)


def counts_lines(counts: dict[str, int]) -> list[str]:
    return [f"  {s.title:<30} {counts.get(s.key, 0):>6}" for s in SECTIONS]


def plan_text(plan: Plan, *, limit: int = 20) -> str:
    """Counts, then the first ``limit`` rows of each section."""
    lines = ["Preview", *counts_lines(plan.counts()), ""]
    for s in SECTIONS:
        lines += _section(s.title, s.items(plan), partial(_LINES[s], plan), limit)
    if plan.is_empty:
        lines.append("Nothing to write: Assets already matches the directory.")
    lines.append(f"Fingerprint {plan.fingerprint[:16]}")
    return "\n".join(lines)


def _create_line(_: Plan, create: Create) -> str:
    return f"+ {create.label} <{create.get(Attr.EMAIL) or ''}>"


def _update_line(plan: Plan, update: Update) -> str:
    changes = "; ".join(
        f"{c.attr.value}: {plain_value(plan, c, c.before)} -> {plain_value(plan, c, c.after)}"
        for c in update.changes
    )
    return f"~ {update.label} ({update.object_key}): {changes}"


def _inactivation_line(_: Plan, inactivation: Inactivation) -> str:
    return f"- {inactivation.label} ({inactivation.object_key}): {inactivation.reason.value}"


def _unmatched_line(_: Plan, unmatched: Unmatched) -> str:
    return f"? {unmatched.display_name} <{unmatched.email or 'hidden'}>: {unmatched.reason.value}"


def _missing_manager_line(_: Plan, gap: MissingManager) -> str:
    return f"! {gap.label}: manager {gap.manager_name or gap.manager_id}: {gap.reason.value}"


def _warning_line(_: Plan, warning: PlanWarning) -> str:
    return f"* {warning.subject}: {warning.message}"


_LINES: dict[Section[Any], Callable[[Plan, Any], str]] = {
    CREATES: _create_line,
    UPDATES: _update_line,
    INACTIVATIONS: _inactivation_line,
    UNMATCHED: _unmatched_line,
    MISSING_MANAGERS: _missing_manager_line,
    WARNINGS: _warning_line,
}
"""How one item of each section reads in the CLI preview."""


def _section(
    title: str, items: Sequence[Any], render: Callable[[Any], str], limit: int
) -> list[str]:
    if not items:
        return []
    shown = [f"  {printable(render(item))}" for item in items[:limit]]
    extra = len(items) - limit
    more = [f"  ... and {extra} more (use --csv for all)"] if extra > 0 else []
    return [f"{title}:", *shown, *more, ""]


def plan_rows(plan: Plan) -> Iterator[tuple[str, ...]]:
    """Every row of the plan, one per field change or finding, for CSV export."""
    for s in SECTIONS:
        yield from s.rows(plan)


def plan_csv(plan: Plan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(_safe_cell_row(row) for row in plan_rows(plan))
    return buffer.getvalue()


# What a spreadsheet may read as the start of a formula, full-width forms included
# (some spreadsheets fold them to their ASCII twins before parsing).
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# Characters that would let a directory value rewrite what a terminal shows: C0 and
# C1 controls (escape sequences, carriage returns, new lines) and bidi overrides.
_UNPRINTABLE = {
    code: f"\\u{code:04x}"
    for code in (
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
}


def printable(text: str) -> str:
    """``text`` with control and bidi characters shown as ``\\uXXXX``: one line, as written."""
    return text.translate(_UNPRINTABLE)


def _safe_cell_row(row: Sequence[str]) -> list[str]:
    """Neutralise spreadsheet formulas: directory data is not ours to execute."""
    return ["'" + cell if cell[:1] in FORMULA_STARTS else cell for cell in row]


def failures_text(outcomes: Sequence[ChangeOutcome], limit: int = 10) -> str:
    failed = [o for o in outcomes if o.status is OutcomeStatus.FAILED]
    if not failed:
        return ""
    lines = [f"{len(failed)} changes failed:"]
    lines += [printable(f"  {o.kind.value} {o.label}: {o.detail}") for o in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"  ... and {len(failed) - limit} more")
    return "\n".join(lines)
