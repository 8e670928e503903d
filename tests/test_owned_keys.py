"""Which Employee the applier writes to when several carry one Entra User ID."""

from __future__ import annotations

from core.sync import EmployeeRecord, owned_keys
from core.sync.matching import build_index
from tests.test_planner_support import employee


def test_the_oldest_object_wins_numerically() -> None:
    """``ENTRA-9`` is older than ``ENTRA-10`` although it sorts after it as text."""
    records = [employee("ENTRA-10", "ada"), employee("ENTRA-9", "ada"), employee("ENTRA-11", "bo")]
    assert owned_keys(records) == {
        "u-ada": ("id-ENTRA-9", "ENTRA-9"),
        "u-bo": ("id-ENTRA-11", "ENTRA-11"),
    }


def test_input_order_never_decides_a_tie() -> None:
    """Keys equal as numbers (``ENTRA-01``, ``ENTRA-1``) still give one answer."""
    records = [employee("ENTRA-1", "ada"), employee("ENTRA-01", "ada")]
    assert owned_keys(records) == owned_keys(list(reversed(records)))


def test_employees_without_an_entra_user_id_are_not_owned() -> None:
    assert owned_keys([employee("ENTRA-1", "ada", ENTRA_USER_ID=None)]) == {}


def test_the_applier_writes_to_the_employee_the_planner_kept() -> None:
    """owned_keys and the planner's duplicate resolution pick the same object."""
    records: list[EmployeeRecord] = [
        employee(key, "ada") for key in ("ENTRA-20", "ENTRA-3", "ENTRA-100", "ENTRA-03")
    ]
    index = build_index([], [], records)
    kept = index.owned["u-ada"]
    assert owned_keys(records)["u-ada"] == (kept.object_id, kept.object_key)
    assert owned_keys(reversed(records))["u-ada"] == (kept.object_id, kept.object_key)
