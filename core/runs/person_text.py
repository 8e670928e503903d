"""One person's explanation and history as terminal text and as JSON.

Both shells' plain-text forms come from here (the Slack builders in ``bot/blocks``
draw their own), so the command line and a log say the same thing in the same words.
Every name and value goes through :func:`core.sync.printable`: they come from other
people's directories.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from core.runs.explain import PersonReport
from core.runs.report import requests_text
from core.store import PersonWrite
from core.sync import ChangeFacts, Explanation, FieldChange, NotFound, printable


def _shown(value: str | None) -> str:
    return printable(value) if value else "(empty)"


def change_lines(changes: Iterable[FieldChange], indent: str = "      ") -> list[str]:
    return [f"{indent}{fc.attr.value}: {_shown(fc.before)} -> {_shown(fc.after)}" for fc in changes]


def explanation_text(report: PersonReport) -> str:
    """The whole answer: who they are on each side, what the next sync does, and why."""
    answer = report.answer
    if isinstance(answer, NotFound):
        return not_found_text(answer)
    lines = [f"{printable(answer.label)} (asked for {printable(answer.query)!r})", ""]
    lines += _accounts(answer) + _users(answer) + _employees(answer) + _managers(answer)
    lines += ["", "Next sync:"]
    lines += [line for change in answer.changes for line in _change(change)]
    if answer.nothing:
        lines.append("  nothing")
    lines += ["", "Why:"] + [f"  - {printable(rule)}" for rule in answer.rules]
    lines += ["", "History:"] + (history_lines(report.history) or ["  no stored writes"])
    lines += ["", f"Read with {requests_text(report.requests)} in {report.seconds:.2f}s"]
    return "\n".join(lines)


def not_found_text(answer: NotFound) -> str:
    if answer.choices:
        lines = [f"{len(answer.choices)} people match {printable(answer.query)!r}; ask for one:"]
        lines += [
            f"  {printable(c.label)}: {printable(c.ask)} ({printable(c.detail)})"
            for c in answer.choices
        ]
        return "\n".join(lines)
    return (
        f"Nobody matches {printable(answer.query)!r}: no Atlassian account, directory user or "
        "Employee answers to it. Names are searched among Atlassian accounts, Employees and "
        "the directory users a sync reads; an email is also asked of Entra ID."
    )


def _accounts(answer: Explanation) -> list[str]:
    lines = ["Atlassian accounts:"]
    for a in answer.accounts:
        state = "active" if a.active else "inactive"
        email = f"{printable(a.email)} ({a.email_source})" if a.email else "email hidden"
        lines.append(f"  {a.account_id}  {printable(a.display_name)}, {state}, {email}")
    return lines if answer.accounts else ["Atlassian accounts: none"]


def _users(answer: Explanation) -> list[str]:
    lines = ["Directory users:"]
    for u in answer.users:
        flags = ", ".join(
            f for f in ("disabled" if not u.enabled else "", "guest" if u.guest else "") if f
        )
        lines.append(
            f"  {u.id}  {printable(u.display_name)} <{printable(u.user_principal_name)}>"
            + (f" [{flags}]" if flags else "")
        )
        lines += [f"      {printable(how)}" for how in u.how]
    return lines if answer.users else ["Directory users: none"]


def _employees(answer: Explanation) -> list[str]:
    lines = ["Employee objects:"]
    for e in answer.employees:
        owned = "" if e.owned else " (not owned by the sync)"
        lines.append(f"  {e.object_key}{owned}")
        lines += [f"      {attr}: {_shown(value)}" for attr, value in e.values if value]
    return lines if answer.employees else ["Employee objects: none"]


def _managers(answer: Explanation) -> list[str]:
    lines = []
    for m in answer.managers:
        key = f", Employee {m.object_key}" if m.object_key else ""
        name = printable(m.display_name or m.id)
        lines.append(f"Manager: {name} ({m.id}{key}): {printable(m.link)}")
    return lines or ["Manager: none in Entra ID"]


def _change(change: ChangeFacts) -> list[str]:
    where = f" {change.object_key}" if change.object_key else ""
    reason = f" ({change.reason})" if change.reason else ""
    head = f"  {change.kind}{where} {printable(change.label)}{reason}"
    return [head, *change_lines(change.changes, "      ")]


def history_lines(history: Iterable[PersonWrite]) -> list[str]:
    lines = []
    for write in history:
        run, o = write.run, write.outcome
        key = f" {o.object_key}" if o.object_key else ""
        lines.append(
            f"  run #{run.id} {run.started_at:%Y-%m-%d %H:%M} UTC, {run.kind.value} by "
            f"{printable(run.requested_by)}: {o.kind.value}{key} {printable(o.label)} "
            f"{o.status.value}" + (f": {printable(o.detail)}" if o.detail else "")
        )
        lines += change_lines(o.changes, "      ")
    return lines


def report_json(report: PersonReport) -> dict[str, Any]:
    """The report as plain JSON values (attributes by name)."""
    answer: dict[str, Any] = _plain(asdict(report.answer))
    answer["found"] = isinstance(report.answer, Explanation)
    if isinstance(report.answer, Explanation):
        answer["nothing"] = report.answer.nothing
    return {
        "answer": answer,
        "history": [person_write_json(w) for w in report.history],
        "requests": report.requests,
        "seconds": report.seconds,
    }


def person_write_json(write: PersonWrite) -> dict[str, Any]:
    run, o = write.run, write.outcome
    return {
        "run": run.id,
        "at": run.started_at.isoformat(),
        "run_kind": run.kind.value,
        "by": run.requested_by,
        "kind": o.kind.value,
        "status": o.status.value,
        "object_key": o.object_key,
        "label": o.label,
        "detail": o.detail,
        "changes": [
            {"attribute": fc.attr.value, "before": fc.before, "after": fc.after} for fc in o.changes
        ],
    }


def _plain(value: Any) -> Any:
    """``asdict`` output with sets as sorted lists and enums as their values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value
    if isinstance(value, str) and hasattr(value, "value"):  # a StrEnum
        return str(value.value)
    return value
