"""The generic JSON form behind every plan value: fields in order, read back by type."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest

from core.sync.codec import Serialisable, from_json, to_json


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True, slots=True)
class Part(Serialisable):
    colour: Colour
    note: str | None


@dataclass(frozen=True, slots=True)
class Thing(Serialisable):
    """Every shape the plan uses, plus a defaulted field added later."""

    name: str
    count: int
    colour: Colour | None
    pairs: tuple[tuple[Colour, str | None], ...]
    parts: tuple[Part, ...]
    added_later: str = "default"


THING = Thing(
    "x",
    3,
    None,
    ((Colour.RED, None), (Colour.BLUE, "b")),
    (Part(Colour.BLUE, None), Part(Colour.RED, "n")),
)


def test_fields_are_written_in_order_with_enum_values_and_lists() -> None:
    assert json.dumps(THING.to_dict()) == (
        '{"name": "x", "count": 3, "colour": null, '
        '"pairs": [["red", null], ["blue", "b"]], '
        '"parts": [{"colour": "blue", "note": null}, {"colour": "red", "note": "n"}], '
        '"added_later": "default"}'
    )


def test_the_written_form_reads_back_equal() -> None:
    assert Thing.from_dict(json.loads(json.dumps(THING.to_dict()))) == THING
    assert from_json(tuple[Thing, ...], to_json(tuple[Thing, ...], (THING,))) == (THING,)


def test_a_field_missing_from_an_older_form_takes_its_default() -> None:
    data: dict[str, Any] = THING.to_dict()
    del data["added_later"]
    assert Thing.from_dict(data) == THING


def test_a_missing_field_without_default_is_an_error() -> None:
    data: dict[str, Any] = THING.to_dict()
    del data["count"]
    with pytest.raises(KeyError, match="Thing needs count"):
        Thing.from_dict(data)


def test_an_unknown_enum_value_is_an_error() -> None:
    with pytest.raises(ValueError, match="green"):
        Part.from_dict({"colour": "green", "note": None})


def test_types_with_no_single_reading_are_refused() -> None:
    with pytest.raises(TypeError, match=r"only X \| None unions"):
        from_json(int | str, 1)
    with pytest.raises(TypeError, match="cannot write"):
        to_json(dict[str, int], {})
