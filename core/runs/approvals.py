"""Approving and rejecting stored previews: who may decide, and what a click does.

No Slack here: the bot renders :class:`Decision` and nothing else. Every rule lives
in this module so the CLI, the bot and the tests agree on it:

* authorisation is checked when the click happens, not when the preview was posted;
* a preview is applied at most once, however many people click at once: every move
  is one conditional update in :meth:`core.store.database.Store.transition_preview`;
* only the exact plan that was previewed is applied (its fingerprint is re-checked
  after a fresh read), so an approver never signs off one plan and gets another;
* the guard rails stand aside only for an approver who is not the requester: where
  self-approval is allowed, a mass change approved by its own requester waits
  for a second approver (the preview goes back to pending);
* a click first moves the preview pending -> approved (the race-deciding update), and
  approved -> applying only once its run holds the lease. A run that could not take
  the lease hands the preview back to pending (the click answers busy), and a preview
  left approved or applying by a process that died is failed by the next run to take
  the lease (:func:`core.runs.active.fail_dead_previews`).

Every decision, denials included, leaves an audit record.

Who may *ask* for a preview in Slack is a rule here too (:meth:`Approvals.may_request_preview`):
by default approvers and admins, or everyone with ``ENTRA_SYNC_PREVIEW_REQUESTERS=everyone``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from core.config import PreviewRequesters
from core.errors import SyncError
from core.runs.service import ApplyProgress, Say, SyncService
from core.runs.values import Review, RunInProgress, StalePlan, SyncResult
from core.store import PreviewStatus, PreviewView, RunKind, RunStatus, Store

NO_APPROVERS = "No approvers are configured: an admin can add them with /entra setup."
NOT_AN_APPROVER = "Only approvers can approve or reject: {approvers}."
OWN_PREVIEW = "You asked for this preview, so someone else must approve it."
STALE_REASON = "Assets or the directory changed since this preview; nothing was applied."
PREVIEW_REQUESTERS_ONLY = (
    "Only approvers ({approvers}) and admins can ask for a preview; ask one of them."
)
PREVIEW_ADMINS_ONLY = (
    "Only admins can ask for a preview until approvers are named with /entra setup."
)
SECOND_APPROVER = (
    "Nothing was applied: this plan breaches the guard rails, so an approver other than "
    "the person who asked for it must approve it. {reasons}"
)


@dataclass(frozen=True)
class ApprovalPolicy:
    approvers: tuple[str, ...]
    allow_self_approval: bool = False


class DecisionKind(StrEnum):
    APPLIED = "applied"
    PARTIAL = "partial"  # applied, but some writes failed
    FAILED = "failed"  # approved, but the sync could not run or every write failed
    REJECTED = "rejected"
    STALE = "stale"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    DENIED = "denied"  # the actor may not decide; nothing changed
    ALREADY_DECIDED = "already_decided"
    BUSY = "busy"  # another run is in progress; the preview is still pending
    HELD = "held"  # the guard rails want a second approver; the preview is still pending
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Decision:
    """What a click did. ``preview`` is the preview as it stands afterwards."""

    kind: DecisionKind
    preview: PreviewView | None
    actor: str
    reason: str
    result: SyncResult | None = None
    approvers: tuple[str, ...] = ()


# A preview no longer pending answers every click with the same kind.
_CLOSED_KINDS = {
    PreviewStatus.EXPIRED: DecisionKind.EXPIRED,
    PreviewStatus.SUPERSEDED: DecisionKind.SUPERSEDED,
    PreviewStatus.STALE: DecisionKind.STALE,
}


@dataclass(frozen=True)
class _Click:
    """One person's click on one preview: what every step reports and audits."""

    action: str  # "approve" or "reject"
    preview_id: int
    actor: str
    policy: ApprovalPolicy


class PreviewClosed(SyncError):
    """The preview left ``approved`` before its run took the lease: the run must not apply."""


class _Claim:
    """The ``started`` hook of an approved preview's run: approved -> applying, once."""

    def __init__(self, store: Store, preview_id: int) -> None:
        self._store = store
        self._preview_id = preview_id
        self.run_id: int | None = None

    def __call__(self, run_id: int) -> None:
        self.run_id = run_id
        if not self._store.transition_preview(
            self._preview_id, [PreviewStatus.APPROVED], PreviewStatus.APPLYING
        ):
            raise PreviewClosed(
                f"Preview #{self._preview_id} was closed before run #{run_id} could apply it; "
                "nothing was applied."
            )


class Approvals:
    """Approve or reject previews on behalf of a person (a Slack user id)."""

    def __init__(self, service: SyncService) -> None:
        self._service = service
        self._store = service.store

    def policy(self) -> ApprovalPolicy:
        """Approvers come from the team settings, self-approval from the process settings."""
        return ApprovalPolicy(
            approvers=self._service.team_settings().approvers,
            allow_self_approval=self._service.settings.allow_self_approval,
        )

    def may_sync_now(self, actor: str) -> bool:
        """Approvers may sync at once (still within the guard rails); others ask for a preview."""
        return self._service.is_approver(actor)

    def may_request_preview(self, actor: str, is_admin: Callable[[], bool]) -> bool:
        """Whether ``actor`` may ask for a preview (``ENTRA_SYNC_PREVIEW_REQUESTERS``).

        ``approvers`` (the default): approvers and admins; ``everyone``: anyone.
        ``is_admin`` is asked only when the answer depends on it: it may call Slack.
        """
        if self._service.settings.preview_requesters is PreviewRequesters.EVERYONE:
            return True
        return self._service.is_approver(actor) or is_admin()

    def preview_refusal(self) -> str:
        """One line for someone who may not ask for a preview: who can."""
        approvers = self._service.team_settings().approvers
        if not approvers:
            return PREVIEW_ADMINS_ONLY
        return PREVIEW_REQUESTERS_ONLY.format(approvers=", ".join(_mention(a) for a in approvers))

    def denial_reason(self, preview: PreviewView, actor: str) -> str | None:
        """Why ``actor`` may not decide on ``preview``; None when they may."""
        return _denial(self.policy(), preview, actor)

    def approve(
        self,
        preview_id: int,
        actor: str,
        *,
        say: Say = lambda _: None,
        progress: ApplyProgress = lambda done, total: None,
    ) -> Decision:
        """Apply exactly the previewed plan, once, if ``actor`` may approve it."""
        click = _Click("approve", preview_id, actor, self.policy())
        preview = self._precheck(click)
        if isinstance(preview, Decision):
            return preview
        busy = self._service.busy()
        if busy is not None:
            return self._busy(click, busy)
        if not self._store.transition_preview(
            preview_id, [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor=actor
        ):
            return self._lost_race(click)
        # approved -> applying happens in the run's ``started`` hook, once it holds the lease.
        review = Review(preview.id, preview.fingerprint, preview.requested_by, preview.person)
        return self._apply(click, review, say, progress)

    def reject(self, preview_id: int, actor: str) -> Decision:
        """Close a pending preview without applying it, if ``actor`` may decide on it."""
        click = _Click("reject", preview_id, actor, self.policy())
        checked = self._precheck(click)
        if isinstance(checked, Decision):
            return checked
        if not self._store.transition_preview(
            preview_id, [PreviewStatus.PENDING], PreviewStatus.REJECTED, actor=actor
        ):
            return self._lost_race(click)
        reason = f"Preview #{preview_id} was rejected; nothing was applied."
        return self._decide(click, DecisionKind.REJECTED, reason)

    # -- steps ----------------------------------------------------------------------------

    def _precheck(self, click: _Click) -> PreviewView | Decision:
        """The pending preview, or the Decision when it is unknown, denied or closed."""
        preview = self._store.preview(click.preview_id)
        if preview is None:
            reason = f"Preview #{click.preview_id} does not exist."
            return self._decide(click, DecisionKind.NOT_FOUND, reason)
        denial = _denial(click.policy, preview, click.actor)
        if denial is not None:
            detail = f"{click.action}: {denial}"
            self._store.audit(click.actor, "deny", _subject(click.preview_id), detail)
            approvers = click.policy.approvers
            return Decision(DecisionKind.DENIED, preview, click.actor, denial, approvers=approvers)
        if preview.status is not PreviewStatus.PENDING:
            return self._closed(click, preview)
        return preview

    def _busy(self, click: _Click, busy: RunInProgress) -> Decision:
        """Another run holds the lock; a preview someone just decided says so instead."""
        current = self._store.preview(click.preview_id)
        if current is not None and current.status is not PreviewStatus.PENDING:
            return self._closed(click, current)
        reason = f"{busy} Try again when it has finished."
        return self._decide(click, DecisionKind.BUSY, reason)

    def _hand_back(self, click: _Click, busy: RunInProgress) -> Decision:
        """The run never took the lease: the approval is undone and the preview is pending."""
        self._store.transition_preview(
            click.preview_id, [PreviewStatus.APPROVED], PreviewStatus.PENDING, undecide=True
        )
        return self._busy(click, busy)

    def _closed(self, click: _Click, preview: PreviewView) -> Decision:
        """A preview that can no longer be decided; one past its TTL is stored as expired."""
        if preview.status is PreviewStatus.EXPIRED:
            self._store.transition_preview(
                preview.id, [PreviewStatus.EXPIRED], PreviewStatus.EXPIRED
            )
        kind = _CLOSED_KINDS.get(preview.status, DecisionKind.ALREADY_DECIDED)
        return self._decide(click, kind, _closed_reason(preview))

    def _second_approver(self, click: _Click, result: SyncResult) -> Decision:
        """Self-approval of a mass change: hand the preview back for a second approver.

        It is marked held, so a routine preview asked for meanwhile does not supersede it.
        """
        self._store.transition_preview(
            click.preview_id,
            [PreviewStatus.APPROVED, PreviewStatus.APPLYING],
            PreviewStatus.PENDING,
            undecide=True,
            hold_reasons=result.hold_reasons,
        )
        reason = SECOND_APPROVER.format(reasons=" ".join(result.hold_reasons))
        return self._decide(click, DecisionKind.HELD, reason, result)

    def _lost_race(self, click: _Click) -> Decision:
        """The conditional update matched nothing: someone else decided, or time ran out."""
        current = self._store.preview(click.preview_id)
        if current is None:  # pragma: no cover - previews are never deleted
            reason = f"Preview #{click.preview_id} does not exist."
            return self._decide(click, DecisionKind.NOT_FOUND, reason)
        return self._closed(click, current)

    def _apply(self, click: _Click, review: Review, say: Say, progress: ApplyProgress) -> Decision:
        """Run the sync pinned to the preview's fingerprint; the preview ends applied or not."""
        claim = _Claim(self._store, click.preview_id)
        try:
            result = self._service.sync(
                click.actor,
                kind=RunKind.MANUAL,
                review=review,
                started=claim,
                say=say,
                progress=progress,
            )
        except StalePlan:
            return self._finish(click, PreviewStatus.STALE, STALE_REASON)
        except RunInProgress as busy:
            if claim.run_id is None:  # the lease went to someone else: nothing ran
                return self._hand_back(click, busy)
            reason = f"The sync could not run, so nothing was applied: {busy}"
            return self._finish(click, PreviewStatus.FAILED, reason)
        except PreviewClosed:  # failed meanwhile by a run that took over a dead one
            return self._lost_race(click)
        except SyncError as exc:
            reason = f"The sync could not run, so nothing was applied: {exc}"
            return self._finish(click, PreviewStatus.FAILED, reason)
        except BaseException:
            self._finish(click, PreviewStatus.FAILED, "The sync was interrupted.")
            raise
        return self._applied(click, result)

    def _applied(self, click: _Click, result: SyncResult) -> Decision:
        if result.held:
            return self._second_approver(click, result)
        applied = result.applied
        succeeded = applied.succeeded if applied else 0
        failed = applied.failed if applied else 0
        summary = f"{succeeded} writes succeeded, {failed} failed (run #{result.run_id})."
        if result.status is RunStatus.FAILED:
            return self._finish(click, PreviewStatus.FAILED, summary, result)
        kind = DecisionKind.PARTIAL if failed else DecisionKind.APPLIED
        return self._finish(click, PreviewStatus.APPLIED, summary, result, kind)

    def _finish(
        self,
        click: _Click,
        status: PreviewStatus,
        reason: str,
        result: SyncResult | None = None,
        kind: DecisionKind | None = None,
    ) -> Decision:
        """Move the preview out of ``approved`` / ``applying``; the kind defaults to the status.

        Only this click's approval can have put the preview there, so both are ours; a
        preview another run failed meanwhile is left as it is.
        """
        self._store.transition_preview(
            click.preview_id, [PreviewStatus.APPROVED, PreviewStatus.APPLYING], status
        )
        return self._decide(click, kind or DecisionKind(status.value), reason, result)

    def _decide(
        self, click: _Click, kind: DecisionKind, reason: str, result: SyncResult | None = None
    ) -> Decision:
        """Audit the decision and hand back the preview as it now stands."""
        detail = f"{kind.value}: {reason}"
        self._store.audit(click.actor, click.action, _subject(click.preview_id), detail)
        preview = self._store.preview(click.preview_id)
        return Decision(kind, preview, click.actor, reason, result, click.policy.approvers)


def _denial(policy: ApprovalPolicy, preview: PreviewView, actor: str) -> str | None:
    if not policy.approvers:
        return NO_APPROVERS
    if actor not in policy.approvers:
        return NOT_AN_APPROVER.format(approvers=", ".join(_mention(a) for a in policy.approvers))
    if actor == preview.requested_by and not policy.allow_self_approval:
        return OWN_PREVIEW
    return None


def _closed_reason(preview: PreviewView) -> str:
    """One sentence on why this preview can no longer be decided."""
    number = f"Preview #{preview.id}"
    by = f" by {_mention(preview.decided_by)}" if preview.decided_by else ""
    reasons = {
        PreviewStatus.EXPIRED: f"{number} has expired; nothing was applied. Run a new preview.",
        PreviewStatus.SUPERSEDED: f"{number} was replaced by a newer preview; nothing was applied.",
        PreviewStatus.STALE: f"{number} is out of date: {STALE_REASON}",
        PreviewStatus.REJECTED: f"{number} was already rejected{by}.",
        PreviewStatus.APPLIED: f"{number} was already applied{by}.",
        PreviewStatus.APPLYING: f"{number} is being applied{by}.",
        PreviewStatus.APPROVED: f"{number} was already approved{by}.",
        PreviewStatus.FAILED: f"{number} was approved{by} but the sync failed; run a new preview.",
    }
    return reasons.get(preview.status, f"{number} is {preview.status.value}.")


def _mention(user_id: str) -> str:
    return f"<@{user_id}>"


def _subject(preview_id: int) -> str:
    return f"preview #{preview_id}"
