"""Preview messages, escaping and Slack limits of the Block Kit builders."""

from __future__ import annotations

import pytest

from bot.blocks import (
    closed_message,
    decided_message,
    escape_mrkdwn,
    preview_csv_filename,
    preview_message,
    user_mention,
)
from bot.blocks.escape import channel_mention, clip, slack_date
from bot.blocks.message import Message, fit_blocks, lines_text, section
from bot.ids import Action
from core.runs import DecisionKind
from core.store import PreviewStatus
from core.sync import Plan
from core.sync.plan import PlanWarning, WarningCode
from tests.bot.test_blocks_support import (
    APPROVER,
    NOW,
    REQUESTER,
    action_ids,
    assert_message_fits,
    assert_no_pings,
    big_plan,
    buttons,
    decision,
    hostile_plan,
    preview_view,
    small_plan,
    sync_result,
    texts,
)

LIVE = {Action.APPROVE.value, Action.REJECT.value}


def test_escape_mrkdwn_neutralises_the_three_control_characters() -> None:
    """``&``, ``<`` and ``>`` are escaped, ampersand first so nothing is escaped twice."""
    assert escape_mrkdwn("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_clip_never_cuts_an_entity_in_half() -> None:
    """A long run of ``&`` is shortened on whole entities and ends in an ellipsis."""
    clipped = clip("&" * 100, 23)
    assert clipped == "&amp;" * 4 + "…"
    assert len(clipped) <= 23


def test_user_mention_wraps_only_valid_slack_ids() -> None:
    """``<@U…>`` for real ids; anything else, e.g. a CLI actor, is escaped text."""
    assert user_mention("U0ABC123") == "<@U0ABC123>"
    assert user_mention("W0ABC123") == "<@W0ABC123>"
    assert user_mention("U0ABC> <!channel") == "U0ABC&gt; &lt;!channel"
    assert user_mention("cli:alice") == "cli:alice"
    assert user_mention(None) == "someone"


def test_channel_mention_wraps_only_valid_channel_ids() -> None:
    """``<#C…>`` renders the channel's current name; a bad id is shown escaped."""
    assert channel_mention("C0REPORTS") == "<#C0REPORTS>"
    assert channel_mention("<!here>") == "&lt;!here&gt;"
    assert channel_mention(None) == "not set"


def test_slack_date_has_epoch_format_and_utc_fallback() -> None:
    """Dates render in the reader's zone, with a readable UTC fallback."""
    assert slack_date(NOW) == (
        f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}} {{time}}|2025-03-03 12:00:00 UTC>"
    )


def test_message_needs_fallback_text() -> None:
    """A Message without text is refused: Slack needs it for notifications."""
    with pytest.raises(ValueError, match="fallback"):
        Message("", [])


def test_lines_text_stays_under_the_section_limit_and_counts_the_rest() -> None:
    """However long the lines, the text fits and says how many were left out."""
    text = lines_text("*Title*", ["x" * 1000] * 10, total=500, where="in the CSV")
    assert len(text) < 3000
    assert text.endswith("… and 498 more in the CSV")


def test_fit_blocks_keeps_the_buttons_when_trimming() -> None:
    """Trimming to the block limit keeps the last block (the actions) and says so."""
    blocks = [section(str(i)) for i in range(60)]
    fitted = fit_blocks(blocks, 50)
    assert len(fitted) == 50
    assert fitted[-1] == blocks[-1]
    assert "… and 11 more" in texts(fitted[-2])[0]


def test_preview_of_twenty_thousand_changes_fits_slack_limits() -> None:
    """A 20,000-row plan renders the counts and a few rows, within every limit."""
    plan = big_plan()
    msg = preview_message(preview_view(plan), plan, now=NOW)
    assert_message_fits(msg)
    joined = "\n".join(texts(msg.blocks))
    assert "3,333" in joined
    assert "more (see the thread)" in joined
    assert "3,333 creates" in msg.text
    assert "3,335 warnings" in msg.text


def test_preview_rows_are_capped_per_section() -> None:
    """Each list shows at most five rows; the rest is counted, not listed."""
    plan = big_plan(600)
    msg = preview_message(preview_view(plan), plan, now=NOW)
    creates = next(t for t in texts(msg.blocks) if t.startswith("*Creates* ("))
    assert creates.count("\n• ") == 5
    assert creates.endswith("… and 95 more (see the thread)")


def test_preview_escapes_every_directory_value() -> None:
    """Names like ``<!channel>`` or ``<@U123>`` are shown, never sent as mentions."""
    plan = hostile_plan()
    msg = preview_message(preview_view(plan), plan, now=NOW)
    assert_no_pings(msg.blocks, msg.text)
    joined = "\n".join(texts(msg.blocks))
    assert "&lt;!channel&gt;" in joined
    assert "&lt;@U123&gt;" in joined
    assert f"<@{REQUESTER}>" in joined


def test_preview_with_huge_hostile_names_still_fits() -> None:
    """Names thousands of characters long, all escapable, cannot break the limits."""
    plan = hostile_plan(width=400)
    msg = preview_message(preview_view(plan), plan, now=NOW)
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)


def test_preview_buttons_carry_the_preview_id() -> None:
    """Approve (primary, with a confirm dialog) and Reject (danger) name the preview."""
    plan = small_plan()
    msg = preview_message(preview_view(plan, preview_id=1234), plan, now=NOW)
    found = {b["action_id"]: b for b in buttons(msg.blocks)}
    assert set(found) == LIVE
    approve, reject = found[Action.APPROVE.value], found[Action.REJECT.value]
    assert approve["value"] == reject["value"] == "1234"
    assert approve["style"] == "primary"
    assert reject["style"] == "danger"
    dialog = approve["confirm"]["text"]["text"]
    assert "1 create, 1 update and 1 inactivation" in dialog


def test_preview_confirm_dialog_fits_with_huge_counts() -> None:
    """The confirm dialog summarises counts in at most 300 characters."""
    plan = big_plan()
    msg = preview_message(preview_view(plan, preview_id=10**12), plan, now=NOW)
    approve = next(b for b in buttons(msg.blocks) if b["action_id"] == Action.APPROVE.value)
    assert len(approve["confirm"]["text"]["text"]) <= 300
    assert len(approve["confirm"]["title"]["text"]) <= 100


def test_preview_shows_requester_expiry_and_fingerprint() -> None:
    """The context line names the requester, the expiry as a Slack date and the fingerprint."""
    plan = small_plan()
    msg = preview_message(preview_view(plan), plan, now=NOW)
    joined = "\n".join(texts(msg.blocks))
    assert f"<@{REQUESTER}>" in joined
    assert "<!date^" in joined
    assert "(in 23 h)" in joined
    assert plan.fingerprint[:16] in joined
    assert plan.fingerprint not in joined


def test_empty_plan_offers_no_approve_button() -> None:
    """Nothing to change: a context line, and no button at all."""
    plan = Plan(warnings=(PlanWarning(WarningCode.GUEST, "guest", "a guest"),))
    msg = preview_message(preview_view(plan), plan, now=NOW)
    assert buttons(msg.blocks) == []
    assert msg.blocks[-1]["type"] == "context"
    assert "Nothing to change" in msg.blocks[-1]["elements"][0]["text"]
    assert "nothing to change" in msg.text
    assert_message_fits(msg)


def test_csv_filename_names_the_preview() -> None:
    """The attached CSV is recognisable by preview id."""
    assert preview_csv_filename(12) == "entra-preview-12.csv"


@pytest.mark.parametrize(
    "kind",
    [
        DecisionKind.APPLIED,
        DecisionKind.PARTIAL,
        DecisionKind.FAILED,
        DecisionKind.REJECTED,
        DecisionKind.STALE,
        DecisionKind.EXPIRED,
        DecisionKind.SUPERSEDED,
    ],
)
def test_decided_variants_have_no_approve_or_reject(kind: DecisionKind) -> None:
    """After a decision the buttons are gone and the summary stays."""
    plan = big_plan()
    preview = preview_view(plan, decided_by=APPROVER)
    result = sync_result(plan, ok=5, failed=40) if kind is not DecisionKind.REJECTED else None
    msg = decided_message(
        preview, plan, decision(kind, preview, reason="<!channel>", result=result), now=NOW
    )
    assert LIVE.isdisjoint(action_ids(msg.blocks))
    assert msg.blocks[0]["type"] == "header"
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)


@pytest.mark.parametrize(
    "kind", [DecisionKind.STALE, DecisionKind.EXPIRED, DecisionKind.SUPERSEDED, DecisionKind.FAILED]
)
def test_dead_ends_offer_a_new_preview(kind: DecisionKind) -> None:
    """Stale, expired, superseded and failed previews offer the New preview button."""
    plan = small_plan()
    preview = preview_view(plan, decided_by=APPROVER)
    msg = decided_message(preview, plan, decision(kind, preview, reason="boom"), now=NOW)
    assert action_ids(msg.blocks) == [Action.NEW_PREVIEW.value]


def test_applied_shows_who_when_counts_duration_and_failures() -> None:
    """A partial apply names the approver, counts, duration and the first failure reasons."""
    plan = small_plan()
    preview = preview_view(plan, decided_by=APPROVER)
    result = sync_result(plan, ok=2, failed=7)
    msg = decided_message(
        preview, plan, decision(DecisionKind.PARTIAL, preview, result=result), now=NOW
    )
    joined = "\n".join(texts(msg.blocks))
    assert f"<@{APPROVER}>" in joined
    assert "2 changes written, 7 failed" in joined
    assert "3 min 4 s" in joined
    assert "*7 changes failed*" in joined
    assert joined.count("Assets said &lt;!channel&gt; no") == 5
    assert "… and 2 more" in joined
    assert "42 requests" in joined
    assert "2 changes written, 7 failed" in msg.text


def test_rejected_names_who_rejected() -> None:
    """A rejection says who and when, and that nothing was applied."""
    plan = small_plan()
    preview = preview_view(plan, status=PreviewStatus.REJECTED, decided_by=APPROVER)
    msg = decided_message(preview, plan, decision(DecisionKind.REJECTED, preview), now=NOW)
    last = "\n".join(texts(msg.blocks[-1]))
    assert f"*Rejected* by <@{APPROVER}>" in last
    assert "<!date^" in last


def test_failed_shows_the_reason_escaped() -> None:
    """A failed apply shows the engine's reason, escaped."""
    plan = small_plan()
    preview = preview_view(plan, decided_by=APPROVER)
    d = decision(DecisionKind.FAILED, preview, reason="Graph said <!here>")
    msg = decided_message(preview, plan, d, now=NOW)
    assert "Graph said &lt;!here&gt;" in "\n".join(texts(msg.blocks))


@pytest.mark.parametrize("kind", [DecisionKind.DENIED, DecisionKind.BUSY])
def test_private_kinds_leave_a_pending_preview_actionable(kind: DecisionKind) -> None:
    """A denied or busy click never strips the buttons off a pending preview."""
    plan = small_plan()
    preview = preview_view(plan)
    msg = decided_message(preview, plan, decision(kind, preview, reason="no"), now=NOW)
    assert set(action_ids(msg.blocks)) >= LIVE


@pytest.mark.parametrize("status", [s for s in PreviewStatus if s is not PreviewStatus.PENDING])
def test_closed_message_has_no_approve_or_reject(status: PreviewStatus) -> None:
    """Every closed status replaces the buttons with an outcome line."""
    plan = big_plan()
    preview = preview_view(plan, status=status, decided_by=APPROVER)
    msg = closed_message(preview, plan, status, now=NOW)
    assert LIVE.isdisjoint(action_ids(msg.blocks))
    assert_message_fits(msg)


def test_closed_expired_says_when_and_offers_new_preview() -> None:
    """An expired preview shows its expiry and a New preview button."""
    plan = small_plan()
    preview = preview_view(plan, status=PreviewStatus.EXPIRED)
    msg = closed_message(preview, plan, PreviewStatus.EXPIRED, now=NOW)
    assert "*Expired*" in "\n".join(texts(msg.blocks))
    assert action_ids(msg.blocks) == [Action.NEW_PREVIEW.value]
    assert "expired" in msg.text
