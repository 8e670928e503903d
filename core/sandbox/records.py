"""The frozen records the sandbox organisation is made of.

Frozen so tests can hold them safely; the sandbox swaps in a changed copy
(``dataclasses.replace``) when the demo disables a user or deactivates an account.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SandboxUser:
    """A directory user as Graph stores it; ``manager_id`` may name an org contact."""

    id: str
    display_name: str
    given_name: str
    surname: str
    mail: str | None
    user_principal_name: str
    proxy_addresses: tuple[str, ...] = ()
    department: str | None = None
    job_title: str | None = None
    account_enabled: bool = True
    user_type: str = "Member"
    manager_id: str | None = None


@dataclass(frozen=True, slots=True)
class SandboxContact:
    """An organisational contact: can be a manager in Graph, never an Employee."""

    id: str
    display_name: str
    mail: str


@dataclass(frozen=True, slots=True)
class SandboxAccount:
    """An Atlassian account; ``visible`` is profile visibility of the email address.

    ``managed`` accounts sit on the org's verified domain, so the org admin API shows
    their email even when Jira hides it.
    """

    account_id: str
    display_name: str
    email: str | None
    visible: bool = True
    active: bool = True
    account_type: str = "atlassian"
    managed: bool = False


@dataclass(frozen=True)
class SandboxOrg:
    """The generated organisation; ``notes`` names the planted cases by kind."""

    seed: int
    domain: str
    workspace_id: str
    users: tuple[SandboxUser, ...]
    contacts: tuple[SandboxContact, ...]
    accounts: tuple[SandboxAccount, ...]
    notes: dict[str, list[str]] = field(default_factory=dict)
