"""Private replies outlive their response_url: past five messages or 30 minutes, a DM.

The fake Slack refuses the sixth message on a response URL and any message more than
30 minutes after the command (HTTP 404, as Slack does), and Bolt's ``respond`` does
not raise when it does: a reply sent that way would vanish.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_bolt import Respond
from slack_sdk import WebClient

from bot.listeners.replies import PrivateReply
from tests.bot.scenario import ALICE, Clock, HeldWorker, running_bot
from tests.bot.slack_fake import REFUSED_RESPONSE, FakeSlack


@pytest.fixture
def clock(fake_slack: FakeSlack) -> Clock:
    ticking = Clock()
    fake_slack.use_clock(ticking)
    return ticking


def _reply(fake: FakeSlack, clock: Clock, url: str | None) -> PrivateReply:
    client = WebClient(token="xoxb-test", base_url=fake.base_url)
    respond = Respond(response_url=url) if url is not None else None
    return PrivateReply(client, ALICE, respond, clock=clock)


def _direct_messages(fake: FakeSlack) -> list[str]:
    return [
        str(c.params["text"])
        for c in fake.calls("chat.postMessage")
        if c.params["channel"] == ALICE
    ]


def _by_url(fake: FakeSlack) -> list[str]:
    return [str(c.params["text"]) for c in fake.calls("response_url")]


def test_the_sixth_reply_goes_by_direct_message(fake_slack: FakeSlack, clock: Clock) -> None:
    reply = _reply(fake_slack, clock, fake_slack.new_response_url())

    for n in range(1, 8):
        reply(f"reply {n}")

    assert _by_url(fake_slack) == [f"reply {n}" for n in range(1, 6)]
    assert _direct_messages(fake_slack) == ["reply 6", "reply 7"]
    assert fake_slack.calls(REFUSED_RESPONSE) == []  # counted, not tried


def test_a_reply_after_30_minutes_goes_by_direct_message(
    fake_slack: FakeSlack, clock: Clock
) -> None:
    reply = _reply(fake_slack, clock, fake_slack.new_response_url())
    clock.advance(minutes=28)
    reply("in time")
    clock.advance(minutes=2, seconds=30)  # 30.5 minutes after the command

    reply("too late for the URL")

    assert _by_url(fake_slack) == ["in time"]
    assert _direct_messages(fake_slack) == ["too late for the URL"]


def test_the_last_minute_goes_by_direct_message_too(fake_slack: FakeSlack, clock: Clock) -> None:
    """Slack's 30 minutes started a little before the request reached the bot."""
    reply = _reply(fake_slack, clock, fake_slack.new_response_url())
    clock.advance(minutes=29, seconds=10)

    reply("almost too late")

    assert _direct_messages(fake_slack) == ["almost too late"]


def test_a_url_slack_refuses_is_given_up_and_the_reply_still_arrives(
    fake_slack: FakeSlack, clock: Clock
) -> None:
    """Slack may count a use the bot did not; its refusal is read, not ignored."""
    url = fake_slack.new_response_url()
    fake_slack.use_up(url)
    reply = _reply(fake_slack, clock, url)

    reply("first")
    reply("second")

    assert len(fake_slack.calls(REFUSED_RESPONSE)) == 1
    assert _direct_messages(fake_slack) == ["first", "second"]


def test_without_a_response_url_the_reply_is_a_direct_message(
    fake_slack: FakeSlack, clock: Clock
) -> None:
    _reply(fake_slack, clock, None)("from the App Home")

    assert _direct_messages(fake_slack) == ["from the App Home"]
    assert fake_slack.last("chat.postMessage").params == {
        "channel": ALICE,
        "text": "from the App Home",
    }


def test_a_preview_that_fails_after_40_minutes_still_tells_the_person(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """A first preview of a large directory outlives its response URL; the reply that
    the preview could not be posted reaches the person as a direct message."""
    worker = HeldWorker()
    with running_bot(tmp_path, fake_slack, worker=worker, PREVIEW_REQUESTERS="everyone") as bot:
        bot.command("preview", user=ALICE)
        bot.clock.advance(minutes=40)
        bot.fake.fail_next("chat.postMessage", error="channel_not_found", status=200)

        worker.release()

        (dm,) = _direct_messages(bot.fake)
        assert "I cannot post in this channel" in dm
        assert bot.replies() == []
        assert bot.fake.calls(REFUSED_RESPONSE) == []
