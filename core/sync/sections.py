"""The six lists of a plan, named once: key, titles, words, CSV rows and order.

Every rendering of a plan (counts, the CLI preview, the CSV export, the Slack preview
and reports) walks :data:`SECTIONS`, so the lists always come in the same order under
the same names. A section's ``key`` is the :class:`~core.sync.plan.Plan` field that
holds it, which is also its key in the stored JSON and in ``Plan.counts()``.

How a section's items read as text stays with each renderer; the CSV row is here
because the CLI and the bot export the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from core.sync.models import Attr

if TYPE_CHECKING:
    from core.sync.plan import (
        Create,
        FieldChange,
        Inactivation,
        MissingManager,
        Plan,
        PlanWarning,
        Unmatched,
        Update,
    )

T = TypeVar("T")
CsvRow = tuple[str, ...]
"""subject, id, field, before, after, reason: a CSV row after its section column."""

CSV_HEADER = ("section", "subject", "id", "field", "before", "after", "reason")


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    key: str
    """The Plan field, the key in the stored JSON and in ``Plan.counts()``."""
    title: str
    """Heading of the section's list, and its label in the CLI's counts."""
    label: str
    """Short label in count grids, where space is tight."""
    one: str
    many: str
    """The noun for a count: ``1 create`` / ``3 creates``."""
    csv_name: str
    """The ``section`` column of the CSV export."""
    writes: bool
    """True for the lists applying writes; only these are fingerprinted."""
    items: Callable[[Plan], Sequence[T]]
    csv_rows: Callable[[Plan, T], Iterator[CsvRow]]
    """The CSV rows of one item, without the section column."""

    def rows(self, plan: Plan) -> Iterator[tuple[str, ...]]:
        """Every CSV row of this section in ``plan``, section column first."""
        for item in self.items(plan):
            for row in self.csv_rows(plan, item):
                yield (self.csv_name, *row)


def plain_value(plan: Plan, change: FieldChange, value: str | None) -> str:
    """A before/after value as plain text; Manager values are shown as the manager's name."""
    if change.attr is Attr.MANAGER:
        value = plan.manager_name(value)
    return "(empty)" if value in (None, "") else str(value)


def _create_rows(plan: Plan, create: Create) -> Iterator[CsvRow]:
    for attr, value in create.values:
        shown = plan.manager_name(value) if attr is Attr.MANAGER else value
        yield (create.label, create.entra_user_id, attr.value, "", shown or "", "")


def _update_rows(plan: Plan, update: Update) -> Iterator[CsvRow]:
    for ch in update.changes:
        before, after = plain_value(plan, ch, ch.before), plain_value(plan, ch, ch.after)
        yield (update.label, update.object_key, ch.attr.value, before, after, "")


def _inactivation_rows(plan: Plan, gone: Inactivation) -> Iterator[CsvRow]:
    for ch in gone.changes:
        before, after = plain_value(plan, ch, ch.before), plain_value(plan, ch, ch.after)
        yield (gone.label, gone.object_key, ch.attr.value, before, after, gone.reason.value)


def _unmatched_rows(_: Plan, n: Unmatched) -> Iterator[CsvRow]:
    yield (n.display_name, n.account_id, "email", "", n.email or "", n.reason.value)


def _missing_manager_rows(_: Plan, m: MissingManager) -> Iterator[CsvRow]:
    yield (m.label, m.entra_user_id, "manager", "", m.manager_name or m.manager_id, m.reason.value)


def _warning_rows(_: Plan, w: PlanWarning) -> Iterator[CsvRow]:
    yield (w.subject, "", w.code.value, "", "", w.message)


CREATES: Section[Create] = Section(
    key="creates",
    title="Creates",
    label="Creates",
    one="create",
    many="creates",
    csv_name="create",
    writes=True,
    items=lambda plan: plan.creates,
    csv_rows=_create_rows,
)

UPDATES: Section[Update] = Section(
    key="updates",
    title="Updates",
    label="Updates",
    one="update",
    many="updates",
    csv_name="update",
    writes=True,
    items=lambda plan: plan.updates,
    csv_rows=_update_rows,
)

INACTIVATIONS: Section[Inactivation] = Section(
    key="inactivations",
    title="Inactivations",
    label="Inactivations",
    one="inactivation",
    many="inactivations",
    csv_name="inactivate",
    writes=True,
    items=lambda plan: plan.inactivations,
    csv_rows=_inactivation_rows,
)

UNMATCHED: Section[Unmatched] = Section(
    key="unmatched",
    title="Unmatched Atlassian accounts",
    label="Unmatched accounts",
    one="unmatched account",
    many="unmatched accounts",
    csv_name="unmatched",
    writes=False,
    items=lambda plan: plan.unmatched,
    csv_rows=_unmatched_rows,
)

MISSING_MANAGERS: Section[MissingManager] = Section(
    key="missing_managers",
    title="Missing manager links",
    label="Missing manager links",
    one="missing manager link",
    many="missing manager links",
    csv_name="missing_manager",
    writes=False,
    items=lambda plan: plan.missing_managers,
    csv_rows=_missing_manager_rows,
)

WARNINGS: Section[PlanWarning] = Section(
    key="warnings",
    title="Warnings",
    label="Warnings",
    one="warning",
    many="warnings",
    csv_name="warning",
    writes=False,
    items=lambda plan: plan.warnings,
    csv_rows=_warning_rows,
)

SECTIONS: tuple[Section[Any], ...] = (
    CREATES,
    UPDATES,
    INACTIVATIONS,
    UNMATCHED,
    MISSING_MANAGERS,
    WARNINGS,
)
"""The sections in the order every rendering shows them (and the stored JSON holds them)."""

WRITE_SECTIONS: tuple[Section[Any], ...] = tuple(s for s in SECTIONS if s.writes)
"""Creates, updates and inactivations: what applying a plan writes."""
