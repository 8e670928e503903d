"""The mutable world the handlers read and change, behind the sandbox's lock."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.sandbox.assets_store import AssetsStore
from core.sandbox.records import SandboxAccount, SandboxContact, SandboxOrg, SandboxUser


@dataclass
class SandboxState:
    """Directory, Atlassian accounts, issued tokens and the Assets workspace.

    Dicts keep insertion order, which is the order the APIs list things in.
    """

    org: SandboxOrg
    users: dict[str, SandboxUser]
    contacts: dict[str, SandboxContact]
    accounts: dict[str, SandboxAccount]
    assets: AssetsStore
    tokens: set[str] = field(default_factory=set)
    # Properties Graph answers null although they were selected: what an app granted
    # only User.ReadBasic.All sees for everything but the basic profile.
    withheld: frozenset[str] = frozenset()
    # The sync account's Browse users and groups global permission in Jira: without
    # it, user search answers 403.
    browse_users: bool = True

    @classmethod
    def from_org(cls, org: SandboxOrg) -> SandboxState:
        return cls(
            org=org,
            users={u.id: u for u in org.users},
            contacts={c.id: c for c in org.contacts},
            accounts={a.account_id: a for a in org.accounts},
            assets=AssetsStore(org.workspace_id),
        )

    def find_user(self, key: str) -> SandboxUser | None:
        """A user by id or, as Graph allows, by userPrincipalName."""
        user = self.users.get(key) or self.users.get(key.lower())
        if user is not None:
            return user
        lowered = key.lower()
        for candidate in self.users.values():
            if candidate.user_principal_name.lower() == lowered:
                return candidate
        return None
