"""Guard rails: when a sync must not apply without a second person's look.

Peer sync tools wiped their targets when a source answered with nothing or far too
little (ssosync read zero Google users and deleted everyone in AWS), or when a scope
change turned into mass deprovisioning. Entra Connect stops at 500 deletions, Okta at
20 %. We hold a plan for a person to approve (whoever started the run) when:

* it inactivates more than ``max_inactivations`` Employees *and* more than
  ``max_inactivation_percent`` % of the Employees the sync owns (both, so a small
  site is not held for two leavers and a big one not for 0.5 %);
* either source returned fewer than ``min_source_percent`` % of what the previous
  successful run read (a half-empty read looks like a mass departure);
* either source returned nothing at all while the sync owns Employees, whatever the
  previous run read: there is no history for the very first run to compare with;
* a full directory read returned fewer users than Graph counts in the tenant (by
  the same ``min_source_percent``): pages went missing even on a first run;
* it updates more than ``max_updates`` Employees *and* more than
  ``max_update_percent`` % of them: a reorganisation is real, but so is a directory
  answer that lost a property for everyone, and the two look alike to a program;
* it clears one attribute (job title, department, email, manager, ...) on more than
  ``max_clears`` Employees *and* more than ``max_clear_percent`` % of them. Graph
  answers null for an unset property, so a clear is normal for one person and the
  signature of a downgraded permission for a hundred.

The defaults (25 and 10 % for inactivations, 50 and 20 % for updates, 10 and 5 % for
clears of one attribute, 90 % for reads) let a site of 500 see two dozen leavers or
a department renamed for 50 people unattended, and stop what is almost never real:
a tenth of the company leaving overnight, a fifth of it changing at once, or a
field emptied for dozens.

Pure: the numbers come in, reasons (empty = safe) go out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.sync.plan import Plan

ENV_MAX_INACTIVATIONS = "ENTRA_SYNC_GUARD_MAX_INACTIVATIONS"
ENV_MAX_INACTIVATION_PERCENT = "ENTRA_SYNC_GUARD_MAX_INACTIVATION_PERCENT"
ENV_MIN_SOURCE_PERCENT = "ENTRA_SYNC_GUARD_MIN_SOURCE_PERCENT"
ENV_MAX_UPDATES = "ENTRA_SYNC_GUARD_MAX_UPDATES"
ENV_MAX_UPDATE_PERCENT = "ENTRA_SYNC_GUARD_MAX_UPDATE_PERCENT"
ENV_MAX_CLEARS = "ENTRA_SYNC_GUARD_MAX_CLEARS"
ENV_MAX_CLEAR_PERCENT = "ENTRA_SYNC_GUARD_MAX_CLEAR_PERCENT"

COUNT_ATLASSIAN = "atlassian_accounts"
COUNT_DIRECTORY = "directory_users"
"""Keys under which each run's counts keep the sizes of its two sources."""


@dataclass(frozen=True)
class GuardPolicy:
    max_inactivations: int = 25
    max_inactivation_percent: float = 10.0
    min_source_percent: float = 90.0
    max_updates: int = 50
    max_update_percent: float = 20.0
    max_clears: int = 10
    max_clear_percent: float = 5.0


@dataclass(frozen=True)
class SourceCounts:
    """What one run read: active Atlassian accounts and the tenant's directory size."""

    atlassian_accounts: int
    directory_users: int

    def as_counts(self) -> dict[str, int]:
        return {COUNT_ATLASSIAN: self.atlassian_accounts, COUNT_DIRECTORY: self.directory_users}

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> SourceCounts | None:
        """The counts a run stored, or None for a run that stored none (older versions)."""
        if COUNT_ATLASSIAN not in counts or COUNT_DIRECTORY not in counts:
            return None
        return cls(counts[COUNT_ATLASSIAN], counts[COUNT_DIRECTORY])


def hold_reasons(
    plan: Plan, current: SourceCounts, previous: SourceCounts | None, policy: GuardPolicy
) -> tuple[str, ...]:
    """Why ``plan`` must wait for a person; empty when it may apply unattended."""
    owned = plan.stats.owned_employees
    reasons = [
        _source_reason(
            "Entra users",
            current.directory_users,
            previous.directory_users if previous else None,
            owned=owned,
            policy=policy,
        ),
        _source_reason(
            "Atlassian active accounts",
            current.atlassian_accounts,
            previous.atlassian_accounts if previous else None,
            owned=owned,
            policy=policy,
        ),
        _inactivation_reason(plan, policy),
        _update_reason(plan, policy),
        *_clear_reasons(plan, policy),
    ]
    return tuple(reason for reason in reasons if reason)


def incomplete_read_reason(read: int, counted: int, policy: GuardPolicy) -> str | None:
    """A full directory read that returned fewer users than the tenant counts."""
    if counted <= 0 or 100.0 * read / counted >= policy.min_source_percent:
        return None
    share = 100.0 * read / counted
    return (
        f"Entra's pages held {read:,} users but Graph counts {counted:,} in the tenant "
        f"({_percent(share)}%, under {_percent(policy.min_source_percent)}%, "
        f"{ENV_MIN_SOURCE_PERCENT}): the read looks cut short. Check the connection "
        "before approving."
    )


def _update_reason(plan: Plan, policy: GuardPolicy) -> str | None:
    count, owned = len(plan.updates), plan.stats.owned_employees
    share = _over_both(count, owned, policy.max_updates, policy.max_update_percent)
    if share is None:
        return None
    limits = _limits(policy.max_updates, ENV_MAX_UPDATES, policy.max_update_percent)
    return (
        f"{count:,} updates, {_percent(share)}% of the {owned:,} Employees the sync owns: "
        f"{limits} ({ENV_MAX_UPDATE_PERCENT})."
    )


def _clear_reasons(plan: Plan, policy: GuardPolicy) -> list[str]:
    """One reason per attribute the plan would empty for too many Employees."""
    changes = [c for u in plan.updates for c in u.changes]
    changes += [c for i in plan.inactivations for c in i.changes]
    cleared = Counter(c.attr for c in changes if c.before and not c.after)
    owned = plan.stats.owned_employees
    limits = _limits(policy.max_clears, ENV_MAX_CLEARS, policy.max_clear_percent)
    reasons = []
    for attr, count in sorted(cleared.items(), key=lambda item: (-item[1], item[0].value)):
        share = _over_both(count, owned, policy.max_clears, policy.max_clear_percent)
        if share is not None:
            reasons.append(
                f"{attr.value} would be emptied for {count:,} Employees, {_percent(share)}% "
                f"of {owned:,}: {limits} ({ENV_MAX_CLEAR_PERCENT}). A directory answer "
                "missing a property for everyone looks exactly like this."
            )
    return reasons


def _inactivation_reason(plan: Plan, policy: GuardPolicy) -> str | None:
    count, owned = len(plan.inactivations), plan.stats.owned_employees
    share = _over_both(count, owned, policy.max_inactivations, policy.max_inactivation_percent)
    if share is None:
        return None
    limits = _limits(
        policy.max_inactivations, ENV_MAX_INACTIVATIONS, policy.max_inactivation_percent
    )
    return (
        f"{count:,} inactivations, {_percent(share)}% of the {owned:,} Employees the sync "
        f"owns: {limits} ({ENV_MAX_INACTIVATION_PERCENT})."
    )


def _over_both(count: int, owned: int, limit: int, percent: float) -> float | None:
    """The share of owned Employees ``count`` is, when it is over both limits; else None.

    Both, so a small site is not held for two leavers and a big one not for 0.5 %.
    """
    share = 100.0 * count / owned if owned else 100.0
    return share if count > limit and share > percent else None


def _limits(limit: int, env_limit: str, percent: float) -> str:
    return f"more than {limit:,} ({env_limit}) and more than {_percent(percent)}%"


def _source_reason(
    what: str, now: int, before: int | None, *, owned: int, policy: GuardPolicy
) -> str | None:
    """At most one reason per source: a shrunken read, or an empty one."""
    source, noun = what.split(" ", 1)
    if before:
        share = 100.0 * now / before
        if share < policy.min_source_percent:
            return (
                f"{source} returned {now:,} {noun}, {_percent(share)}% of the {before:,} read "
                f"last time: under {_percent(policy.min_source_percent)}% "
                f"({ENV_MIN_SOURCE_PERCENT}). Check the connection and permissions before "
                "approving."
            )
    if now == 0 and owned > 0:
        return (
            f"{source} returned 0 {noun} while the sync owns {owned:,} Employees: "
            "an empty read is never applied unattended."
        )
    return None


def _percent(value: float) -> str:
    """``12``, ``12.5`` or ``0.1``: one decimal at most, none when whole."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")
