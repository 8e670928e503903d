"""Frozen values the clients build from API pages and the planner reads.

Nothing here does I/O. Clients turn JSON into these; the planner turns these into a
:class:`core.sync.plan.Plan`; nothing downstream of a client ever sees raw JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

GRAPH_USER_TYPE = "#microsoft.graph.user"
GRAPH_CONTACT_TYPE = "#microsoft.graph.orgContact"


class Attr(StrEnum):
    """Attribute names of the Employee object type in schema ENTRA.

    ``FULL_NAME`` is the object type's label attribute ("Name"), which Assets creates
    with every object type; we use it rather than adding a second name field.
    """

    ENTRA_USER_ID = "Entra User ID"
    FULL_NAME = "Name"
    EMAIL = "Email"
    JOB_TITLE = "Job Title"
    ATLASSIAN_ACCOUNT_ID = "Atlassian Account ID"
    JIRA_USER = "Jira User"
    ACTIVE = "Active"
    DEPARTMENT = "Department"
    MANAGER = "Manager"
    MANAGER_ACCOUNT_ID = "Manager Atlassian Account ID"


_OBJECT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_directory_object_id(value: str) -> bool:
    """True for what an Entra object id looks like: a GUID (any case, spaces around).

    An Entra User ID stored in Assets that is not one was typed over by hand; sent to
    Graph it would read as a user deleted from Entra.
    """
    return _OBJECT_ID.fullmatch(value.strip().lower()) is not None


# The order attributes are written and shown in.
ATTR_ORDER: tuple[Attr, ...] = tuple(Attr)

SCHEMA_NAME = "Entra Directory"
SCHEMA_KEY = "ENTRA"
OBJECT_TYPE_NAME = "Employee"

AttributeValues = Mapping[Attr, str | None]
"""What one write sets: attribute to value (``None`` clears it)."""


@dataclass(frozen=True, slots=True)
class AtlassianAccount:
    """An Atlassian account (``accountType == "atlassian"``) from Jira user search.

    ``email`` is ``None`` when profile visibility hides it and the org admin API did
    not fill it in.
    """

    account_id: str
    display_name: str
    email: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class ManagerRef:
    """The directory object Graph names as a user's manager.

    ``odata_type`` tells a user from an organisational contact, which can never be
    linked to an Employee.
    """

    id: str
    odata_type: str
    display_name: str | None = None

    @property
    def is_contact(self) -> bool:
        return self.odata_type == GRAPH_CONTACT_TYPE


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A Microsoft Entra user with the properties the sync reads.

    ``unknown`` names the Employee attributes whose source Graph did not give us
    (a property missing from the answer, or ``accountEnabled`` null): the planner
    leaves those as they are stored instead of reading the gap as "empty". A user
    whose enabled state is unknown is never activated or deactivated on it.
    """

    id: str
    display_name: str
    mail: str | None
    user_principal_name: str
    proxy_addresses: tuple[str, ...] = ()
    department: str | None = None
    job_title: str | None = None
    account_enabled: bool = True
    user_type: str | None = "Member"
    manager: ManagerRef | None = None
    unknown: frozenset[Attr] = frozenset()

    @property
    def is_guest(self) -> bool:
        return self.user_type == "Guest" or "#EXT#" in self.user_principal_name.upper()

    def email_keys(self) -> frozenset[str]:
        """Every address this user answers to, lower-cased: mail, UPN, smtp aliases."""
        keys = {self.user_principal_name.lower()}
        if self.mail:
            keys.add(self.mail.lower())
        for address in self.proxy_addresses:
            scheme, _, value = address.partition(":")
            if scheme.lower() == "smtp" and value:
                keys.add(value.lower())
        return frozenset(keys)


@dataclass(frozen=True, slots=True)
class EmployeeRecord:
    """An Employee object as it stands in Assets.

    Values are the strings Assets holds (booleans as ``"true"``/``"false"``);
    ``manager_key`` is the object key of the referenced Employee. Only records with
    an ``entra_user_id`` are ours to change.

    ``unusable_entra_user_id`` holds an Entra User ID that cannot be a directory id
    (not a GUID: edited by hand in Assets). It is kept out of ``values``, so the
    Employee is not owned: it is left as it is and reported, and nobody gets a second
    Employee for its Atlassian account while it holds it.
    """

    object_id: str
    object_key: str
    values: tuple[tuple[Attr, str | None], ...]
    unusable_entra_user_id: str | None = None

    def get(self, attr: Attr) -> str | None:
        for name, value in self.values:
            if name == attr:
                return value
        return None

    @property
    def entra_user_id(self) -> str | None:
        """Lower-cased and trimmed: Graph answers lower-case GUIDs, people may not type them."""
        value = (self.get(Attr.ENTRA_USER_ID) or "").strip().lower()
        return value or None

    @property
    def atlassian_account_id(self) -> str | None:
        return self.get(Attr.ATLASSIAN_ACCOUNT_ID) or None

    @property
    def label(self) -> str:
        return self.get(Attr.FULL_NAME) or self.object_key

    @property
    def is_owned(self) -> bool:
        return self.entra_user_id is not None


def employee_record(
    object_id: str,
    object_key: str,
    values: dict[Attr, str | None],
    *,
    unusable_entra_user_id: str | None = None,
) -> EmployeeRecord:
    """Build an :class:`EmployeeRecord` with values in the canonical attribute order."""
    ordered = tuple((attr, values.get(attr)) for attr in ATTR_ORDER if attr in values)
    return EmployeeRecord(object_id, object_key, ordered, unusable_entra_user_id)
