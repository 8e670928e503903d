"""Graph's ``/users/delta``, answered as the documentation describes it.

* The first round (no token) lists every user, ``Prefer: odata.maxpagesize`` users a
  page (at most 200; 100 without the preference), each page but the last with an
  ``@odata.nextLink``, the last with an ``@odata.deltaLink``. A property never set
  is left out; ``$select=manager`` adds ``manager@delta``.
* A round from a ``deltaLink`` lists only users changed since its token: a removed
  user as ``{"id", "@removed": {"reason": "changed"}}``, a new or restored one whole,
  a changed one with every property that has a value (a property emptied since comes
  as null) or, with ``Prefer: return=minimal``, only what changed. A changed manager
  comes as ``manager@delta`` with the old one ``@removed``.
* Query parameters go in the first request only; the tokens carry them. ``$top``,
  ``$expand``, ``$orderby`` and ``$filter`` are refused (the engine sends none).
* :meth:`core.sandbox.Sandbox.expire_delta_tokens` makes every token issued so far
  refused, with ``400 syncStateNotFound`` as after Graph's seven days, or
  ``410 Gone`` (``resyncRequired``) as after a reset of the tenant's tracking.

What "changed" means is the users' rendered state, so a deleted manager's reports
change too (Graph no longer names a manager for them), as the full listing shows.
"""

from __future__ import annotations

import base64
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import httpx

from core.sandbox.graph_query import DEFAULT_USER_SELECT, USER_PROPERTIES, parse_select
from core.sandbox.http import graph_error, json_response, origin
from core.sandbox.state import SandboxState, Seen

DEFAULT_PAGE = 100
MAX_PAGE = 200
KEPT_ROUNDS = 8  # first rounds whose user lists are kept for their later pages
UNSUPPORTED = ("$top", "$expand", "$orderby", "$filter", "$count", "$search")


@dataclass(frozen=True)
class Cursor:
    """Where a round is: changes after ``base`` (None: everyone) up to ``upto``."""

    epoch: int
    base: int | None
    upto: int
    offset: int
    select: tuple[str, ...]
    manager: bool

    def encode(self, *, delta: bool) -> str:
        fields = {
            "e": self.epoch,
            "b": self.base,
            "u": self.upto,
            "o": self.offset,
            "p": list(self.select),
            "m": self.manager,
        }
        prefix = "D" if delta else "S"
        return prefix + base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()

    @classmethod
    def decode(cls, token: str, *, delta: bool) -> Cursor:
        try:
            if token[:1] != ("D" if delta else "S"):
                raise ValueError(token[:1])
            fields = json.loads(base64.urlsafe_b64decode(token[1:]))
            return cls(
                int(fields["e"]),
                None if fields["b"] is None else int(fields["b"]),
                int(fields["u"]),
                int(fields["o"]),
                tuple(str(p) for p in fields["p"]),
                bool(fields["m"]),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            name = "$deltatoken" if delta else "$skiptoken"
            raise graph_error(400, "Request_BadRequest", f"'{name}' is malformed.") from None


def handle_delta(state: SandboxState, request: httpx.Request) -> httpx.Response:
    """``GET /v1.0/users/delta``: one page of a round."""
    params = request.url.params
    for name in UNSUPPORTED:
        if name in params:
            raise graph_error(
                400,
                "Request_UnsupportedQuery",
                f"The query parameter '{name}' is not supported with change tracking.",
            )
    size, minimal = _preferences(request)
    cursor = _cursor(state, request)
    _check_epoch(state, request, cursor)
    if cursor.base is None:
        listed = _first_round(state, cursor)
        total = len(listed)
        items = [_entry(state, state.seen(i), cursor) for i in listed[cursor.offset :][:size]]
    else:
        changed = _changed_since(state, cursor.base, cursor.upto)
        total = len(changed)
        page = changed[cursor.offset :][:size]
        items = [_change(state, i, before, cursor, minimal) for i, before in page]
    body: dict[str, Any] = {"@odata.context": f"{origin(request)}/v1.0/$metadata#users"}
    end = cursor.offset + size
    if end < total:
        token = Cursor(cursor.epoch, cursor.base, cursor.upto, end, cursor.select, cursor.manager)
        body["@odata.nextLink"] = _link(request, "$skiptoken", token.encode(delta=False))
    else:
        token = Cursor(cursor.epoch, cursor.upto, cursor.upto, 0, cursor.select, cursor.manager)
        body["@odata.deltaLink"] = _link(request, "$deltatoken", token.encode(delta=True))
    body["value"] = [item for item in items if item is not None]
    headers = {"Preference-Applied": f"odata.maxpagesize={size}"} if _asked_size(request) else {}
    return json_response(200, body, headers)


def _preferences(request: httpx.Request) -> tuple[int, bool]:
    """(page size, return=minimal) from the ``Prefer`` header."""
    size, minimal = DEFAULT_PAGE, False
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.lower() == "odata.maxpagesize":
            with contextlib.suppress(ValueError):  # an unreadable preference is ignored
                size = max(1, min(int(value), MAX_PAGE))
        elif name.lower() == "return" and value.lower() == "minimal":
            minimal = True
    return size, minimal


def _asked_size(request: httpx.Request) -> bool:
    return "odata.maxpagesize" in request.headers.get("Prefer", "").lower()


def _cursor(state: SandboxState, request: httpx.Request) -> Cursor:
    params = request.url.params
    if "$deltatoken" in params:
        issued = Cursor.decode(params["$deltatoken"], delta=True)
        return Cursor(issued.epoch, issued.base, state.delta.seq, 0, issued.select, issued.manager)
    if "$skiptoken" in params:
        return Cursor.decode(params["$skiptoken"], delta=False)
    select, manager = _parse_select(params.get("$select"))
    return Cursor(state.delta.epoch, None, state.delta.seq, 0, select, manager)


def _parse_select(raw: str | None) -> tuple[tuple[str, ...], bool]:
    """The user properties and whether ``manager`` (a navigation property) was selected."""
    if raw is None:
        return DEFAULT_USER_SELECT, False
    names = [part.strip() for part in raw.split(",")]
    manager = any(name.lower() == "manager" for name in names)
    rest = ",".join(name for name in names if name.lower() != "manager")
    return parse_select(rest or "id"), manager


def _check_epoch(state: SandboxState, request: httpx.Request, cursor: Cursor) -> None:
    if cursor.epoch >= state.delta.epoch:
        return
    if state.delta.gone:
        select = ",".join(cursor.select) + (",manager" if cursor.manager else "")
        location = f"{origin(request)}/v1.0/users/delta?$select={select}"
        error = graph_error(
            410, "resyncRequired", "Resync required: replace the local copy with a full read."
        )
        error.headers["Location"] = location
        raise error
    raise graph_error(
        400,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data "
        "must be synchronized again.",
    )


def _first_round(state: SandboxState, cursor: Cursor) -> tuple[str, ...]:
    """The user ids a first round lists, fixed when it starts so its pages agree."""
    key = f"{cursor.epoch}:{cursor.upto}"
    rounds = state.delta.rounds
    if key not in rounds:
        if cursor.offset:
            raise graph_error(400, "Request_BadRequest", "'$skiptoken' has expired.")
        rounds[key] = tuple(state.users)
        while len(rounds) > KEPT_ROUNDS:
            del rounds[next(iter(rounds))]
    return rounds[key]


def _changed_since(state: SandboxState, base: int, upto: int) -> list[tuple[str, Seen | None]]:
    """Each user touched after ``base`` (up to ``upto``), with how they were at ``base``."""
    before: dict[str, Seen | None] = {}
    for seq, user_id, seen in state.delta.entries:
        if base < seq <= upto and user_id not in before:
            before[user_id] = seen
    return list(before.items())


def _link(request: httpx.Request, name: str, token: str) -> str:
    return f"{origin(request)}/v1.0/users/delta?{name}={token}"


def _value(state: SandboxState, seen: Seen, name: str) -> Any:
    return None if name in state.withheld else USER_PROPERTIES[name](seen[0])


def _entry(
    state: SandboxState, seen: Seen | None, cursor: Cursor, emptied: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    """A user whole: every selected property with a value, and ``emptied`` ones as null."""
    if seen is None:
        return None
    body: dict[str, Any] = {"id": seen[0].id}
    for name in cursor.select:
        value = _value(state, seen, name)
        if value is not None or name in emptied or name in state.withheld:
            body[name] = value
    if cursor.manager and seen[1] is not None:
        manager_id, kind = seen[1]
        body["manager@delta"] = [{"@odata.type": kind, "id": manager_id}]
    return body


def _change(
    state: SandboxState, user_id: str, before: Seen | None, cursor: Cursor, minimal: bool
) -> dict[str, Any] | None:
    """What a round from ``cursor.base`` says about one user touched since."""
    now = state.seen(user_id)
    if now is None:
        return None if before is None else {"id": user_id, "@removed": {"reason": "changed"}}
    if before is None:
        return _entry(state, now, cursor)
    changed = frozenset(
        name
        for name in cursor.select
        if USER_PROPERTIES[name](before[0]) != USER_PROPERTIES[name](now[0])
    )
    manager_changed = cursor.manager and before[1] != now[1]
    if not changed and not manager_changed:
        return None
    if minimal:
        body: dict[str, Any] = {"id": user_id}
        body.update({name: _value(state, now, name) for name in changed})
    else:
        body = _entry(state, now, cursor, emptied=changed) or {}
    if manager_changed:
        body["manager@delta"] = _manager_change(before, now)
    return body


def _manager_change(before: Seen, now: Seen) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if before[1] is not None:
        manager_id, kind = before[1]
        items.append({"@odata.type": kind, "id": manager_id, "@removed": {"reason": "deleted"}})
    if now[1] is not None:
        manager_id, kind = now[1]
        items.append({"@odata.type": kind, "id": manager_id})
    return items
