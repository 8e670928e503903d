"""The local copy of the Entra directory and the ``deltaLink`` that continues it.

A run that reads the directory by Graph's delta query gets only the users changed
since the copy was saved; the copy supplies everyone else. Two rules keep it true:

* the copy and its links are saved together in one transaction, and only from a round
  Graph finished (its last page carried the ``deltaLink``): a read that failed half
  way leaves both as they were;
* a save names the version it read (compare-and-set): when two runs read at once,
  the second to finish saves nothing rather than mixing two rounds.

Two links are kept, the newest and the one before it, so a run can read from the
older one and see the last round's changes a second time (see :mod:`core.runs.directory`).
The copy is tied to an ``owner`` (the tenant, the Graph root and the ``$select`` it was
read with): after the connection moves to another tenant, or a release reads one more
field, the old copy is never read again and the next run reads everything.

Both tables come with schema revision 0003 (core/store/revisions).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from core.store.tables import UtcDateTime
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE, Attr, DirectoryUser, ManagerRef

COPY_ROW_ID = 1
"""One copy per installation: its state row always has this id."""
_CHUNK = 500  # ids per DELETE ... IN (...): far below every database's parameter limit
_INSERT_BATCH = 2_000  # rows per INSERT: one statement's worth, not a whole tenant's


class DirectoryCopyRow(SQLModel, table=True):
    __tablename__ = "directory_copy"

    id: int = Field(default=COPY_ROW_ID, primary_key=True)
    owner: str
    link: str = Field(sa_column=Column(Text, nullable=False))
    link_saved_at: datetime = Field(sa_type=UtcDateTime)
    previous_link: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previous_saved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int
    users: int


class DirectoryUserRow(SQLModel, table=True):
    """One user of the copy: the fields a :class:`DirectoryUser` holds.

    ``proxy_addresses`` and ``unknown`` are lists joined by line breaks (no address or
    attribute name holds one): plain text reads back without a JSON parse per row,
    which at 100,000 users is most of the load. ``manager_name`` is kept for a contact
    only; a user manager's name is that user's own, joined in when the copy is read.
    """

    __tablename__ = "directory_copy_user"

    id: str = Field(primary_key=True)
    display_name: str = Field(sa_column=Column(Text, nullable=False))
    mail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    user_principal_name: str = Field(sa_column=Column(Text, nullable=False))
    proxy_addresses: str = Field(default="", sa_column=Column(Text, nullable=False))
    department: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    job_title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    account_enabled: bool
    user_type: str | None = None
    manager_id: str | None = None
    manager_type: str | None = None
    manager_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    unknown: str = Field(default="", sa_column=Column(Text, nullable=False))


@dataclass(frozen=True)
class DirectoryCopy:
    """The copy as stored: users by id, the newest link and the one before it."""

    owner: str
    users: Mapping[str, DirectoryUser] = field(repr=False)
    link: str
    saved_at: datetime
    previous_link: str | None
    previous_saved_at: datetime | None
    version: int


@dataclass(frozen=True)
class DirectoryCopySave:
    """What a finished round changes in the copy.

    ``fresh``: the round listed everyone, so ``users`` replaces the copy; otherwise
    only ``changed`` (ids in ``users``) and ``removed`` are written. ``base_version``
    is the version the round was merged onto (None: there was no copy for ``owner``).
    """

    owner: str
    base_version: int | None
    users: Mapping[str, DirectoryUser] = field(repr=False)
    link: str
    previous_link: str | None
    previous_saved_at: datetime | None
    fresh: bool
    changed: Collection[str] = ()
    removed: Collection[str] = ()


class DirectoryCopyRecords:
    """The directory copy; needs the store's engine and clock."""

    _engine: Engine

    def _now(self) -> datetime:
        raise NotImplementedError

    def directory_copy(self, owner: str) -> DirectoryCopy | None:
        """The stored copy read from ``owner``, or None (none yet, or another tenant's)."""
        with self._engine.connect() as connection:
            state = connection.execute(select(_state_table())).mappings().first()
            if state is None or state["owner"] != owner:
                return None
            users = _read_users(connection)
        return DirectoryCopy(
            owner=owner,
            users=users,
            link=state["link"],
            saved_at=state["link_saved_at"],
            previous_link=state["previous_link"],
            previous_saved_at=state["previous_saved_at"],
            version=state["version"],
        )

    def save_directory_copy(self, save: DirectoryCopySave) -> bool:
        """Write the round and its link in one transaction; False when another run saved first."""
        try:
            with self._engine.begin() as connection:
                if not _claim(connection, save, self._now()):
                    return False  # nothing was written: the commit is empty
                _write_users(connection, save)
        except IntegrityError:  # two first saves at once: the other one is the copy
            return False
        return True

    def drop_directory_copy(self) -> None:
        """Forget the copy and its link: the next run reads the whole directory."""
        with self._engine.begin() as connection:
            connection.execute(delete(_user_table()))
            connection.execute(delete(_state_table()))


def _state_table() -> Table:
    table: Table = DirectoryCopyRow.__table__  # type: ignore[attr-defined]
    return table


def _user_table() -> Table:
    table: Table = DirectoryUserRow.__table__  # type: ignore[attr-defined]
    return table


def _claim(connection: Connection, save: DirectoryCopySave, now: datetime) -> bool:
    """Move the state row to the new link, only if it is still at ``base_version``."""
    state = _state_table()
    current = connection.execute(select(state.c.owner, state.c.version)).first()
    values = {
        "owner": save.owner,
        "link": save.link,
        "link_saved_at": now,
        "previous_link": save.previous_link,
        "previous_saved_at": save.previous_saved_at,
        "users": len(save.users),
    }
    if current is None:
        if save.base_version is not None:
            return False
        connection.execute(insert(state).values(id=COPY_ROW_ID, version=1, **values))
        return True
    owner, version = current
    if owner != save.owner and not save.fresh:
        return False  # changes read for one tenant never land on another's copy
    expected = save.base_version if owner == save.owner else version
    if expected is None:
        return False
    moved = connection.execute(
        update(state)
        .where(state.c.id == COPY_ROW_ID, state.c.version == expected, state.c.owner == owner)
        .values(version=expected + 1, **values)
    )
    return moved.rowcount == 1


def _write_users(connection: Connection, save: DirectoryCopySave) -> None:
    users = _user_table()
    if save.fresh:
        connection.execute(delete(users))
        written: Iterable[DirectoryUser] = save.users.values()
    else:
        gone = set(save.removed) | set(save.changed)
        for chunk in _chunks(sorted(gone)):
            connection.execute(delete(users).where(users.c.id.in_(chunk)))
        written = (save.users[user_id] for user_id in save.changed)
    batch: list[dict[str, Any]] = []
    for user in written:  # in batches: a first round's 100,000 rows are never all held
        batch.append(_row(user))
        if len(batch) == _INSERT_BATCH:
            connection.execute(insert(users), batch)
            batch = []
    if batch:
        connection.execute(insert(users), batch)


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _row(user: DirectoryUser) -> dict[str, Any]:
    manager = user.manager
    return {
        "id": user.id,
        "display_name": user.display_name,
        "mail": user.mail,
        "user_principal_name": user.user_principal_name,
        "proxy_addresses": _SEPARATOR.join(user.proxy_addresses),
        "department": user.department,
        "job_title": user.job_title,
        "account_enabled": user.account_enabled,
        "user_type": user.user_type,
        "manager_id": manager.id if manager else None,
        "manager_type": manager.odata_type if manager else None,
        "manager_name": manager.display_name if manager and manager.is_contact else None,
        "unknown": _SEPARATOR.join(sorted(attr.value for attr in user.unknown)),
    }


def _read_users(connection: Connection) -> dict[str, DirectoryUser]:
    """Every user of the copy, a user manager named by that user's display name.

    Built for 100,000 rows: plain tuples, a self-join for the manager's name, and the
    values many users share (department, title, type, the manager's id and reference)
    held once rather than once per row.
    """
    user, boss = _user_table().alias("u"), _user_table().alias("m")
    query = select(
        *(user.c[name] for name in _COLUMNS), boss.c.display_name.label("boss_name")
    ).outerjoin(boss, boss.c.id == user.c.manager_id)
    shared = _Shared()
    users: dict[str, DirectoryUser] = {}
    for row in connection.execute(query):
        (uid, name, mail, upn, proxies, department, title, enabled, kind) = row[:9]
        (manager_id, manager_type, manager_name, unknown, boss_name) = row[9:]
        manager = None
        if manager_id:
            if manager_type != GRAPH_CONTACT_TYPE:
                manager_name = boss_name or None
            manager = shared.manager(manager_id, manager_type, manager_name)
        users[uid] = DirectoryUser(
            id=uid,
            display_name=name,
            mail=mail,
            user_principal_name=upn,
            proxy_addresses=tuple(proxies.split(_SEPARATOR)) if proxies else (),
            department=shared.text(department),
            job_title=shared.text(title),
            account_enabled=bool(enabled),
            user_type=shared.text(kind),
            manager=manager,
            unknown=shared.unknown(unknown),
        )
    return users


_SEPARATOR = "\n"
_COLUMNS = (
    "id",
    "display_name",
    "mail",
    "user_principal_name",
    "proxy_addresses",
    "department",
    "job_title",
    "account_enabled",
    "user_type",
    "manager_id",
    "manager_type",
    "manager_name",
    "unknown",
)


class _Shared:
    """One object for each value many users repeat, so the copy costs less memory."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._managers: dict[tuple[str, str, str | None], ManagerRef] = {}
        self._unknown: dict[str, frozenset[Attr]] = {"": frozenset()}

    def text(self, value: str | None) -> str | None:
        return None if value is None else self._texts.setdefault(value, value)

    def manager(self, manager_id: str, kind: str | None, name: str | None) -> ManagerRef:
        key = (manager_id, kind or GRAPH_USER_TYPE, name)
        found = self._managers.get(key)
        if found is None:
            found = self._managers[key] = ManagerRef(*key)
        return found

    def unknown(self, value: str) -> frozenset[Attr]:
        found = self._unknown.get(value)
        if found is None:
            found = self._unknown[value] = frozenset(Attr(v) for v in value.split(_SEPARATOR))
        return found
