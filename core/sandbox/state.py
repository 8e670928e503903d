"""The mutable world the handlers read and change, behind the sandbox's lock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from core.sandbox.assets_store import AssetsStore
from core.sandbox.records import SandboxAccount, SandboxContact, SandboxOrg, SandboxUser
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE

ManagerLink = tuple[str, str]
"""``(id, @odata.type)`` of the directory object Graph names as a user's manager."""
Seen = tuple[SandboxUser, ManagerLink | None]
"""A user as ``users/delta`` renders them at one moment: the record and its manager."""


@dataclass
class DeltaLog:
    """What ``users/delta`` needs to answer "what changed since token N".

    Every mutation bumps ``seq`` and notes each user it touches as they were just
    before it (None: not in the directory). A token carries the ``seq`` it was issued
    at; tokens from an older ``epoch`` are refused (``gone``: with ``410 Gone``).
    ``rounds`` holds the user ids a first round lists, so its pages need no copy.
    """

    seq: int = 0
    epoch: int = 0
    gone: bool = False
    entries: list[tuple[int, str, Seen | None]] = field(default_factory=list)
    rounds: dict[str, tuple[str, ...]] = field(default_factory=dict)


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
    # Users deleted from the directory, restorable as Entra keeps them for 30 days.
    deleted: dict[str, SandboxUser] = field(default_factory=dict)
    delta: DeltaLog = field(default_factory=DeltaLog)
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

    def manager_link(self, user: SandboxUser) -> ManagerLink | None:
        """The manager Graph names: a user or a contact still there, else none."""
        manager_id = user.manager_id
        if manager_id is None:
            return None
        if manager_id in self.users:
            return manager_id, GRAPH_USER_TYPE
        if manager_id in self.contacts:
            return manager_id, GRAPH_CONTACT_TYPE
        return None

    def seen(self, user_id: str) -> Seen | None:
        user = self.users.get(user_id)
        return None if user is None else (user, self.manager_link(user))

    def reports(self, manager_id: str) -> list[str]:
        return [u.id for u in self.users.values() if u.manager_id == manager_id]

    def record(self, user_ids: Iterable[str]) -> None:
        """Note these users as they are, before a change to them (for ``users/delta``)."""
        self.delta.seq += 1
        for user_id in dict.fromkeys(user_ids):
            self.delta.entries.append((self.delta.seq, user_id, self.seen(user_id)))
