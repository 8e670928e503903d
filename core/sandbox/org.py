"""A deterministic fake organisation: directory users, org contacts, Atlassian accounts.

Everything comes from one ``random.Random(seed)``, so a seed names an organisation and
every test, demo and bug report can reproduce it exactly. The awkward cases a real
tenant has (guests, hidden emails, duplicates, ...) are planted by
:mod:`core.sandbox.planting` and listed in :attr:`SandboxOrg.notes`.
"""

from __future__ import annotations

import random

from core.sandbox.builder import Builder, build_tree
from core.sandbox.names import DEPARTMENTS
from core.sandbox.planting import PLANTED_ACCOUNTS, PLANTED_LEAVES, plant
from core.sandbox.records import SandboxAccount, SandboxContact, SandboxOrg, SandboxUser

__all__ = [
    "SandboxAccount",
    "SandboxContact",
    "SandboxOrg",
    "SandboxUser",
    "generate_org",
]


def generate_org(seed: int = 7, people: int = 60, atlassian: int = 45) -> SandboxOrg:
    """The organisation for ``seed``: ``people`` directory users, ``atlassian`` accounts.

    ``atlassian`` counts accounts of type "atlassian" only; a few "app" and "customer"
    entries come on top, as on a real site.
    """
    minimum_people = 1 + len(DEPARTMENTS) + 2 * PLANTED_LEAVES
    if people < minimum_people:
        raise ValueError(f"people must be at least {minimum_people} to plant every case")
    if atlassian < PLANTED_ACCOUNTS:
        raise ValueError(f"atlassian must be at least {PLANTED_ACCOUNTS}")
    builder = Builder(random.Random(seed))
    workspace_id = builder.new_id()
    users = build_tree(builder, people)
    planted = plant(builder, users, atlassian)
    return SandboxOrg(
        seed=seed,
        domain=builder.domain,
        workspace_id=workspace_id,
        users=tuple(planted.users),
        contacts=tuple(planted.contacts),
        accounts=tuple(planted.accounts),
        notes=planted.notes,
    )
