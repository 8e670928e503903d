"""``/readyz``: the database, the scheduler and the last Slack sign-in, with the version.

Driven through the real app, the real scheduler and the fake Slack Web API; each
check is broken the way it breaks in production (the database file made unreadable
by closing its engine onto a removed directory, the scheduler paused or shut down,
the bot token revoked, the auth answer gone stale).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine

from bot.health import AUTH_JOB_ID, AUTH_STALE_AFTER, Readiness, SlackAuth, schedule_auth_checks
from bot.scheduler import DAILY_JOB_ID, start_scheduler
from bot.server import SlackHttpServer
from core.version import version
from tests.bot.scenario import Bot


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def scheduler(bot: Bot) -> Iterator[BackgroundScheduler]:
    """The serve process's scheduler, running, with only the daily check (hours away)."""
    running = start_scheduler(bot.service, bot.app.client, clock=bot.clock, paused=True)
    for job in running.get_jobs():
        if job.id != DAILY_JOB_ID:
            job.remove()
    running.resume()
    yield running
    if running.running:
        running.shutdown(wait=False)


def ready(bot: Bot, scheduler: BackgroundScheduler, auth: SlackAuth) -> tuple[bool, Any]:
    return Readiness(bot.service, scheduler, auth)()


def test_ready_with_every_check_named_and_the_version(
    bot: Bot, scheduler: BackgroundScheduler
) -> None:
    auth = SlackAuth(bot.app.client)
    auth.refresh()

    ok, body = ready(bot, scheduler, auth)

    assert ok is True
    assert body["version"] == version()
    checks = body["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True,
        "scheduler": True,
        "slack": True,
    }
    assert "next daily check" in checks["scheduler"]["detail"]


def test_a_revoked_bot_token_makes_it_unready(bot: Bot, scheduler: BackgroundScheduler) -> None:
    bot.fake.reject_token("xoxb-test", "token_revoked")
    auth = SlackAuth(bot.app.client)
    auth.refresh()

    ok, body = ready(bot, scheduler, auth)

    assert ok is False
    assert body["checks"]["slack"] == {"ok": False, "detail": "auth.test answered token_revoked"}


def test_an_auth_answer_never_asked_or_gone_stale_is_not_trusted(bot: Bot) -> None:
    clock = Clock()
    auth = SlackAuth(bot.app.client, clock=clock)
    assert auth.last().ok is False

    auth.refresh()
    assert auth.last().ok is True
    clock.now += AUTH_STALE_AFTER + 1

    assert auth.last().ok is False
    assert "stale" in auth.last().detail


def test_a_paused_or_stopped_scheduler_makes_it_unready(
    bot: Bot, scheduler: BackgroundScheduler
) -> None:
    auth = SlackAuth(bot.app.client)
    auth.refresh()

    scheduler.pause()
    assert ready(bot, scheduler, auth)[0] is False
    scheduler.resume()
    assert ready(bot, scheduler, auth)[0] is True
    scheduler.shutdown(wait=False)

    ok, body = ready(bot, scheduler, auth)
    assert ok is False
    assert body["checks"]["scheduler"]["ok"] is False


def test_a_database_that_does_not_answer_makes_it_unready_without_saying_where(
    bot: Bot, scheduler: BackgroundScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = SlackAuth(bot.app.client)
    auth.refresh()
    gone = create_engine("sqlite:////nonexistent-directory/secret-name.db")
    monkeypatch.setattr(type(bot.service.store), "engine", property(lambda _: gone))

    ok, body = ready(bot, scheduler, auth)

    assert ok is False
    detail = body["checks"]["database"]["detail"]
    assert detail == "the database did not answer (OperationalError)"
    assert "secret-name" not in str(body)


def test_the_auth_check_is_a_scheduled_job(bot: Bot) -> None:
    scheduler = BackgroundScheduler()
    schedule_auth_checks(scheduler, SlackAuth(bot.app.client))

    job = scheduler.get_job(AUTH_JOB_ID)

    assert job is not None
    assert job.trigger.interval.total_seconds() == 60


def test_readyz_over_http_is_503_until_ready(bot: Bot, scheduler: BackgroundScheduler) -> None:
    auth = SlackAuth(bot.app.client)
    readiness = Readiness(bot.service, scheduler, auth)
    with SlackHttpServer(bot.app, host="127.0.0.1", port=0, readiness=readiness) as server:
        before = httpx.get(server.url + "/readyz")
        auth.refresh()
        after = httpx.get(server.url + "/readyz")

    assert before.status_code == 503
    assert before.json()["checks"]["slack"]["detail"] == "auth.test not asked yet"
    assert after.status_code == 200
    assert after.json()["ok"] is True


def test_the_auth_job_runs_without_a_log_line_and_refreshes_the_answer(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    auth = SlackAuth(bot.app.client, clock=clock)
    scheduler = BackgroundScheduler()
    schedule_auth_checks(scheduler, auth)
    caplog.set_level(logging.INFO, logger="apscheduler")
    scheduler.start()
    try:
        job = scheduler.get_job(AUTH_JOB_ID)
        assert job is not None
        job.modify(next_run_time=datetime.now(UTC))
        deadline = time.monotonic() + 5
        while auth.last().detail == "auth.test not asked yet" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)

    assert auth.last().ok is True
    runs = [r for r in caplog.records if r.name == "apscheduler.executors.default"]
    assert not [r for r in runs if "Slack sign-in check" in r.getMessage()]
