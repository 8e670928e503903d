"""The mutable world the handlers read and change, behind the sandbox's lock."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.sandbox.assets_store import AssetsStore
from core.sandbox.records import SandboxAccount, SandboxContact, SandboxOrg, SandboxUser

KEPT_LISTINGS = 32


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
    # Graph /users listings being paged: the user ids each lists, by listing number.
    listings: dict[int, tuple[str, ...]] = field(default_factory=dict)
    listings_opened: int = 0
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

    def open_listing(self, ids: tuple[str, ...]) -> int:
        """Keep the ids of a new listing for its later pages; returns its number.

        Only the last :data:`KEPT_LISTINGS` are kept: an older one's ``$skiptoken``
        has expired, as a real one does in time.
        """
        self.listings_opened += 1
        self.listings[self.listings_opened] = ids
        self.listings.pop(self.listings_opened - KEPT_LISTINGS, None)
        return self.listings_opened

    def listing(self, number: int) -> tuple[str, ...] | None:
        return self.listings.get(number)

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
