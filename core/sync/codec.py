"""The JSON form of plan values, driven by their dataclass fields and field types.

Dataclasses become objects with their fields in declaration order, enums their value,
tuples lists; reading goes back by the declared types, so a change type gains a field
without anyone writing serialisation code for it. The order of fields is part of the
stored form: previews stored by earlier releases hold it, and a plan's fingerprint
hashes it (with sorted keys, so only the names and values matter there). A new field
needs a default so older stored forms still read; on a change that is written, it also
enters the fingerprint, so previews stored before it no longer match theirs.

Readable types: ``str``, ``int``, ``float``, ``bool``, enums, dataclasses made of these,
``X | None``, ``tuple[X, ...]`` and fixed tuples such as ``tuple[A, B]``. Each type's
writer and reader is built once from its type hints, so a plan of tens of thousands of
changes converts without inspecting a type per value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from enum import Enum
from functools import cache
from types import NoneType, UnionType
from typing import Any, Self, Union, cast, get_args, get_origin, get_type_hints

Convert = Callable[[Any], Any]
_PLAIN = (str, int, float, bool)


def to_json(kind: Any, value: Any) -> Any:
    """``value``, of type ``kind``, as JSON-ready lists, dicts and scalars."""
    write = _writer(kind)
    return value if write is None else write(value)


def from_json(kind: Any, data: Any) -> Any:
    """The value of type ``kind`` that :func:`to_json` turned into ``data``.

    A dataclass field missing from ``data`` takes its default, so forms stored before
    the field existed still load; a missing field without a default is a ``KeyError``.
    """
    read = _reader(kind)
    return data if read is None else read(data)


class Serialisable:
    """``to_dict`` / ``from_dict`` for a dataclass, by :func:`to_json` and :func:`from_json`."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: one key per field, in declaration order."""
        return cast(dict[str, Any], to_json(type(self), self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild a value stored with :meth:`to_dict`."""
        return cast(Self, from_json(cls, data))


# Writers and readers return None for "kept as it is", so plain values cost no call.


@cache
def _writer(kind: Any) -> Convert | None:
    origin = get_origin(kind)
    if origin is tuple:
        return _tuple_converter(get_args(kind), _writer, list)
    if origin in (Union, UnionType):
        inner = _writer(_optional_of(kind))
        return None if inner is None else (lambda v: None if v is None else inner(v))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return _enum_value
    if isinstance(kind, type) and is_dataclass(kind):
        known = [(name, _writer(hint)) for name, hint, _ in _field_types(kind)]
        return lambda v: {
            name: getattr(v, name) if write is None else write(getattr(v, name))
            for name, write in known
        }
    if kind in _PLAIN:
        return None
    raise TypeError(f"cannot write {kind!r}")


@cache
def _reader(kind: Any) -> Convert | None:
    origin = get_origin(kind)
    if origin is tuple:
        return _tuple_converter(get_args(kind), _reader, tuple)
    if origin in (Union, UnionType):
        inner = _reader(_optional_of(kind))
        return None if inner is None else (lambda d: None if d is None else inner(d))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return cast(Convert, kind)
    if isinstance(kind, type) and is_dataclass(kind):
        return _dataclass_reader(kind)
    if kind in _PLAIN:
        return None
    raise TypeError(f"cannot read {kind!r}")


def _enum_value(member: Enum) -> Any:
    return member._value_  # what ``.value`` returns, without the descriptor's cost


def _tuple_converter(
    args: tuple[Any, ...],
    convert_of: Callable[[Any], Convert | None],
    collect: Callable[[Any], Any],
) -> Convert:
    """``tuple[X, ...]`` item by item, or ``tuple[A, B]`` position by position."""
    if len(args) == 2 and args[1] is Ellipsis:
        item = convert_of(args[0])
        if item is None:
            return collect
        return lambda values: collect([item(v) for v in values])
    each = [convert_of(arg) for arg in args]
    return lambda values: collect(
        [v if convert is None else convert(v) for convert, v in zip(each, values, strict=True)]
    )


def _dataclass_reader(kind: type) -> Convert:
    known = [(name, _reader(hint)) for name, hint, _ in _field_types(kind)]
    required = frozenset(name for name, _, needed in _field_types(kind) if needed)

    def read(data: dict[str, Any]) -> Any:
        given = {
            name: data[name] if convert is None else convert(data[name])
            for name, convert in known
            if name in data
        }
        missing = required - given.keys() if len(given) < len(known) else ()
        if missing:
            raise KeyError(f"{kind.__name__} needs {', '.join(sorted(missing))}")
        return kind(**given)

    return read


def _optional_of(kind: Any) -> Any:
    """``X`` of ``X | None``; other unions have no single type to convert by."""
    options = [arg for arg in get_args(kind) if arg is not NoneType]
    if len(options) != 1:
        raise TypeError(f"cannot convert {kind!r}: only X | None unions are supported")
    return options[0]


def _field_types(kind: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, resolved type, required) of each init field of a dataclass."""
    hints = get_type_hints(kind)
    return tuple(
        (f.name, hints[f.name], f.default is MISSING and f.default_factory is MISSING)
        for f in fields(kind)
        if f.init
    )
