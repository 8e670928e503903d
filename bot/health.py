"""What ``/readyz`` answers: the database, the scheduler and the last Slack sign-in.

Liveness (``/healthz``) only says the process answers; readiness says it can do its
work. A load balancer should send Slack's requests only to a ready replica, and an
operator reading the JSON sees which of the three is missing. The Slack check is
the answer of ``auth.test`` asked every :data:`AUTH_EVERY_SECONDS` by the scheduler,
never on the probe's own request: a probe must answer fast, and a stale answer
means the scheduler stopped, which is itself a reason not to be ready.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.scheduler import DAILY_JOB_ID
from core.runs import SyncService, database_problem
from core.version import version

AUTH_EVERY_SECONDS = 60
AUTH_JOB_ID = "slack-auth-check"
AUTH_JOB_NAME = "Slack sign-in check"
APSCHEDULER_EXECUTOR_LOG = "apscheduler.executors.default"
AUTH_STALE_AFTER = 3 * AUTH_EVERY_SECONDS
"""Three missed checks in a row: the scheduler is stuck or Slack is out of reach."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One line of ``/readyz``: its name, whether it passed, and why (no secrets)."""

    name: str
    ok: bool
    detail: str


class SlackAuth:
    """The last ``auth.test`` answer: whether the bot token still works, and when asked."""

    def __init__(self, client: WebClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Check | None = None
        self._at = 0.0

    def refresh(self) -> Check:
        """Ask Slack now; keeps and returns the answer (never raises)."""
        check = self._ask()
        with self._lock:
            self._last, self._at = check, self._clock()
        if not check.ok:
            logger.warning("Readiness: %s", check.detail)
        return check

    def last(self) -> Check:
        """The kept answer, failed when there is none yet or it is too old to trust."""
        with self._lock:
            last, at = self._last, self._at
        if last is None:
            return Check("slack", False, "auth.test not asked yet")
        age = self._clock() - at
        if age > AUTH_STALE_AFTER:
            return Check("slack", False, f"last auth.test {int(age)} s ago (stale)")
        return last

    def _ask(self) -> Check:
        try:
            answer = self._client.auth_test()
        except SlackApiError as exc:
            return Check("slack", False, f"auth.test answered {exc.response.get('error')}")
        except (SlackClientError, OSError) as exc:
            return Check("slack", False, f"Slack did not answer auth.test ({type(exc).__name__})")
        return Check("slack", True, f"auth.test ok for team {answer.get('team_id')}")


class _QuietAuthJob(logging.Filter):
    """Drops APScheduler's two INFO lines per run of the auth job: 2,880 lines a day."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not isinstance(record.args, tuple) or not record.args:
            return True
        return not str(record.args[0]).startswith(AUTH_JOB_NAME)


_QUIET_AUTH_JOB = _QuietAuthJob()


def schedule_auth_checks(scheduler: BackgroundScheduler, auth: SlackAuth) -> None:
    """Ask ``auth.test`` every :data:`AUTH_EVERY_SECONDS` on the serve process's scheduler.

    A failed answer logs a warning (:meth:`SlackAuth.refresh`); a good one logs nothing.
    """
    logging.getLogger(APSCHEDULER_EXECUTOR_LOG).addFilter(_QUIET_AUTH_JOB)
    scheduler.add_job(
        auth.refresh,
        "interval",
        seconds=AUTH_EVERY_SECONDS,
        id=AUTH_JOB_ID,
        name=AUTH_JOB_NAME,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )


class Readiness:
    """Answers ``/readyz``: ``(ready, body)`` with the version and every check."""

    def __init__(
        self, service: SyncService, scheduler: BackgroundScheduler, auth: SlackAuth
    ) -> None:
        self._service = service
        self._scheduler = scheduler
        self._auth = auth

    def __call__(self) -> tuple[bool, dict[str, object]]:
        checks = [self._database(), self._schedule(), self._auth.last()]
        ready = all(check.ok for check in checks)
        body: dict[str, object] = {
            "ok": ready,
            "version": version(),
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
        }
        return ready, body

    def _database(self) -> Check:
        problem = database_problem(self._service)
        return Check("database", problem is None, problem or "answered SELECT 1")

    def _schedule(self) -> Check:
        return scheduler_check(self._scheduler)


def scheduler_check(scheduler: BackgroundScheduler) -> Check:
    """Running, not paused, and the daily check has a next time that is not long past."""
    if scheduler.state != STATE_RUNNING:
        return Check("scheduler", False, "the scheduler is stopped or paused")
    job = scheduler.get_job(DAILY_JOB_ID)
    next_run: datetime | None = getattr(job, "next_run_time", None)
    if job is None or next_run is None:
        return Check("scheduler", False, "the daily check is not scheduled")
    late = datetime.now(UTC) - next_run
    if late > timedelta(hours=1):  # APScheduler's misfire grace: it should have run
        return Check("scheduler", False, f"the daily check is overdue since {next_run.isoformat()}")
    return Check("scheduler", True, f"next daily check {next_run.isoformat()}")
