"""Graph's ``/users/delta``: one round of change tracking merged onto a local copy.

A round is one or more pages: ``@odata.nextLink`` while there is more, and
``@odata.deltaLink`` on the last. The first round (no token) lists every user; a
round started from a saved ``deltaLink`` lists only users changed since, each with
its ``id`` and either ``@removed`` (deleted, or out of scope) or its properties.
The manager is tracked through ``$select=manager`` and comes as a
``manager@delta`` list of ``{"@odata.type", "id"}``, where an entry with
``@removed`` takes the manager away.

What a property's absence means is Graph's documented rule, not :func:`parse_user`'s:

* on a user the copy already holds, an absent property did not change, so the copy's
  value stays (with ``Prefer: return=minimal`` only changed properties come; without
  it, every property that has a value does);
* on a user the copy does not hold, an absent property was never set: empty;
* ``accountEnabled`` null, or absent on a new user, is Graph withholding it (every
  user has one), as a downgraded permission does. Such an entry is *withheld*: its
  nulls say nothing, so they empty nothing, and the user's Active is unknown. A round
  with a withheld entry is used for the run but never kept as the copy.

Nothing here does I/O: :meth:`core.clients.graph.GraphDirectory.delta_round` sends
the requests and hands each page to a :class:`RoundMerger`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.errors import ApiError, RequestRejected, UnreadableAnswer
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE, Attr, DirectoryUser, ManagerRef

DELTA_PATH = "/users/delta"
DELTA_SELECT = (
    "id,displayName,mail,userPrincipalName,proxyAddresses,department,jobTitle,"
    "accountEnabled,userType,manager"
)
DELTA_PAGE_SIZE = 200
"""What ``Prefer: odata.maxpagesize`` asks for: Graph answers at most 200 users a page."""

REFUSED_TOKEN_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
"""Error codes Graph answers a delta or skip token it no longer keeps with (400 or 410)."""

# Graph property -> DirectoryUser field, for the plain properties of a user.
_FIELDS = {
    "displayName": "display_name",
    "mail": "mail",
    "userPrincipalName": "user_principal_name",
    "proxyAddresses": "proxy_addresses",
    "department": "department",
    "jobTitle": "job_title",
    "userType": "user_type",
}
_SHARED_FIELDS = frozenset({"department", "jobTitle", "userType"})
"""Properties many users hold the same value of: each value is held once."""
_NOTHING_UNKNOWN: frozenset[Attr] = frozenset()
_EMPTY = DirectoryUser(
    id="", display_name="", mail=None, user_principal_name="", user_type=None, account_enabled=True
)


class DeltaLinkRefused(RequestRejected):
    """Graph no longer keeps the state a saved link points at: read everything again.

    Delta links of directory objects last seven days; Graph answers an older one
    ``400 syncStateNotFound``, and ``410 Gone`` (``resyncRequired``) when it reset the
    tenant's change tracking.
    """


def refused_token(error: ApiError) -> bool:
    """True when ``error`` is Graph refusing a delta or skip token, not any bad request."""
    if error.status == 410:
        return True
    text = str(error).lower()
    return error.status == 400 and any(code in text for code in REFUSED_TOKEN_CODES)


@dataclass(frozen=True)
class DeltaRound:
    """A completed round: the copy it leaves, what it changed, and its ``deltaLink``.

    ``copy`` is what the store keeps, each user manager named by that user's display
    name as a full read names it (the store keeps only a contact's name; a user
    manager's it joins in when it reads the copy). ``withheld`` counts the entries
    whose ``accountEnabled`` Graph withheld; a round with any is not kept.
    """

    copy: Mapping[str, DirectoryUser]
    link: str
    fresh: bool
    changed: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    withheld: int = 0

    @property
    def keepable(self) -> bool:
        return self.withheld == 0


def page_links(page: Any) -> tuple[str | None, str | None]:
    """``(nextLink, deltaLink)`` of a page; a page with neither did not finish the round."""
    if not isinstance(page, Mapping) or not isinstance(page.get("value"), list):
        raise UnreadableAnswer(
            "graph", "a users/delta page without a value list", method="GET", path=DELTA_PATH
        )
    next_link = page.get("@odata.nextLink")
    delta_link = page.get("@odata.deltaLink")
    if next_link:
        return str(next_link), None
    if delta_link:
        return None, str(delta_link)
    raise UnreadableAnswer(
        "graph",
        "a users/delta page with neither @odata.nextLink nor @odata.deltaLink: "
        "the round stopped before its end",
        method="GET",
        path=DELTA_PATH,
    )


class Interner:
    """One object for each value many users repeat: a tenant of 100,000 users has a few
    hundred departments, titles and managers, not 100,000 copies of each."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._managers: dict[tuple[str, str, str | None], ManagerRef] = {}

    def text(self, value: str) -> str:
        return self._texts.setdefault(value, value)

    def manager(self, manager_id: str, kind: str, name: str | None) -> ManagerRef:
        key = (self.text(manager_id), kind, name)
        found = self._managers.get(key)
        if found is None:
            found = self._managers[key] = ManagerRef(*key)
        return found


class RoundMerger:
    """Merges a round's pages as they come, so no page is held longer than its merge."""

    def __init__(self, copy: Mapping[str, DirectoryUser], *, fresh: bool) -> None:
        self._users: dict[str, DirectoryUser] = {} if fresh else dict(copy)
        self._shared = Interner()
        self._fresh = fresh
        self._changed: set[str] = set()
        self._removed: set[str] = set()
        self._withheld = 0

    def add(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """One page's entries, in order (Graph may list a user twice: the last wins)."""
        for raw in entries:
            user_id = self._shared.text(_entry_id(raw))
            if "@removed" in raw:
                self._users.pop(user_id, None)
                self._changed.discard(user_id)
                if not self._fresh:
                    self._removed.add(user_id)
                continue
            merged, withheld = merge_entry(self._users.get(user_id), raw, self._shared)
            self._withheld += withheld
            self._users[user_id] = merged
            self._changed.add(user_id)
            self._removed.discard(user_id)

    def finish(self, link: str) -> DeltaRound:
        """The round, each user manager named by that user's display name in the copy."""
        users = self._users
        for user_id, user in users.items():
            manager = user.manager
            if manager is None or manager.is_contact:
                continue
            name = _name_of(users.get(manager.id))
            if name != manager.display_name:
                named = self._shared.manager(manager.id, manager.odata_type, name)
                users[user_id] = replace(user, manager=named)
        return DeltaRound(
            self._users,
            link,
            self._fresh,
            frozenset(self._changed),
            frozenset(self._removed),
            self._withheld,
        )


def merge_entry(
    current: DirectoryUser | None, raw: Mapping[str, Any], shared: Interner | None = None
) -> tuple[DirectoryUser, bool]:
    """One user entry onto what the copy holds; True when Graph withheld ``accountEnabled``."""
    shared = shared if shared is not None else Interner()
    enabled = raw.get("accountEnabled", None if current is None else ...)
    withheld = enabled is None
    base = current if current is not None else replace(_EMPTY, id=shared.text(_entry_id(raw)))
    values: dict[str, Any] = {}
    for name, attribute in _FIELDS.items():
        if name not in raw or (withheld and raw[name] is None):
            continue
        value = _value(name, raw[name])
        values[attribute] = shared.text(value) if name in _SHARED_FIELDS and value else value
    unknown = set(base.unknown) - {Attr.ACTIVE}
    if withheld:
        unknown.add(Attr.ACTIVE)
        values["account_enabled"] = True
    elif isinstance(enabled, bool):
        values["account_enabled"] = enabled
    elif Attr.ACTIVE in base.unknown:
        unknown.add(Attr.ACTIVE)
    if "manager@delta" in raw:
        values["manager"] = _manager(raw["manager@delta"], base.manager, shared)
    known = _NOTHING_UNKNOWN if not unknown else frozenset(unknown)
    return replace(base, **values, unknown=known), withheld


def directory_view(copy: Mapping[str, DirectoryUser]) -> tuple[DirectoryUser, ...]:
    """The users the planner gets: as a full read gives them, managers named.

    A full read expands the manager with its display name; here a user manager's name
    is that user's own, read from the copy. A contact's name is kept in the copy. A
    finished round and a copy read from the store are named already, so this returns
    their users as they are; it names anything else.
    """
    return tuple(_named_manager(user, copy) for user in copy.values())


def _named_manager(user: DirectoryUser, copy: Mapping[str, DirectoryUser]) -> DirectoryUser:
    manager = user.manager
    if manager is None or manager.is_contact:
        return user
    name = _name_of(copy.get(manager.id))
    if name == manager.display_name:
        return user
    return replace(user, manager=replace(manager, display_name=name))


def _name_of(user: DirectoryUser | None) -> str | None:
    return (user.display_name or None) if user is not None else None


def unnamed_contacts(round_: DeltaRound) -> list[str]:
    """Users the round gave a contact manager whose name the copy does not know yet."""
    return sorted(
        user_id
        for user_id in round_.changed
        if (manager := round_.copy[user_id].manager) is not None
        and manager.is_contact
        and manager.display_name is None
    )


def with_contact_names(round_: DeltaRound, names: Mapping[str, str | None]) -> DeltaRound:
    """``round_`` with the contact managers' names a lookup found (user id -> name)."""
    copy = dict(round_.copy)
    for user_id, name in names.items():
        user = copy.get(user_id)
        if user is not None and user.manager is not None and user.manager.is_contact:
            copy[user_id] = replace(user, manager=replace(user.manager, display_name=name))
    return replace(round_, copy=copy)


def _entry_id(raw: Mapping[str, Any]) -> str:
    user_id = raw.get("id") if isinstance(raw, Mapping) else None
    if not user_id:
        raise UnreadableAnswer("graph", "a users/delta entry without an id", path=DELTA_PATH)
    return str(user_id).strip().lower()


def _value(name: str, value: Any) -> Any:
    if name == "proxyAddresses":
        return tuple(str(a) for a in value or ())
    if name in ("displayName", "userPrincipalName"):
        return str(value or "")
    return value or None


def _manager(items: Any, current: ManagerRef | None, shared: Interner) -> ManagerRef | None:
    """The manager a ``manager@delta`` list leaves: its last entry not ``@removed``."""
    alive = [
        item
        for item in items or ()
        if isinstance(item, Mapping) and item.get("id") and "@removed" not in item
    ]
    if not alive:
        return None
    item = alive[-1]
    manager_id = str(item["id"]).strip().lower()
    kind = str(item.get("@odata.type") or GRAPH_USER_TYPE)
    name = None
    if current is not None and current.id == manager_id and kind == GRAPH_CONTACT_TYPE:
        name = current.display_name  # a contact's name, found once, is kept
    return shared.manager(manager_id, kind, name)
