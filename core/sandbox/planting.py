"""The awkward cases a real tenant has, planted into a generated organisation.

Each case exists so the matcher, the planner or the report has something real to get
wrong; :attr:`Planted.notes` names every planted id so tests can find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.sandbox.builder import Builder
from core.sandbox.names import DEPARTMENTS
from core.sandbox.records import SandboxAccount, SandboxContact, SandboxUser

# Leaf users taken for cases: disabled 2, guests 2, hidden managed 2, alias-only 2,
# case duplicates 1, ambiguous 2, inactive 2, contact-managed 1.
PLANTED_LEAVES = 14
# "atlassian" accounts the cases create: 2 + 2 + 2 + 1 + 2 + 1 + 2 + 1 + 2.
PLANTED_ACCOUNTS = 15
EXTERNAL_DOMAINS = ("fabrikam.example", "northwind.example")


@dataclass
class Planted:
    users: list[SandboxUser]
    contacts: list[SandboxContact] = field(default_factory=list)
    accounts: list[SandboxAccount] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {user.id: i for i, user in enumerate(self.users)}

    def note(self, kind: str, *ids: str) -> None:
        self.notes.setdefault(kind, []).extend(ids)

    def set_user(self, user: SandboxUser) -> None:
        """Swap in a changed copy of a user, keeping its place in the listing."""
        self.users[self._index[user.id]] = user


def plant(builder: Builder, users: list[SandboxUser], atlassian: int) -> Planted:
    """Turn leaf users into the planted cases, then give regular users accounts."""
    planted = Planted(users=list(users))
    planted.note("ceo", users[0].id)
    planted.note("department_heads", *(u.id for u in users[1 : 1 + len(DEPARTMENTS)]))
    leaves = _shuffled_leaves(builder, users)
    if len(leaves) < PLANTED_LEAVES:
        raise ValueError("too few people to plant every case; raise people")
    taken = {u.id for u in leaves[:PLANTED_LEAVES]}
    it = iter(leaves)
    _plant_disabled(builder, planted, [next(it), next(it)])
    _plant_guests(builder, planted, [next(it), next(it)])
    _plant_hidden(builder, planted, [next(it), next(it)])
    _plant_alias_only(builder, planted, [next(it), next(it)])
    _plant_case_duplicates(builder, planted, next(it))
    _plant_ambiguous(builder, planted, next(it), next(it))
    _plant_inactive(builder, planted, [next(it), next(it)])
    _plant_contact_manager(builder, planted, next(it))
    _plant_unowned(builder, planted)
    taken.add(_plant_manager_without_account(builder, planted))
    _give_regular_accounts(builder, planted, taken, atlassian - PLANTED_ACCOUNTS)
    _add_apps_and_customers(builder, planted)
    builder.rng.shuffle(planted.accounts)
    return planted


def _shuffled_leaves(builder: Builder, users: list[SandboxUser]) -> list[SandboxUser]:
    """Staff with no reports, in a seed-dependent order (never the CEO or a head)."""
    managers = {u.manager_id for u in users}
    leaves = [u for u in users[1 + len(DEPARTMENTS) :] if u.id not in managers]
    builder.rng.shuffle(leaves)
    return leaves


def _plant_disabled(builder: Builder, planted: Planted, users: list[SandboxUser]) -> None:
    """Left the company in Entra, still active in Atlassian: must be inactivated."""
    for user in users:
        planted.set_user(replace(user, account_enabled=False))
        account = builder.account_for(user)
        planted.accounts.append(account)
        planted.note("disabled_users", user.id)
        planted.note("disabled_user_accounts", account.account_id)


def _plant_guests(builder: Builder, planted: Planted, users: list[SandboxUser]) -> None:
    """B2B guests: ``#EXT#`` UPN, external mail, an Atlassian account on that mail."""
    for user, domain in zip(users, EXTERNAL_DOMAINS, strict=True):
        local = builder.unique_local(f"{user.given_name}.{user.surname}")
        mail = f"{local}@{domain}"
        guest = replace(
            user,
            display_name=f"{user.display_name} ({domain.split('.')[0].title()})",
            mail=mail,
            user_principal_name=f"{local}_{domain}#EXT#@{builder.domain}",
            proxy_addresses=(f"SMTP:{mail}",),
            department=None,
            job_title=None,
            user_type="Guest",
            manager_id=None,
        )
        planted.set_user(guest)
        account = builder.account_for(guest)
        planted.accounts.append(account)
        planted.note("guests", guest.id)
        planted.note("guest_accounts", account.account_id)


def _plant_hidden(builder: Builder, planted: Planted, users: list[SandboxUser]) -> None:
    """Hidden emails: two managed (org admin API reveals them), one external (never)."""
    for user in users:
        account = builder.account_for(user, visible=False)
        planted.accounts.append(account)
        planted.note("hidden_managed", account.account_id)
        planted.note("hidden_managed_users", user.id)
    first, last = builder.name()
    local = builder.unique_local(f"{first}.{last}")
    outsider = SandboxAccount(
        account_id=builder.new_account_id(),
        display_name=f"{first} {last}",
        email=f"{local}@outlook.example",
        visible=False,
    )
    planted.accounts.append(outsider)
    planted.note("hidden_unmanaged", outsider.account_id)


def _plant_alias_only(builder: Builder, planted: Planted, users: list[SandboxUser]) -> None:
    """The Atlassian email is only an smtp alias of the user, in other letter case."""
    for user in users:
        alias = f"{builder.unique_local(user.given_name + user.surname)}@{builder.domain}"
        planted.set_user(replace(user, proxy_addresses=(*user.proxy_addresses, f"smtp:{alias}")))
        local, _, domain = alias.partition("@")
        account = builder.account_for(user, email=f"{local.upper()}@{domain}")
        planted.accounts.append(account)
        planted.note("alias_only_users", user.id)
        planted.note("alias_only_accounts", account.account_id)


def _plant_case_duplicates(builder: Builder, planted: Planted, user: SandboxUser) -> None:
    """Two active accounts on one address, differing only in letter case."""
    assert user.mail is not None
    local, _, domain = user.mail.partition("@")
    lower = builder.account_for(user)
    upper = builder.account_for(user, email=f"{local.title()}@{domain}")
    planted.accounts += [lower, upper]
    planted.note("case_duplicate_user", user.id)
    planted.note("case_duplicate_accounts", lower.account_id, upper.account_id)


def _plant_ambiguous(
    builder: Builder, planted: Planted, owner: SandboxUser, other: SandboxUser
) -> None:
    """One address two users answer to: ``owner``'s mail is ``other``'s smtp alias."""
    assert owner.mail is not None
    planted.set_user(replace(other, proxy_addresses=(*other.proxy_addresses, f"smtp:{owner.mail}")))
    account = builder.account_for(owner)
    planted.accounts.append(account)
    planted.note("ambiguous_users", owner.id, other.id)
    planted.note("ambiguous_account", account.account_id)


def _plant_inactive(builder: Builder, planted: Planted, users: list[SandboxUser]) -> None:
    """Atlassian accounts deactivated while the directory user is still enabled."""
    for user in users:
        account = builder.account_for(user, active=False)
        planted.accounts.append(account)
        planted.note("inactive_account_users", user.id)
        planted.note("inactive_accounts", account.account_id)


def _plant_contact_manager(builder: Builder, planted: Planted, user: SandboxUser) -> None:
    """A user whose manager is an org contact, which can never become an Employee."""
    first, last = builder.name()
    contact = SandboxContact(
        id=builder.new_id(),
        display_name=f"{first} {last} (Advisor)",
        mail=f"{first}.{last}@advisors.example".lower(),
    )
    planted.contacts.append(contact)
    planted.set_user(replace(user, manager_id=contact.id))
    planted.note("contact_manager_users", user.id)
    planted.note("org_contacts", contact.id)


def _plant_unowned(builder: Builder, planted: Planted) -> None:
    """An account on our domain that no directory user answers to."""
    first, last = builder.name()
    email = f"{builder.unique_local(f'{first}.{last}')}@{builder.domain}"
    account = SandboxAccount(
        account_id=builder.new_account_id(),
        display_name=f"{first} {last}",
        email=email,
        managed=True,
    )
    planted.accounts.append(account)
    planted.note("no_directory_user", account.account_id)


def _plant_manager_without_account(builder: Builder, planted: Planted) -> str:
    """A department head with reports but no Atlassian account: a missing link."""
    heads = planted.notes["department_heads"]
    managers = {u.manager_id for u in planted.users}
    candidates = [h for h in heads if h in managers]
    chosen = builder.rng.choice(candidates)
    planted.note("manager_without_account", chosen)
    return chosen


def _give_regular_accounts(builder: Builder, planted: Planted, taken: set[str], count: int) -> None:
    """Plain, visible, active accounts for ``count`` of the remaining users."""
    rest = [u for u in planted.users if u.id not in taken]
    if count > len(rest):
        raise ValueError("atlassian is too large for people; raise people")
    for user in builder.rng.sample(rest, count):
        planted.accounts.append(builder.account_for(user))


def _add_apps_and_customers(builder: Builder, planted: Planted) -> None:
    """Non-person accounts a site always has; not counted in ``atlassian``."""
    for name in ("Automation for Jira", "Slack"):
        app = SandboxAccount(builder.new_account_id(), name, None, account_type="app")
        planted.accounts.append(app)
        planted.note("app_accounts", app.account_id)
    for _ in range(2):
        first, last = builder.name()
        email = f"{builder.unique_local(f'{first}.{last}')}@customer.example"
        customer = SandboxAccount(
            builder.new_account_id(), f"{first} {last}", email, account_type="customer"
        )
        planted.accounts.append(customer)
        planted.note("customer_accounts", customer.account_id)
