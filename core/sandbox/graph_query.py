"""OData query options of Graph's ``/users``: ``$select``, ``$expand``, ``$filter``.

Only the subset the engine sends is understood; anything else gets the 400 the real
service gives, so a client that drifts from that subset fails loudly in tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.sandbox.http import HttpError, graph_error
from core.sandbox.records import SandboxContact, SandboxUser
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE

USER_PROPERTIES: dict[str, Callable[[SandboxUser], Any]] = {
    "businessPhones": lambda u: [],
    "displayName": lambda u: u.display_name,
    "givenName": lambda u: u.given_name,
    "jobTitle": lambda u: u.job_title,
    "mail": lambda u: u.mail,
    "mobilePhone": lambda u: None,
    "officeLocation": lambda u: None,
    "preferredLanguage": lambda u: None,
    "surname": lambda u: u.surname,
    "userPrincipalName": lambda u: u.user_principal_name,
    "id": lambda u: u.id,
    "accountEnabled": lambda u: u.account_enabled,
    "department": lambda u: u.department,
    "proxyAddresses": lambda u: list(u.proxy_addresses),
    "userType": lambda u: u.user_type,
    "otherMails": lambda u: [],
}
# Graph's default property set for users: no accountEnabled, department, proxyAddresses.
DEFAULT_USER_SELECT = tuple(list(USER_PROPERTIES)[:11])
CONTACT_PROPERTIES: dict[str, Callable[[SandboxContact], Any]] = {
    "id": lambda c: c.id,
    "displayName": lambda c: c.display_name,
    "mail": lambda c: c.mail,
    "proxyAddresses": lambda c: [f"SMTP:{c.mail}"],
}
_CANONICAL = {name.lower(): name for name in USER_PROPERTIES}
_EXPAND = re.compile(
    r"^\s*(manager|directReports)\s*(?:\(\s*\$select\s*=\s*([^)]*)\))?\s*$", re.IGNORECASE
)
EXPANDED_COLLECTION_CAP = 20  # Graph returns at most 20 objects of an expanded collection
_CLAUSE = re.compile(
    r"\s*(?:(?P<prop>[A-Za-z]+)\s+eq\s+'(?P<val>(?:[^']|'')*)'"
    r"|proxyAddresses/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)\s+eq\s+'(?P<any>(?:[^']|'')*)'\s*\))\s*",
    re.IGNORECASE,
)
_FILTERABLE = {"mail": "mail", "userprincipalname": "upn", "id": "id"}


@dataclass(frozen=True)
class Expand:
    """``$expand=manager(...)`` or ``directReports(...)``; ``select`` is None without $select."""

    select: tuple[str, ...] | None
    reports: bool = False  # directReports, a collection, rather than the one manager


def parse_select(raw: str | None) -> tuple[str, ...]:
    """Canonical property names to return, ``id`` always among them."""
    if raw is None:
        return DEFAULT_USER_SELECT
    names: list[str] = []
    for part in (p.strip() for p in raw.split(",")):
        canonical = _CANONICAL.get(part.lower())
        if canonical is None:
            raise graph_error(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{part}' on type 'microsoft.graph.user'.",
            )
        if canonical not in names:
            names.append(canonical)
    if "id" not in names:
        names.append("id")
    return tuple(names)


def parse_expand(raw: str | None) -> Expand | None:
    if raw is None:
        return None
    match = _EXPAND.match(raw)
    if match is None:
        raise graph_error(
            400,
            "Request_BadRequest",
            f"Parsing OData Select and Expand failed: Could not find a property named "
            f"'{raw.split('(')[0]}' on type 'microsoft.graph.user'.",
        )
    inner = match.group(2)
    reports = match.group(1).lower() == "directreports"
    return Expand(None if inner is None else parse_select(inner), reports)


def parse_filter(raw: str | None) -> Callable[[SandboxUser], bool] | None:
    """A predicate for ``mail/userPrincipalName/id eq`` and ``proxyAddresses/any`` or-ed."""
    if raw is None:
        return None
    tests: list[tuple[str, str]] = []
    position = 0
    while True:
        match = _CLAUSE.match(raw, position)
        if match is None:
            raise _bad_filter(raw)
        if match.group("prop"):
            kind = _FILTERABLE.get(match.group("prop").lower())
            if kind is None:
                raise _bad_filter(raw)
            tests.append((kind, match.group("val").replace("''", "'").lower()))
        else:
            tests.append(("proxy", match.group("any").replace("''", "'").lower()))
        position = match.end()
        if position == len(raw):
            break
        connector = re.compile(r"or\s", re.IGNORECASE).match(raw, position)
        if connector is None:
            raise _bad_filter(raw)
        position = connector.end()
    return lambda user: any(_test(user, kind, value) for kind, value in tests)


def _test(user: SandboxUser, kind: str, value: str) -> bool:
    if kind == "mail":
        return (user.mail or "").lower() == value
    if kind == "upn":
        return user.user_principal_name.lower() == value
    if kind == "id":
        return user.id.lower() == value
    return any(address.lower() == value for address in user.proxy_addresses)


def _bad_filter(raw: str) -> HttpError:
    return graph_error(400, "Request_UnsupportedQuery", f"Unsupported Query. Filter: '{raw}'")


def render_user(user: SandboxUser, select: tuple[str, ...]) -> dict[str, Any]:
    return {name: USER_PROPERTIES[name](user) for name in select}


def render_directory_object(
    target: SandboxUser | SandboxContact, select: tuple[str, ...] | None
) -> dict[str, Any]:
    """A manager as Graph returns it: typed with ``@odata.type``, projected."""
    if isinstance(target, SandboxUser):
        fields = render_user(target, select or DEFAULT_USER_SELECT)
        return {"@odata.type": GRAPH_USER_TYPE, **fields}
    names = select or tuple(CONTACT_PROPERTIES)
    fields = {n: CONTACT_PROPERTIES[n](target) for n in names if n in CONTACT_PROPERTIES}
    return {"@odata.type": GRAPH_CONTACT_TYPE, "id": target.id, **fields}


def context_suffix(select: tuple[str, ...] | None, expand: Expand | None) -> str:
    """The ``(...)`` part of ``@odata.context`` naming the selected properties."""
    parts = list(select) if select and select != DEFAULT_USER_SELECT else []
    if expand is not None:
        inner = ",".join(expand.select) if expand.select else ""
        name = "directReports" if expand.reports else "manager"
        parts.append(f"{name}({inner})" if inner else f"{name}()")
    return f"({','.join(parts)})" if parts else ""
