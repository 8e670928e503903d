"""The one table of plan sections agrees with the Plan it describes."""

from __future__ import annotations

from dataclasses import fields

from core.sync import SECTIONS, WRITE_SECTIONS, Plan
from core.sync.sections import CSV_HEADER
from tests.test_plan_support import golden_plan

NOT_SECTIONS = ("stats", "manager_names")


def test_each_section_is_a_plan_list_in_stored_order() -> None:
    """Keys are the Plan's list fields, in the order the stored JSON holds them."""
    plan = golden_plan()
    keys = [s.key for s in SECTIONS]
    assert keys == [f.name for f in fields(Plan) if f.name not in NOT_SECTIONS]
    assert [key for key in plan.to_dict() if key not in NOT_SECTIONS] == keys
    assert list(plan.counts()) == keys
    for s in SECTIONS:
        assert s.items(plan) is getattr(plan, s.key)


def test_only_creates_updates_and_inactivations_are_writes() -> None:
    assert [s.key for s in WRITE_SECTIONS] == ["creates", "updates", "inactivations"]
    assert golden_plan().write_count == 8
    assert Plan(warnings=golden_plan().warnings).is_empty


def test_names_are_unique_and_csv_rows_fill_the_header() -> None:
    for name in ("key", "title", "label", "csv_name"):
        values = [getattr(s, name) for s in SECTIONS]
        assert len(set(values)) == len(values), name
    plan = golden_plan()
    for s in SECTIONS:
        rows = list(s.rows(plan))
        assert rows, s.key
        assert {len(row) for row in rows} == {len(CSV_HEADER)}
        assert {row[0] for row in rows} == {s.csv_name}
