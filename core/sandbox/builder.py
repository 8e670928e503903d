"""Ids, names and unique addresses for the generated organisation."""

from __future__ import annotations

import random
import re
import uuid

from core.sandbox.credentials import SANDBOX_DOMAIN
from core.sandbox.names import (
    CEO_TITLE,
    DEPARTMENTS,
    EXECUTIVE_DEPARTMENT,
    FIRST_NAMES,
    LAST_NAMES,
)
from core.sandbox.records import SandboxAccount, SandboxOrg, SandboxUser

LEAD_SHARE = 0.12  # share of staff who become team leads, giving the tree a third level


class Builder:
    """Makes ids, names and unique addresses from one random stream."""

    def __init__(self, rng: random.Random, domain: str = SANDBOX_DOMAIN) -> None:
        self.rng = rng
        self.domain = domain
        self.used_locals: set[str] = set()

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_account_id(self) -> str:
        """A 24-hex-digit id, the shape of classic Atlassian account ids."""
        return f"{self.rng.getrandbits(96):024x}"

    def name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def unique_local(self, base: str) -> str:
        """``base`` lower-cased, numbered when taken, so no two addresses collide."""
        base = re.sub(r"[^a-z0-9.]", "", base.lower()) or "user"
        local, n = base, 1
        while local in self.used_locals:
            n += 1
            local = f"{base}{n}"
        self.used_locals.add(local)
        return local

    def member(
        self,
        department: str | None,
        job_title: str | None,
        manager_id: str | None,
        name: tuple[str, str] | None = None,
    ) -> SandboxUser:
        """A member user whose mail, UPN and primary SMTP address agree."""
        first, last = name or self.name()
        mail = f"{self.unique_local(f'{first}.{last}')}@{self.domain}"
        return SandboxUser(
            id=self.new_id(),
            display_name=f"{first} {last}",
            given_name=first,
            surname=last,
            mail=mail,
            user_principal_name=mail,
            proxy_addresses=(f"SMTP:{mail}",),
            department=department,
            job_title=job_title,
            manager_id=manager_id,
        )

    def account_for(
        self,
        user: SandboxUser,
        email: str | None = None,
        *,
        visible: bool = True,
        active: bool = True,
    ) -> SandboxAccount:
        """An Atlassian account on ``email`` (default: ``user``'s mail)."""
        address = email if email is not None else user.mail
        return SandboxAccount(
            account_id=self.new_account_id(),
            display_name=user.display_name,
            email=address,
            visible=visible,
            active=active,
            managed=self.is_managed(address),
        )

    def is_managed(self, email: str | None) -> bool:
        return email is not None and email.lower().endswith("@" + self.domain)

    @classmethod
    def resume(cls, org: SandboxOrg) -> Builder:
        """A builder that continues ``org`` without reusing its addresses."""
        builder = cls(random.Random(f"{org.seed}-hires"), org.domain)
        for user in org.users:
            for address in (user.mail, user.user_principal_name):
                if address:
                    builder.used_locals.add(address.partition("@")[0].lower())
        for account in org.accounts:
            if account.email:
                builder.used_locals.add(account.email.partition("@")[0].lower())
        return builder


def build_tree(builder: Builder, people: int) -> list[SandboxUser]:
    """A CEO, one head per department, then staff under heads and team leads."""
    ceo = builder.member(EXECUTIVE_DEPARTMENT, CEO_TITLE, None)
    users = [ceo]
    leads: dict[str, list[str]] = {}
    for department, titles in DEPARTMENTS.items():
        head = builder.member(department, titles[0], ceo.id)
        users.append(head)
        leads[department] = [head.id]
    departments = list(DEPARTMENTS)
    while len(users) < people:
        department = builder.rng.choice(departments)
        titles = DEPARTMENTS[department]
        manager_id = builder.rng.choice(leads[department])
        if builder.rng.random() < LEAD_SHARE:
            user = builder.member(department, titles[1], manager_id)
            leads[department].append(user.id)
        else:
            user = builder.member(department, builder.rng.choice(titles[2:]), manager_id)
        users.append(user)
    return users
