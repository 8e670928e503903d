"""``entra-sync serve``: run the Slack bot until interrupted.

Socket Mode when ``SLACK_APP_TOKEN`` is set (no public endpoint needed), otherwise HTTP
on ``PORT`` via :class:`bot.server.SlackHttpServer`. In Socket Mode the same server
answers only ``/healthz`` and ``/readyz`` on ``PORT``, so probes work in both modes.
Both the engine settings and the Slack settings are checked before anything starts,
and their problems are reported together, so a first deployment fails once with the
whole list. While it serves, the
same process runs the daily scheduled check and the preview expiry sweep
(:func:`bot.scheduler.start_scheduler`), stopped with it.
"""

from __future__ import annotations

import errno
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import ENV_PORT, SlackSettings, build_web_client, load_slack_settings
from bot.health import Readiness, SlackAuth, schedule_auth_checks
from bot.scheduler import start_scheduler
from bot.server import (
    EVENTS_PATH,
    HEALTH_PATH,
    READY_PATH,
    HttpLimits,
    ReadyCheck,
    SlackHttpServer,
)
from bot.slack_auth import verify_bot_token
from bot.startup import log_startup
from core.config import Settings, load_settings
from core.errors import ConfigError, FieldProblem
from core.logs import level_number, process_logging
from core.runs import SyncService

AppBuilder = Callable[[SyncService, SlackSettings], App]

logger = logging.getLogger(__name__)

__all__ = ["AppBuilder", "build_web_client", "load_all_settings", "run_serve"]


def run_serve(env_file: Path | None, *, build: AppBuilder | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; returns the exit code (0).

    ``build`` defaults to :func:`bot.app.build_app`; tests pass a smaller app.
    Raises :class:`ConfigError` (exit 2 in the CLI) before opening anything, including
    when Slack refuses the bot token; an unreachable Slack is an ``ApiError`` (exit 1).
    Logs go to stderr at ``ENTRA_SYNC_LOG_LEVEL`` (default INFO) in
    ``ENTRA_SYNC_LOG_FORMAT`` (:mod:`core.logs`), starting with the one line of
    :mod:`bot.startup`.
    """
    settings, slack = load_all_settings(env_file)
    verify_bot_token(slack)
    level = level_number(settings.log_level, logging.INFO)
    with process_logging(level, settings.log_format):
        return _run(settings, slack, build)


def _run(settings: Settings, slack: SlackSettings, build: AppBuilder | None) -> int:
    log_startup(settings, slack, datetime.now(UTC))  # first, before a schema upgrade says more
    service = SyncService.open(settings)
    restore = _stop_on_sigterm()
    try:
        app = (build or _default_builder())(service, slack)
        scheduler = start_scheduler(service, app.client)
        auth = SlackAuth(app.client)
        auth.refresh()
        schedule_auth_checks(scheduler, auth)
        try:
            _serve(app, slack, Readiness(service, scheduler, auth))
        finally:
            scheduler.shutdown(wait=False)
    except KeyboardInterrupt:
        logger.info("Stopping")
    finally:
        restore()
        service.close()
    return 0


def load_all_settings(env_file: Path | None) -> tuple[Settings, SlackSettings]:
    """Engine and Slack settings, with the problems of both in one :class:`ConfigError`."""
    problems: list[FieldProblem] = []
    settings: Settings | None = None
    slack: SlackSettings | None = None
    try:
        settings = load_settings(env_file=env_file)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        slack = load_slack_settings(env_file=env_file)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems or settings is None or slack is None:
        raise ConfigError(problems)
    return settings, slack


def _default_builder() -> AppBuilder:
    """Imported late so this module stays importable while the app is assembled."""
    from bot.app import build_app  # noqa: PLC0415

    return build_app


def _serve(app: App, slack: SlackSettings, readiness: ReadyCheck) -> None:
    if slack.app_token is not None:
        _serve_socket_mode(app, slack, readiness)
    else:
        _serve_http(app, slack, readiness)


def _limits(slack: SlackSettings) -> HttpLimits:
    return HttpLimits(
        read_timeout=slack.read_timeout,
        keepalive_timeout=slack.keepalive_timeout,
        connection_limit=slack.max_connections,
    )


def _serve_socket_mode(app: App, slack: SlackSettings, readiness: ReadyCheck) -> None:
    assert slack.app_token is not None
    probes = _bind(None, slack, readiness).start()
    logger.info(
        "Serving Slack in Socket Mode (outbound WebSocket, no public endpoint); "
        "probes on port %d: GET %s, GET %s",
        probes.port,
        HEALTH_PATH,
        READY_PATH,
    )
    handler = SocketModeHandler(app, slack.app_token)
    try:
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        probes.stop()


def _serve_http(app: App, slack: SlackSettings, readiness: ReadyCheck) -> None:
    server = _bind(app, slack, readiness)
    logger.info(
        "Serving Slack over HTTP on port %d: POST %s, GET %s, GET %s",
        server.port,
        EVENTS_PATH,
        HEALTH_PATH,
        READY_PATH,
    )
    server.serve_forever()


def _bind(app: App | None, slack: SlackSettings, readiness: ReadyCheck) -> SlackHttpServer:
    """The server on ``PORT``; a port taken or forbidden is a setting to change (exit 2)."""
    try:
        return SlackHttpServer(app, port=slack.port, readiness=readiness, limits=_limits(slack))
    except OSError as exc:
        rule = _PORT_PROBLEMS.get(exc.errno or 0)
        if rule is None:
            raise
        raise ConfigError([FieldProblem(ENV_PORT, rule.format(port=slack.port))]) from exc


_PORT_PROBLEMS = {
    errno.EADDRINUSE: "port {port} is already in use (another serve?); stop it or choose another",
    errno.EACCES: "port {port} needs privileges this user lacks; choose a port above 1023",
}


def _stop_on_sigterm() -> Callable[[], None]:
    """Containers stop with SIGTERM; treat it as Ctrl-C so the service closes cleanly.

    Returns a function that puts the previous handler back. Only the main thread may
    install handlers, so elsewhere (an embedding test) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
