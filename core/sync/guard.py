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
  previous run read: there is no history for the very first run to compare with.

Pure: the numbers come in, reasons (empty = safe) go out.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.sync.plan import Plan

ENV_MAX_INACTIVATIONS = "ENTRA_SYNC_GUARD_MAX_INACTIVATIONS"
ENV_MAX_INACTIVATION_PERCENT = "ENTRA_SYNC_GUARD_MAX_INACTIVATION_PERCENT"
ENV_MIN_SOURCE_PERCENT = "ENTRA_SYNC_GUARD_MIN_SOURCE_PERCENT"

COUNT_ATLASSIAN = "atlassian_accounts"
COUNT_DIRECTORY = "directory_users"
"""Keys under which each run's counts keep the sizes of its two sources."""


@dataclass(frozen=True)
class GuardPolicy:
    max_inactivations: int = 25
    max_inactivation_percent: float = 10.0
    min_source_percent: float = 90.0


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
    ]
    return tuple(reason for reason in reasons if reason)


def _inactivation_reason(plan: Plan, policy: GuardPolicy) -> str | None:
    count = len(plan.inactivations)
    owned = plan.stats.owned_employees
    share = 100.0 * count / owned if owned else 100.0
    if count <= policy.max_inactivations or share <= policy.max_inactivation_percent:
        return None
    return (
        f"{count:,} inactivations, {_percent(share)}% of the {owned:,} Employees the sync "
        f"owns: more than {policy.max_inactivations:,} ({ENV_MAX_INACTIVATIONS}) and more "
        f"than {_percent(policy.max_inactivation_percent)}% ({ENV_MAX_INACTIVATION_PERCENT})."
    )


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
