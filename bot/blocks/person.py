"""One person in Slack: ``/entra explain``'s reply and ``/entra sync <person>``'s result.

Pure: a :class:`core.runs.PersonReport` in, a :class:`Message` out. Every name and
value is someone else's data, so it is escaped; every list is cut with "… and N more"
(the whole answer is one ``entra-sync explain`` away).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.blocks.escape import clip, escape_mrkdwn, is_user_id, plural, user_mention
from bot.blocks.message import (
    MAX_SECTION_TEXT,
    MAX_VIEW_TITLE,
    ROWS_SHOWN,
    Block,
    Message,
    context,
    header,
    lines_text,
    message,
    plain,
    section,
)
from bot.ids import EXPLAIN_BLOCK, EXPLAIN_INPUT, View
from core.runs import MAX_QUERY, PersonReport, PersonSyncResult
from core.store import PersonWrite
from core.sync import (
    ChangeFacts,
    Explanation,
    FieldChange,
    Inactivation,
    NotFound,
    OutcomeStatus,
    Plan,
    Update,
)

VALUE_CHARS = 80
SENTENCE_CHARS = 600
WHERE = "(entra-sync explain shows all)"


def _v(value: str | None) -> str:
    return escape_mrkdwn(clip(value, VALUE_CHARS)) if value else "_(empty)_"


def _who(actor: str) -> str:
    """A Slack user as a mention (the approver who applied it); anyone else as text."""
    return user_mention(actor) if is_user_id(actor) else escape_mrkdwn(clip(actor, 60))


def _t(sentence: str) -> str:
    """A sentence of the explanation (a rule, how someone matched): longer than a value."""
    return escape_mrkdwn(clip(sentence, SENTENCE_CHARS))


def explanation_message(report: PersonReport) -> Message:
    """The whole explanation, or the people to choose from, or "nobody"."""
    answer = report.answer
    if isinstance(answer, NotFound):
        return _not_found(answer)
    name = clip(answer.label, 100)
    blocks: list[Block] = [header(f"Explain: {name}")]
    blocks += [section(text) for text in _identity(answer)]
    blocks.append(section(_next_sync(answer)))
    blocks.append(section(lines_text("*Why*", [f"• {_t(r)}" for r in answer.rules])))
    blocks.append(section(_history(report.history)))
    cost = ", ".join(f"{n} {service}" for service, n in sorted(report.requests.items()))
    blocks.append(context(f"Read with {cost or 'no requests'} in {report.seconds:.1f}s"))
    summary = "nothing" if answer.nothing else plural(len(answer.changes), "change")
    return message(f"{name}: the next sync makes {summary}.", blocks)


def _not_found(answer: NotFound) -> Message:
    query = escape_mrkdwn(clip(answer.query, 100))
    if answer.choices:
        lines = [
            f"• *{escape_mrkdwn(clip(c.label, 80))}*: `/entra explain "
            f"{escape_mrkdwn(clip(c.ask, 120))}` ({escape_mrkdwn(clip(c.detail, 200))})"
            for c in answer.choices
        ]
        title = f"{len(answer.choices)} people match *{query}*; ask for one:"
        return message(f"{len(answer.choices)} people match.", [section(lines_text(title, lines))])
    text = (
        f"Nobody matches *{query}*: no Atlassian account, directory user or Employee answers "
        "to it. Names are searched among Atlassian accounts, Employees and the directory "
        "users a sync reads; an email is also asked of Entra ID."
    )
    return message("Nobody matches.", [section(text)])


def _identity(answer: Explanation) -> list[str]:
    accounts = [
        f"• `{escape_mrkdwn(a.account_id)}` {_v(a.display_name)}, "
        f"{'active' if a.active else '*inactive*'}, "
        + (f"{_v(a.email)} ({a.email_source})" if a.email else "email hidden")
        for a in answer.accounts
    ]
    users = []
    for u in answer.users:
        flags = [
            f for f in ("*disabled*" if not u.enabled else "", "guest" if u.guest else "") if f
        ]
        suffix = f" [{', '.join(flags)}]" if flags else ""
        users.append(f"• {_v(u.display_name)} `{u.id}`{suffix}")
        users += [f"    {_t(how)}" for how in u.how]
    employees = []
    for e in answer.employees:
        owned = "" if e.owned else " (*not owned by the sync*)"
        values = dict(e.values)
        shown = ", ".join(
            f"{attr}: {_v(values.get(attr))}" for attr in ("Active", "Email", "Manager")
        )
        employees.append(f"• `{escape_mrkdwn(e.object_key)}`{owned}: {shown}")
    managers = [
        f"• {_v(m.display_name or m.id)}"
        + (f" `{escape_mrkdwn(m.object_key)}`" if m.object_key else "")
        + f": {_t(m.link)}"
        for m in answer.managers
    ]
    return [
        _list("*Atlassian accounts*", accounts),
        _list("*Directory users*", users),
        _list("*Employee objects*", employees),
        _list("*Manager*", managers, empty="none in Entra ID"),
    ]


def _list(title: str, lines: Sequence[str], *, empty: str = "none") -> str:
    if not lines:
        return f"{title}: {empty}"
    return lines_text(title, lines, where=WHERE)


def _changes(changes: Iterable[FieldChange]) -> list[str]:
    return [f"    {fc.attr.value}: {_v(fc.before)} → {_v(fc.after)}" for fc in changes]


def _change_lines(change: ChangeFacts) -> list[str]:
    where = f" `{escape_mrkdwn(change.object_key)}`" if change.object_key else ""
    reason = f" ({escape_mrkdwn(change.reason)})" if change.reason else ""
    return [f"• *{change.kind}*{where} {_v(change.label)}{reason}", *_changes(change.changes)]


def _next_sync(answer: Explanation) -> str:
    if answer.nothing:
        return "*Next sync*: nothing"
    lines = [line for change in answer.changes for line in _change_lines(change)]
    return lines_text("*Next sync*", lines, where=WHERE)


def _history(history: Sequence[PersonWrite]) -> str:
    if not history:
        return "*History*: no stored writes"
    lines: list[str] = []
    for write in history[:ROWS_SHOWN]:
        run, o = write.run, write.outcome
        lines.append(
            f"• run #{run.id} {run.started_at:%Y-%m-%d %H:%M} UTC, {run.kind.value} by "
            f"{_who(run.requested_by)}: {o.kind.value} {o.status.value}"
        )
        lines += _changes(o.changes)
    return lines_text("*History*", lines, where=WHERE, limit=MAX_SECTION_TEXT - 100) + (
        f"\n… and {len(history) - ROWS_SHOWN} earlier writes {WHERE}"
        if len(history) > ROWS_SHOWN
        else ""
    )


def person_sync_message(result: PersonSyncResult) -> Message:
    """An approver's ``/entra sync <person>``: what was written for them, and how it went."""
    plan = result.plan
    name = clip(_plan_label(result) or "this person", 100)
    if plan.is_empty:
        text = f"{name}: nothing to write; Assets already matches the directory for them."
        return message(text, [section(escape_mrkdwn(text)), _cost(result)])
    lines: list[str] = []
    for create in plan.creates:
        lines.append(f"• *create* {_v(create.label)}")
        lines += _changes(FieldChange(a, None, v) for a, v in create.values if v)
    for change in _writes(plan):
        lines.append(f"• *{_kind(change)}* `{escape_mrkdwn(change.object_key)}` {_v(change.label)}")
        lines += _changes(change.changes)
    applied = result.applied
    done = f"{applied.succeeded} applied, {applied.failed} failed" if applied else "not applied"
    failures = [
        f"• {_v(o.label)}: {_v(o.detail)}"
        for o in (applied.outcomes if applied else ())
        if o.status is OutcomeStatus.FAILED
    ]
    blocks = [
        header(f"Synced: {name}"),
        section(lines_text(f"*Run #{result.run_id}*: {done}", lines, where=WHERE)),
    ]
    if failures:
        blocks.append(section(lines_text("*Failed*", failures)))
    blocks.append(_cost(result))
    return message(f"{name}: {done} (run #{result.run_id}).", blocks)


def _plan_label(result: PersonSyncResult) -> str | None:
    plan = result.plan
    own = [c.label for c in plan.creates]
    own += [c.label for c in _writes(plan) if result.person.has_change(c)]
    return own[0] if own else None


def _writes(plan: Plan) -> list[Update | Inactivation]:
    return [*plan.updates, *plan.inactivations]


def _kind(change: Update | Inactivation) -> str:
    return "inactivate" if isinstance(change, Inactivation) else "update"


def _cost(result: PersonSyncResult) -> Block:
    cost = ", ".join(f"{n} {service}" for service, n in sorted(result.requests.items()))
    return context(f"Read and written with {cost or 'no requests'} in {result.seconds:.1f}s")


def explain_modal() -> dict[str, Any]:
    """The App Home's Explain a Person: one box for an email, a name or an account id."""
    element = {
        "type": "plain_text_input",
        "action_id": EXPLAIN_INPUT,
        "placeholder": plain("alice@example.com, Alice Smith or an account id", 150),
        "max_length": MAX_QUERY,
    }
    return {
        "type": "modal",
        "callback_id": View.EXPLAIN.value,
        "title": plain("Explain a Person", MAX_VIEW_TITLE),
        "submit": plain("Explain", MAX_VIEW_TITLE),
        "close": plain("Cancel", MAX_VIEW_TITLE),
        "blocks": [
            {
                "type": "input",
                "block_id": EXPLAIN_BLOCK,
                "label": plain("Person", 2000),
                "hint": plain(
                    "Their Atlassian account, how they match in Entra ID, their Employee, "
                    "what the next sync does for them and why. The answer comes as a "
                    "direct message from the app.",
                    2000,
                ),
                "element": element,
            }
        ],
    }


def explain_query(view: Mapping[str, Any]) -> str:
    """What was typed into :func:`explain_modal` (empty when nothing was)."""
    values = view.get("state", {}).get("values", {})
    typed = values.get(EXPLAIN_BLOCK, {}).get(EXPLAIN_INPUT, {}).get("value")
    return str(typed or "")
