"""The fake Slack Web API answers a real ``slack_sdk.WebClient`` the way Slack does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.config import SlackSettings, build_web_client
from tests.bot.slack_fake import BOT_USER_ID, REFUSED_RESPONSE, FakeSlack

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*3 changes*"}}]


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake_slack.base_url)


def test_post_message_records_decoded_blocks_and_answers_increasing_ts(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C_OPS", text="Preview", blocks=BLOCKS)
    second = client.chat_postMessage(channel="C_OPS", text="Again", thread_ts=first["ts"])

    assert first["channel"] == "C_OPS"
    assert first["message"]["blocks"] == BLOCKS
    assert float(second["ts"]) > float(first["ts"])
    call = fake_slack.last("chat.postMessage")
    assert call.params["thread_ts"] == first["ts"]
    assert fake_slack.calls("chat.postMessage")[0].params["blocks"] == BLOCKS
    assert call.headers["authorization"] == "Bearer xoxb-test"


def test_json_bodies_are_recorded_like_form_bodies(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    client.api_call("chat.update", json={"channel": "C1", "ts": "1.2", "blocks": BLOCKS})

    assert fake_slack.last("chat.update").params == {"channel": "C1", "ts": "1.2", "blocks": BLOCKS}


def test_views_publish_returns_a_view_with_an_id(fake_slack: FakeSlack, client: WebClient) -> None:
    view = {"type": "home", "blocks": BLOCKS}

    response = client.views_publish(user_id="U_ALICE", view=view)

    assert response["view"]["id"].startswith("V")
    assert response["view"]["blocks"] == BLOCKS
    assert fake_slack.last("views.publish").params["view"] == view


def test_files_upload_v2_records_the_uploaded_content(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    client.conversations_join(channel="C_OPS")
    response = client.files_upload_v2(
        channel="C_OPS", thread_ts="1700000000.000100", filename="preview.csv", content="a,b\n1,2\n"
    )

    file_id = response["file"]["id"]
    assert fake_slack.uploads == {file_id: b"a,b\n1,2\n"}
    complete = fake_slack.last("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C_OPS"
    assert complete.params["thread_ts"] == "1700000000.000100"
    assert complete.params["files"] == [{"id": file_id, "title": "preview.csv"}]


def test_users_info_reports_the_configured_admin_flags(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.set_user("U_ADMIN", is_admin=True)

    admin = client.users_info(user="U_ADMIN")["user"]
    member = client.users_info(user="U_BOB")["user"]

    assert (admin["is_admin"], admin["is_owner"]) == (True, False)
    assert (member["is_admin"], member["is_owner"]) == (False, False)


def test_conversations_open_answers_a_dm_channel(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.set_scopes(["im:write"])

    assert client.conversations_open(users="U_ALICE")["channel"]["id"] == "DU_ALICE"


def test_a_method_without_its_scope_is_missing_scope(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    """As after installing the app without a scope its code needs."""
    fake_slack.set_scopes(["chat:write", "files:write"])

    with pytest.raises(SlackApiError) as caught:
        client.conversations_join(channel="C_OPS")

    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "channels:join"
    assert client.auth_test()["ok"] is True  # methods that need no scope still answer


# -- channels: posting needs chat:write.public, sharing a file needs membership ----------


def test_a_file_is_not_shared_into_a_public_channel_the_bot_has_not_joined(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    """chat:write.public lets the message through; the file is refused: not_in_channel."""
    posted = client.chat_postMessage(channel="C_OPS", text="Preview")

    with pytest.raises(SlackApiError) as caught:
        client.files_upload_v2(
            channel="C_OPS", thread_ts=posted["ts"], filename="p.csv", content="a,b\n"
        )

    assert caught.value.response["error"] == "not_in_channel"
    assert fake_slack.is_member("C_OPS") is False


def test_joining_a_public_channel_makes_the_bot_a_member(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    first = client.conversations_join(channel="C_OPS")
    again = client.conversations_join(channel="C_OPS")

    assert first["channel"]["is_member"] is True
    assert first.get("warning") is None
    assert again["warning"] == "already_in_channel"
    assert fake_slack.is_member("C_OPS")


def test_a_private_channel_cannot_be_joined_and_is_invisible_until_invited(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.add_channel("C_SECRET", private=True)

    with pytest.raises(SlackApiError) as join:
        client.conversations_join(channel="C_SECRET")
    with pytest.raises(SlackApiError) as post:
        client.chat_postMessage(channel="C_SECRET", text="hello")

    assert join.value.response["error"] == "method_not_supported_for_channel_type"
    assert post.value.response["error"] == "channel_not_found"
    fake_slack.add_channel("C_SECRET", private=True, member=True)  # invited
    posted = client.chat_postMessage(channel="C_SECRET", text="hello")
    client.files_upload_v2(channel="C_SECRET", thread_ts=posted["ts"], content="a", filename="a")


def test_without_chat_write_public_an_unjoined_channel_is_not_in_channel(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.set_scopes(["chat:write"])

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C_OPS", text="hello")

    assert caught.value.response["error"] == "not_in_channel"


def test_a_user_id_as_channel_is_the_apps_direct_message(client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U_ALICE", text="Your preview failed")

    assert posted["channel"] == "DU_ALICE"
    client.files_upload_v2(channel=posted["channel"], content="a", filename="a.csv")


def test_an_archived_channel_refuses_posts_and_joins(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.add_channel("C_OLD", archived=True)

    with pytest.raises(SlackApiError) as post:
        client.chat_postMessage(channel="C_OLD", text="x")
    with pytest.raises(SlackApiError) as join:
        client.conversations_join(channel="C_OLD")

    assert post.value.response["error"] == join.value.response["error"] == "is_archived"


# -- tokens ---------------------------------------------------------------------------


def test_a_rejected_token_is_refused_everywhere(fake_slack: FakeSlack) -> None:
    fake_slack.reject_token("xoxb-revoked", "token_revoked")
    client = WebClient(token="xoxb-revoked", base_url=fake_slack.base_url)

    with pytest.raises(SlackApiError) as caught:
        client.auth_test()

    assert caught.value.response["error"] == "token_revoked"


def test_rate_limit_is_retried_by_the_project_client(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=0)
    client = build_web_client(SlackSettings(bot_token="xoxb-test", api_url=fake_slack.base_url))

    response = client.chat_postMessage(channel="C_OPS", text="hello")

    assert response["ok"] is True
    assert len(fake_slack.calls("chat.postMessage")) == 2


def test_a_fault_reaches_a_client_without_retries(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.fail_next("chat.update", error="message_not_found", status=200)

    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C1", ts="1.2", text="x")

    assert caught.value.response["error"] == "message_not_found"
    assert client.chat_update(channel="C1", ts="1.2", text="x")["ok"] is True


def test_429_carries_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=7)

    response = httpx.post(
        fake_slack.base_url + "chat.postMessage", headers={"Authorization": "Bearer xoxb-t"}
    )

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"ok": False, "error": "ratelimited"}


@pytest.mark.parametrize("token", ["xoxp-user", "not-a-token"])
def test_anything_but_a_bot_token_is_invalid_auth(fake_slack: FakeSlack, token: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        WebClient(token=token, base_url=fake_slack.base_url).auth_test()

    assert caught.value.response["error"] == "invalid_auth"


def test_unknown_methods_are_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.api_call("admin.apps.approve")

    assert caught.value.response["error"] == "unknown_method"


def test_auth_test_names_the_bot(client: WebClient) -> None:
    assert client.auth_test()["user_id"] == BOT_USER_ID


# -- response URLs: five messages within 30 minutes -------------------------------------


def test_a_response_url_takes_five_messages_and_refuses_the_sixth(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    webhook = WebhookClient(url)

    statuses = [webhook.send(text=f"reply {n}").status_code for n in range(1, 7)]

    assert statuses == [200, 200, 200, 200, 200, 404]
    assert [c.params["text"] for c in fake_slack.calls("response_url")] == [
        f"reply {n}" for n in range(1, 6)
    ]
    (refused,) = fake_slack.calls(REFUSED_RESPONSE)
    assert refused.params["text"] == "reply 6"


def test_a_response_url_refuses_messages_after_30_minutes() -> None:
    now = [datetime(2026, 11, 26, 9, 0, tzinfo=UTC)]
    with FakeSlack(clock=lambda: now[0]) as fake:
        url = fake.new_response_url()
        now[0] += timedelta(minutes=29)
        assert WebhookClient(url).send(text="in time").status_code == 200
        now[0] += timedelta(minutes=2)

        late = WebhookClient(url).send(text="too late")

    assert (late.status_code, late.body) == (404, "expired_url")
    assert [c.params["text"] for c in fake.calls("response_url")] == ["in time"]


def test_a_used_up_response_url_refuses_at_once(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    fake_slack.use_up(url)

    response = WebhookClient(url).send(text="one more")

    assert (response.status_code, response.body) == (404, "used_url")


def test_response_url_posts_are_recorded(fake_slack: FakeSlack) -> None:
    other = fake_slack.new_response_url()

    WebhookClient(fake_slack.response_url).send(text="first", replace_original=True)
    WebhookClient(other).send(text="second")

    first, second = fake_slack.calls("response_url")
    assert first.params == {"text": "first", "replace_original": True}
    assert second.path.endswith(other.rsplit("/", 1)[1])
    assert second.path != first.path


def test_wait_for_sees_calls_made_from_other_threads(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    def post_later() -> None:
        client.chat_postMessage(channel="C_OPS", text="later")

    timer = threading.Timer(0.1, post_later)
    timer.start()

    calls = fake_slack.wait_for("chat.postMessage", timeout=5)
    timer.join()

    assert calls[0].params["text"] == "later"


def test_wait_for_fails_naming_what_arrived(fake_slack: FakeSlack, client: WebClient) -> None:
    client.auth_test()

    with pytest.raises(AssertionError, match=r"auth\.test"):
        fake_slack.wait_for("chat.postMessage", timeout=0.1)


def test_reset_forgets_calls_but_keeps_users(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.set_user("U_ADMIN", is_owner=True)
    client.auth_test()

    fake_slack.reset()

    assert fake_slack.calls() == []
    assert client.users_info(user="U_ADMIN")["user"]["is_owner"] is True


def test_multipart_bodies_are_recorded_too(fake_slack: FakeSlack, client: WebClient) -> None:
    client.api_call(
        "chat.postMessage", data={"channel": "C_OPS", "blocks": '[{"type": "divider"}]'}
    )

    assert fake_slack.last("chat.postMessage").params == {
        "channel": "C_OPS",
        "blocks": [{"type": "divider"}],
    }
