"""Validation of the Entra connection a person enters (CLI prompt or Slack modal).

Every problem is collected and reported at once, so a form can mark every bad field
in one round trip. The client secret is checked for presence only and never appears
in a message or a ``repr``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.errors import FieldProblem, InvalidInput

MIN_CADENCE_DAYS = 1
MAX_CADENCE_DAYS = 100
RULE_GUID = "must be a GUID like 00000000-0000-0000-0000-000000000000"
RULE_CADENCE = f"must be a whole number from {MIN_CADENCE_DAYS} to {MAX_CADENCE_DAYS}"
RULE_NOT_EMPTY = "must not be empty"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_WHOLE_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class EntraInput:
    """A validated connection. ``client_secret`` None means "keep the stored one"."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(repr=False)
    cadence_days: int


def validate_entra_input(
    tenant_id: str,
    client_id: str,
    client_secret: str | None,
    cadence_days: str | int,
    *,
    secret_required: bool = True,
) -> EntraInput:
    """Normalise the four fields or raise one :class:`InvalidInput` naming every problem."""
    problems: list[FieldProblem] = []
    tenant = _guid(tenant_id)
    client = _guid(client_id)
    secret = _secret(client_secret)
    cadence = _cadence(cadence_days)
    if tenant is None:
        problems.append(FieldProblem("tenant_id", RULE_GUID))
    if client is None:
        problems.append(FieldProblem("client_id", RULE_GUID))
    if secret is None and secret_required:
        problems.append(FieldProblem("client_secret", RULE_NOT_EMPTY))
    if cadence is None:
        problems.append(FieldProblem("cadence_days", RULE_CADENCE))
    if tenant is None or client is None or cadence is None or problems:
        raise InvalidInput(problems)
    return EntraInput(tenant, client, secret, cadence)


def _guid(value: object) -> str | None:
    """Pasted IDs often carry whitespace or upper case; both are harmless, so normalise."""
    if not isinstance(value, str):
        return None
    candidate = value.strip().lower()
    return candidate if _GUID.fullmatch(candidate) else None


def _secret(value: object) -> str | None:
    """A blank secret counts as absent; stray whitespace from pasting is trimmed."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _cadence(value: object) -> int | None:
    """Whole days only: ``bool`` is an ``int`` in Python but never a valid cadence."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if _WHOLE_NUMBER.fullmatch(text) is None or len(text.lstrip("0")) > 3:
            return None  # thousands of digits are no cadence, and int() would refuse them
        value = int(text)
    if not isinstance(value, int):
        return None
    return value if MIN_CADENCE_DAYS <= value <= MAX_CADENCE_DAYS else None
