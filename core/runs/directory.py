"""How a run reads the Entra directory: the delta copy, its fallbacks, and when to look up.

The rule for choosing:

* **no copy yet** (for this tenant, Graph root and $select): Graph counts the tenant. When a
  first delta read would cost more than twice the ``$batch`` lookups of the users
  the sync needs (:func:`core.clients.prefers_lookup`: a small Atlassian site in a
  big tenant), those users are looked up and no copy is made. Otherwise the first
  delta round reads everyone and becomes the copy;
* **no change tracking** (External ID and B2C tenants answer the first delta request
  with a 400): every user is listed from ``/users`` on every run, and no copy is kept;
* **a copy**: only the changes since it are read, from the older of its two saved
  links while Graph still keeps that one (seven days). Every change is then read by
  two rounds in a row, so one that an answer lost is read again by the next run;
  Graph's own replays are harmless to a merge. When both links are older than
  Graph keeps them, or Graph refuses the link (``syncStateNotFound``,
  ``resyncRequired``, ``410 Gone``), everything is read afresh and the run says so.

A finished round is kept (copy and link in one transaction, :mod:`core.store.directory`)
whatever the run does next: the copy mirrors Graph, not Assets, so a preview that is
never applied loses nothing by it. A round is not kept when Graph withheld
``accountEnabled`` in it (the run uses it, with those users' Active unknown), nor when
it holds fewer users than Graph counts by the guard's margin; a change round that
leaves the copy that short drops the copy, so the next run reads everything.

The daily check calls :meth:`DirectoryReader.refresh` on the days it does not sync:
one request when nothing changed, and the saved link never grows older than a day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clients import (
    DeltaLinkRefused,
    DeltaRound,
    DirectoryRead,
    GraphDirectory,
    directory_view,
    prefers_lookup,
)
from core.errors import RequestRejected
from core.store import DirectoryCopy, DirectoryCopySave, Store
from core.sync import GuardPolicy, incomplete_read_reason

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(days=7)
"""How long Graph keeps the state behind a delta link of directory objects."""
OVERLAP_MARGIN = timedelta(days=1)

Say = Callable[[str], None]


@dataclass(frozen=True)
class DirectoryRefresh:
    """What the daily check's delta round did to the copy."""

    changed: int
    removed: int
    fresh: bool
    kept: bool


class DirectoryReader:
    """Reads the directory for one run, keeping the copy of ``owner`` in ``store``."""

    def __init__(
        self,
        graph: GraphDirectory,
        store: Store,
        owner: str,
        policy: GuardPolicy,
        say: Say = lambda _: None,
    ) -> None:
        self._graph = graph
        self._store = store
        self._owner = owner
        self._policy = policy
        self._say = say

    @property
    def owner(self) -> str:
        """Whose copy this is: the tenant, Graph root and $select it is read with."""
        return self._owner

    def read(self, emails: Collection[str], ids: Collection[str]) -> DirectoryRead:
        """The whole directory by delta (or a fresh read), or the users asked for."""
        size = self._graph.count_users()
        copy = self._store.directory_copy(self._owner)
        if copy is None and prefers_lookup(size, emails, ids):
            self._say(f"Reading the directory for {len(emails)} emails and {len(ids)} linked users")
            return DirectoryRead(tuple(self._graph.lookup(emails, ids)), "lookup", size)
        if copy is None:
            self._say(f"Reading all {size:,} directory users; later runs read only the changes")
            try:
                round_ = self._graph.delta_round({}, None)
            except RequestRejected as error:
                if error.status != 400:
                    raise
                return self._listed(error, size)
        else:
            round_ = self._advance(copy)
        self._keep(copy, round_, size)
        return DirectoryRead(directory_view(round_.copy), "full" if round_.fresh else "delta", size)

    def _listed(self, error: RequestRejected, size: int) -> DirectoryRead:
        """Everyone from the plain ``/users`` listing, when Graph will not track changes.

        External ID (customer) and B2C tenants answer the delta query with a 400; the
        sync still works there, at a request per 100 users on every run.
        """
        self._warn(
            f"Graph refused the delta query (HTTP {error.status}): listing every user "
            "instead, and keeping no copy"
        )
        return DirectoryRead(tuple(self._graph.list_all()), "full", size)

    def refresh(self) -> DirectoryRefresh | None:
        """One delta round onto the copy, so its link stays fresh; None when there is no copy."""
        copy = self._store.directory_copy(self._owner)
        if copy is None:
            return None
        round_ = self._advance(copy)
        size = self._graph.count_users() if round_.fresh else None
        kept = self._keep(copy, round_, size)
        return DirectoryRefresh(len(round_.changed), len(round_.removed), round_.fresh, kept)

    def _advance(self, copy: DirectoryCopy) -> DeltaRound:
        """The changes since the copy, or everything when Graph no longer keeps its state."""
        now = self._store.now()
        links = _links_to_read(copy, now)
        if not links:
            days = (now - copy.saved_at).days
            return self._afresh(
                f"The saved delta link is {days} days old and Graph keeps them for "
                f"{LINK_LIFETIME.days}"
            )
        self._say(f"Reading directory changes since {copy.saved_at:%Y-%m-%d %H:%M} UTC")
        refused: DeltaLinkRefused | None = None
        for link in links:
            try:
                round_ = self._graph.delta_round(copy.users, link)
            except DeltaLinkRefused as error:
                refused = error
                continue
            self._say(
                f"Directory: {len(round_.changed)} users changed, {len(round_.removed)} removed"
            )
            return round_
        assert refused is not None
        return self._afresh(f"Graph refused the saved delta link (HTTP {refused.status})")

    def _afresh(self, why: str) -> DeltaRound:
        message = f"{why}: reading the whole directory again"
        log.warning(message)
        self._say(message)
        return self._graph.delta_round({}, None)

    def _keep(self, copy: DirectoryCopy | None, round_: DeltaRound, size: int | None) -> bool:
        """Save the round as the copy, unless Graph withheld data or the copy looks cut."""
        if not round_.keepable:
            self._warn(
                f"Graph withheld accountEnabled for {round_.withheld} users: the directory "
                "copy stays as it was and the next run reads these changes again"
            )
            return False
        cut = (
            incomplete_read_reason(len(round_.copy), size, self._policy)
            if size is not None
            else None
        )
        if cut is not None:
            if copy is not None and not round_.fresh:
                self._store.drop_directory_copy()
                self._warn("The directory copy is short: dropped, the next run reads everything")
            else:
                self._warn("This directory read looks cut short, so it is not kept")
            return False
        older = copy is not None and not round_.fresh
        save = DirectoryCopySave(
            owner=self._owner,
            base_version=copy.version if copy is not None else None,
            users=round_.copy,
            link=round_.link,
            previous_link=copy.link if older and copy is not None else None,
            previous_saved_at=copy.saved_at if older and copy is not None else None,
            fresh=round_.fresh,
            changed=round_.changed,
            removed=round_.removed,
        )
        if not self._store.save_directory_copy(save):
            log.info("another run saved the directory copy first; this round is not kept")
            return False
        return True

    def _warn(self, message: str) -> None:
        log.warning(message)
        self._say(message)


def _links_to_read(copy: DirectoryCopy, now: datetime) -> list[str]:
    """The links worth trying, in order: the older one (a one-round overlap), then the newer.

    The older link is only tried while it is a day short of Graph's lifetime, so a
    clock that differs from Graph's by hours does not cost a refused request.
    """
    links = []
    older = copy.previous_saved_at
    if copy.previous_link and older is not None and now - older < LINK_LIFETIME - OVERLAP_MARGIN:
        links.append(copy.previous_link)
    if now - copy.saved_at < LINK_LIFETIME:
        links.append(copy.link)
    return links
