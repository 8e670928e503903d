"""The order of creates: each manager in a wave before their reports', cycles broken once."""

from __future__ import annotations

from core.sync import Attr, Create
from core.sync.waves import create_waves


def create(entra_id: str, manager: str | None = None) -> Create:
    return Create(
        entra_id, entra_id.upper(), ((Attr.ENTRA_USER_ID, entra_id), (Attr.MANAGER, manager))
    )


def ids(waves: list[list[Create]]) -> list[list[str]]:
    return [[c.entra_user_id for c in wave] for wave in waves]


def test_a_chain_of_creates_is_one_wave_per_level_in_plan_order() -> None:
    """Reports listed before their managers still come after them; siblings share a wave."""
    creates = [
        create("dev-1", "lead"),
        create("lead", "head"),
        create("dev-2", "lead"),
        create("head", "ceo"),  # the CEO is already an Employee
        create("intern", "dev-1"),
        create("contractor"),  # no manager at all
    ]
    assert ids(create_waves(creates, {"ceo"})) == [
        ["head", "contractor"],
        ["lead"],
        ["dev-1", "dev-2"],
        ["intern"],
    ]


def test_a_manager_who_is_neither_created_nor_existing_does_not_delay_anyone() -> None:
    """The applier reports such a reference; ordering cannot help it."""
    assert ids(create_waves([create("a", "ghost"), create("b", "a")], set())) == [["a"], ["b"]]


def test_a_cycle_is_broken_once_where_the_walk_from_the_first_create_meets_it() -> None:
    """a reports to b, b and c to each other, d to c: the walk from a meets b first, so b
    waits for nobody (its reference is left for the last pass), c and a follow b, d c."""
    creates = [create("a", "b"), create("b", "c"), create("c", "b"), create("d", "c")]
    assert ids(create_waves(creates, set())) == [["b"], ["a", "c"], ["d"]]


def test_a_create_that_manages_itself_starts_a_chain() -> None:
    assert ids(create_waves([create("r", "s"), create("s", "s")], set())) == [["s"], ["r"]]


def test_no_creates_no_waves_and_the_order_is_deterministic() -> None:
    assert create_waves([], {"x"}) == []
    creates = [create(f"u{n}", f"u{n // 2}" if n else None) for n in range(64)]
    first = ids(create_waves(creates, set()))
    assert first == ids(create_waves(creates, set()))
    assert [len(wave) for wave in first] == [1, 1, 2, 4, 8, 16, 32]
