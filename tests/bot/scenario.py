"""A real Bolt app over the real engine: Slack faked at its Web API, the APIs by the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pytest
from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.app import build_app
from bot.config import SlackSettings
from bot.worker import Worker
from core.cli.demo import configure_sandbox, sandbox_environ
from core.config import TeamSettings, load_settings
from core.runs import SyncService
from core.sandbox import Sandbox
from core.store import Store, load_cipher
from tests.bot.harness import (
    FORM,
    JSON,
    SIGNING_SECRET,
    action_body,
    command_body,
    home_opened_body,
    signed_request,
    view_submission_body,
)
from tests.bot.slack_fake import FakeSlack

ADMIN, ALICE, BOB, CAROL = "U0ADMIN", "U0ALICE", "U0BOB", "U0CAROL"
CHANNEL = "C0OPS"

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, but one the tests can wait on until it is idle."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="bolt-listener")
        self.futures: list[Future[Any]] = []

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future = super().submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future

    def drain(self) -> None:
        wait(list(self.futures), timeout=30)


@dataclass
class Bot:
    app: App
    fake: FakeSlack
    sandbox: Sandbox
    service: SyncService
    worker: Worker
    clock: Clock
    listeners: TrackingExecutor

    def dispatch(self, body: str, content_type: str = FORM) -> BoltResponse:
        response = self.app.dispatch(signed_request(body, content_type=content_type))
        self.listeners.drain()
        self.worker.drain()
        return response

    def command(self, text: str, user: str = ALICE, channel: str = CHANNEL) -> BoltResponse:
        url = self.fake.new_response_url()
        return self.dispatch(command_body(text, user_id=user, channel_id=channel, response_url=url))

    def click(self, action: str, value: str, user: str, message_ts: str = "1.1") -> BoltResponse:
        url = self.fake.new_response_url()
        body = action_body(
            action, value, user_id=user, channel_id=CHANNEL, message_ts=message_ts, response_url=url
        )
        return self.dispatch(body)

    def submit(self, callback_id: str, values: dict[str, Any], user: str) -> BoltResponse:
        return self.dispatch(view_submission_body(callback_id, values, user_id=user))

    def open_home(self, user: str) -> BoltResponse:
        return self.dispatch(home_opened_body(user), content_type=JSON)

    def replies(self) -> list[str]:
        """Texts sent privately through response_url, in order."""
        return [str(c.params.get("text", "")) for c in self.fake.calls("response_url")]

    def writes(self) -> list[tuple[str, str, str]]:
        return [
            entry
            for entry in self.sandbox.request_log
            if entry[0] == "assets" and entry[1] in {"POST", "PUT"} and "/aql" not in entry[2]
        ]

    def posted_previews(self) -> list[dict[str, Any]]:
        return [c.params for c in self.fake.calls("chat.postMessage") if _has_approve(c.params)]


def _has_approve(params: dict[str, Any]) -> bool:
    return "entra_preview_approve" in json.dumps(params.get("blocks", []))


def ack_text(response: BoltResponse) -> str:
    """What the person saw in the acknowledgement: Bolt sends bare text as text/plain."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return response.body
    return json.dumps(body)


def action_ids(blocks: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and "action_id" in element:
                found.add(element["action_id"])
    return found


def text_of(params: dict[str, Any]) -> str:
    return json.dumps(params.get("blocks", [])) + str(params.get("text", ""))


class HeldWorker(Worker):
    """Keeps the jobs listeners hand over until :meth:`release`, so a test can let time
    pass between Slack's acknowledgement and the work (a run that takes 40 minutes)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[Callable[[], None], str]] = []

    def submit(self, job: Callable[[], None], *, name: str) -> None:
        self.held.append((job, name))

    def release(self) -> None:
        """Run every held job now, and wait for them."""
        jobs, self.held = self.held, []
        for job, name in jobs:
            super().submit(job, name=name)
        super().drain()


@contextmanager
def running_bot(
    db_dir: Path, fake_slack: FakeSlack, *, worker: Worker | None = None, **env: str
) -> Iterator[Bot]:
    """The real app on the sandbox; ``env`` adds ENTRA_SYNC_* variables (without the prefix).

    The fake Slack ages response URLs by the bot's clock.
    """
    sandbox = Sandbox(seed=7, people=60, atlassian=45)
    clock = Clock()
    fake_slack.use_clock(clock)
    environ = {
        **sandbox_environ(f"sqlite:///{db_dir / 'bot.db'}"),
        **{f"ENTRA_SYNC_{name}": value for name, value in env.items()},
    }
    settings = load_settings(environ, env_file=None)
    store = Store(settings.database_url, load_cipher(settings), clock=clock)
    service = SyncService(settings, store, transport=sandbox.transport())
    configure_sandbox(service)
    service.create_schema(ADMIN)
    service.save_team_settings(TeamSettings(CHANNEL, (BOB, CAROL)), ADMIN)
    slack = SlackSettings(
        bot_token="xoxb-test",
        signing_secret=SIGNING_SECRET,
        api_url=fake_slack.base_url,
        admin_user_ids=(ADMIN,),
    )
    worker = worker or Worker()
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)
    listeners = TrackingExecutor()
    app = build_app(
        service,
        slack,
        client=client,
        worker=worker,
        clock=clock,
        token_verification_enabled=False,
        listener_executor=listeners,
    )
    sandbox.request_log.clear()
    yield Bot(app, fake_slack, sandbox, service, worker, clock, listeners)
    listeners.shutdown()
    worker.shutdown()
    service.close()


@pytest.fixture
def bot(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Bot]:
    """A team where anyone may ask for a preview: Alice (a member) asks, Bob or Carol decide.

    The default (approvers and admins only) is covered in tests/bot/test_request_rules.py.
    """
    with running_bot(tmp_path, fake_slack, PREVIEW_REQUESTERS="everyone") as running:
        yield running
