"""The directory copy in the store: saved with its links in one go, compare-and-set, per tenant."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, text

from core.store import DirectoryCopySave, Store
from core.store.secrets import SecretCipher
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE, Attr, DirectoryUser, ManagerRef
from tests.clock import HandClock

OWNER = "tenant-a https://graph.microsoft.com"
OTHER = "tenant-b https://graph.microsoft.com"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(START)


@pytest.fixture
def store(tmp_path: Path, clock: HandClock) -> Iterator[Store]:
    cipher = SecretCipher([Fernet.generate_key()])
    store = Store(f"sqlite:///{tmp_path / 'copy.db'}", cipher, clock=clock)
    yield store
    store.close()


def person(number: int, **fields: object) -> DirectoryUser:
    """Person 1 manages everyone else; a copy read back names a user manager so."""
    user = DirectoryUser(
        id=f"u-{number}",
        display_name=f"Person {number}",
        mail=f"p{number}@contoso.com",
        user_principal_name=f"p{number}@contoso.onmicrosoft.com",
        proxy_addresses=(f"SMTP:p{number}@contoso.com",),
        department="Sales",
        job_title="Seller",
        manager=ManagerRef("u-1", GRAPH_USER_TYPE, "Person 1") if number != 1 else None,
    )
    return replace(user, **fields)  # type: ignore[arg-type]


def fresh(owner: str, users: list[DirectoryUser], link: str, base: int | None) -> DirectoryCopySave:
    return DirectoryCopySave(
        owner=owner,
        base_version=base,
        users={u.id: u for u in users},
        link=link,
        previous_link=None,
        previous_saved_at=None,
        fresh=True,
    )


def test_a_fresh_copy_round_trips_every_field(store: Store) -> None:
    """A user manager comes back named by that user's own display name."""
    odd = person(
        3,
        mail=None,
        proxy_addresses=(),
        department=None,
        user_type=None,
        account_enabled=False,
        manager=ManagerRef("c-1", GRAPH_CONTACT_TYPE, "Outside Adviser"),
        unknown=frozenset({Attr.ACTIVE}),
    )
    users = [person(1), person(2), odd]
    assert store.directory_copy(OWNER) is None
    assert store.save_directory_copy(fresh(OWNER, users, "link-1", None))
    copy = store.directory_copy(OWNER)
    assert copy is not None
    assert dict(copy.users) == {u.id: u for u in users}
    assert (copy.link, copy.saved_at, copy.version) == ("link-1", START, 1)
    assert (copy.previous_link, copy.previous_saved_at) == (None, None)


def test_a_change_round_writes_only_its_users_and_moves_both_links(
    store: Store, clock: HandClock
) -> None:
    store.save_directory_copy(fresh(OWNER, [person(1), person(2), person(3)], "link-1", None))
    clock.now = START + timedelta(days=1)
    changed = {"u-2": person(2, job_title="Lead"), "u-4": person(4)}
    save = DirectoryCopySave(
        owner=OWNER,
        base_version=1,
        users={"u-1": person(1), **changed},  # only changed users are read from here
        link="link-2",
        previous_link="link-1",
        previous_saved_at=START,
        fresh=False,
        changed=("u-2", "u-4"),
        removed=("u-3", "u-9"),  # one the copy never held: nothing to remove
    )
    assert store.save_directory_copy(save)
    copy = store.directory_copy(OWNER)
    assert copy is not None
    assert dict(copy.users) == {"u-1": person(1), **changed}
    assert (copy.link, copy.saved_at, copy.previous_link, copy.previous_saved_at) == (
        "link-2",
        START + timedelta(days=1),
        "link-1",
        START,
    )
    assert copy.version == 2


def test_a_save_from_an_older_version_is_refused_and_changes_nothing(store: Store) -> None:
    store.save_directory_copy(fresh(OWNER, [person(1)], "link-1", None))
    assert store.save_directory_copy(fresh(OWNER, [person(1), person(2)], "link-2", 1))
    late = fresh(OWNER, [person(5)], "link-late", 1)  # read version 1, now at 2
    assert not store.save_directory_copy(late)
    assert not store.save_directory_copy(fresh(OWNER, [person(5)], "link-late", None))
    copy = store.directory_copy(OWNER)
    assert copy is not None
    assert (copy.link, sorted(copy.users), copy.version) == ("link-2", ["u-1", "u-2"], 2)


def test_another_tenants_copy_is_never_read_and_is_replaced_by_a_fresh_read(store: Store) -> None:
    store.save_directory_copy(fresh(OWNER, [person(1)], "link-a", None))
    assert store.directory_copy(OTHER) is None
    changes = replace(fresh(OTHER, [person(7)], "link-b", None), fresh=False, changed=("u-7",))
    assert not store.save_directory_copy(changes)  # changes never land on another's copy
    assert store.save_directory_copy(fresh(OTHER, [person(7)], "link-b", None))
    assert store.directory_copy(OWNER) is None
    copy = store.directory_copy(OTHER)
    assert copy is not None and list(copy.users) == ["u-7"] and copy.version == 2


def test_dropping_the_copy_forgets_users_and_links(store: Store) -> None:
    store.save_directory_copy(fresh(OWNER, [person(1), person(2)], "link-1", None))
    store.drop_directory_copy()
    assert store.directory_copy(OWNER) is None
    assert store.save_directory_copy(fresh(OWNER, [person(1)], "link-2", None))


def test_an_older_database_gains_the_copy_tables_when_opened(tmp_path: Path) -> None:
    """A database at revision 0002, made before the copy existed, gains it from 0003."""
    path = tmp_path / "old.db"
    cipher = SecretCipher([Fernet.generate_key()])
    Store(f"sqlite:///{path}", cipher).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE directory_copy_user"))
        connection.execute(text("DROP TABLE directory_copy"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    assert "directory_copy" not in inspect(engine).get_table_names()
    reopened = Store(f"sqlite:///{path}", cipher)
    try:
        assert reopened.directory_copy(OWNER) is None
        assert reopened.save_directory_copy(fresh(OWNER, [person(1)], "link-1", None))
    finally:
        reopened.close()
    assert {"directory_copy", "directory_copy_user"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_copy_larger_than_one_insert_is_saved_whole(store: Store) -> None:
    """Rows go in by batches of 2,000; a tenant of 4,001 needs three, and loses none."""
    users = [person(number) for number in range(1, 4_002)]
    assert store.save_directory_copy(fresh(OWNER, users, "link-1", None))
    copy = store.directory_copy(OWNER)
    assert copy is not None
    assert dict(copy.users) == {u.id: u for u in users}
