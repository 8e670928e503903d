"""HTTP mode: Slack's requests go through Bolt's own WSGI adapter, served by waitress.

Why waitress: it reads every request whole on one event loop before a worker thread
sees it, so a client that opens a connection and stalls costs a socket, not a thread
(the stdlib server this replaces held one thread per stalled connection, and 3,000 of
them starved it). It decodes ``Transfer-Encoding: chunked`` bodies itself, caps header
and body sizes, and runs inside this process, so the scheduler and the Bolt app share
it as they did; a pre-forking server (gunicorn) would start one scheduler per worker.

On top of waitress this module adds what it lacks: a deadline for a whole request
(:class:`HttpLimits.read_timeout`, so a client that drips one byte at a time is cut off
too), ``/healthz`` and ``/readyz``, and one access line per request that names the
method, path, status, sizes and time, never a body, a query string or a header value.

The server refuses an app without Bolt's request verification, because on a public
endpoint that would let anyone forge commands and button clicks. Without an app it
serves only the probes: Socket Mode uses that for its health and readiness port.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.middleware.request_verification import RequestVerification
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

from bot.config import DEFAULT_KEEPALIVE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_TIMEOUT

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
PROBE_PATHS = frozenset({HEALTH_PATH, READY_PATH})
# Slack's payloads are a few kilobytes; a cap keeps a stranger from filling memory.
MAX_BODY_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - Slack must reach the bot; put a proxy in front
LOOP_SECONDS = 0.5  # how often the event loop wakes to look for a stop request
SERVER_NAME = "entra-assets-sync"
MAX_LOGGED_PATH = 120

ReadyCheck = Callable[[], tuple[bool, dict[str, object]]]
"""Answers ``/readyz``: ready or not, and the JSON body that says why."""

logger = logging.getLogger(__name__)
access_log = logging.getLogger("bot.access")


@dataclass(frozen=True)
class HttpLimits:
    """What one client may cost the server. The defaults suit Slack behind a proxy.

    ``read_timeout``: a request must arrive whole within this many seconds of its
    first byte. ``keepalive_timeout``: a connection with nothing in flight (a fresh
    one that sent nothing, or one idle between requests) is closed after this many
    seconds. Both are enforced within ``check_interval`` seconds. Past
    ``connection_limit`` open connections new ones wait in the listen backlog.
    """

    read_timeout: float = DEFAULT_READ_TIMEOUT
    keepalive_timeout: int = DEFAULT_KEEPALIVE_TIMEOUT
    check_interval: int = 1
    max_body_bytes: int = MAX_BODY_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES
    connection_limit: int = DEFAULT_MAX_CONNECTIONS
    threads: int = 8


class _DeadlineChannel(HTTPChannel):
    """A waitress connection that remembers when its current request began."""

    request_began: float | None = None

    def received(self, data: bytes) -> bool:
        fresh = self.request is None
        result = super().received(data)
        if self.request is None:
            self.request_began = None
        elif fresh:
            self.request_began = time.time()  # waitress's own clock for last_activity
        return result


class _DeadlineServer(TcpWSGIServer):
    """Waitress closes idle connections; this also closes requests that never finish."""

    channel_class = _DeadlineChannel
    read_timeout = HttpLimits.read_timeout

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # type: ignore[arg-type] # keep-alive: waitress's channel_timeout
        cutoff = now - self.read_timeout
        channels: dict[int, HTTPChannel] = self.active_channels  # type: ignore[assignment]
        for channel in list(channels.values()):
            began = getattr(channel, "request_began", None)
            if began is not None and began < cutoff and not channel.requests:
                channel.will_close = True


class _Routes:
    """``POST /slack/events`` to Bolt's WSGI adapter, the probes, and 404 for the rest."""

    def __init__(self, bolt: SlackRequestHandler | None, readiness: ReadyCheck) -> None:
        self._bolt = bolt
        self._readiness = readiness

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _json(start_response, 200, {"ok": True})
        if path == READY_PATH and method in ("GET", "HEAD"):
            return self._ready(start_response)
        if path == EVENTS_PATH and method == "POST" and self._bolt is not None:
            return self._slack(environ, start_response)
        return _json(start_response, 404, {"ok": False, "error": "not_found"})

    def _ready(self, start_response: StartResponse) -> list[bytes]:
        try:
            ready, body = self._readiness()
        except Exception:
            logger.exception("The readiness check failed")
            ready, body = False, {"ok": False, "error": "the readiness check failed"}
        return _json(start_response, 200 if ready else 503, body)

    def _slack(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        """Bolt verifies the signature over exactly these bytes, so they must be text."""
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return _json(start_response, 400, {"ok": False, "error": "not_utf8"})
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        assert self._bolt is not None
        try:
            return list(self._bolt(environ, start_response))
        except Exception:
            # The payload may hold user input; log the failure, not the request.
            logger.exception("Bolt failed to dispatch a request")
            return _json(start_response, 500, {"error": "internal error"})


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    content = json.dumps(body).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(content)))]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [content]


class _AccessLog:
    """One line per request: who, method, path, status, bytes in and out, milliseconds.

    Never the body, the query string or a header value: a setup form carries the
    Entra client secret, and a slash command what a person typed. Probes log at
    DEBUG so a container's health checks do not drown the rest.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        began = time.monotonic()
        status: list[str] = []

        def recording(name: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(name.split(" ", 1)[0])
            return start_response(name, headers, exc_info)

        chunks = list(self._app(environ, recording))
        path = environ.get("PATH_INFO", "")
        access_log.log(
            logging.DEBUG if path in PROBE_PATHS else logging.INFO,
            '%s "%s %s" %s in=%s out=%d %.1f ms',
            environ.get("REMOTE_ADDR", "-"),
            _shown(environ.get("REQUEST_METHOD", "-"), 10),
            _shown(path, MAX_LOGGED_PATH),
            status[-1] if status else "-",
            environ.get("CONTENT_LENGTH") or 0,
            sum(len(chunk) for chunk in chunks),
            (time.monotonic() - began) * 1000,
        )
        return chunks


def _shown(text: str, limit: int) -> str:
    """A request's own words in a log line: printable, so a path cannot forge a line."""
    shown = "".join(char if char.isprintable() else "?" for char in text[:limit])
    return shown + ("..." if len(text) > limit else "")


def _not_checked() -> tuple[bool, dict[str, object]]:
    return False, {"ok": False, "error": "readiness is not wired in this process"}


class SlackHttpServer:
    """Serves a Bolt ``App`` (or only the probes) over HTTP; binds on construction.

    Use :meth:`start` / :meth:`stop` (or ``with``) to run it on a background thread, or
    :meth:`serve_forever` to run it in the foreground until interrupted.
    """

    def __init__(
        self,
        app: App | None,
        host: str = ALL_INTERFACES,
        port: int = 3000,
        *,
        readiness: ReadyCheck | None = None,
        limits: HttpLimits | None = None,
    ) -> None:
        if app is not None and not _verifies_requests(app):
            raise ValueError(
                "the Bolt app must be built with request_verification_enabled=True "
                "and a signing secret to be served over HTTP"
            )
        self.host = host
        self.limits = limits or HttpLimits()
        bolt = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None
        wsgi = _AccessLog(_Routes(bolt, readiness or _not_checked))
        self._map: dict[int, Any] = {}
        self._server = _DeadlineServer(
            wsgi, map=self._map, adj=_adjustments(host, port, self.limits)
        )
        self._server.read_timeout = self.limits.read_timeout
        self._port = int(self._server.getsockname()[1])
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._closing = threading.Lock()  # no wake-up write to a socket being closed

    @property
    def port(self) -> int:
        """The bound port; differs from the requested one when that was 0."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL for local clients; a wildcard bind is reached through loopback."""
        host = "127.0.0.1" if self.host in ("", ALL_INTERFACES) else self.host
        return f"http://{host}:{self.port}"

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    def start(self) -> SlackHttpServer:
        """Serve on a daemon thread; returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="slack-http", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (from another thread) or Ctrl-C."""
        self._serve()

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=LOOP_SECONDS, use_poll=True, map=self._map, count=1)
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, finish the requests in hand, release the port. Safe to repeat."""
        self._stopping.set()
        if self._thread is not None:
            with self._closing:
                if not self._closed:
                    self._server.pull_trigger()  # wake the loop now, not in LOOP_SECONDS
            self._thread.join(timeout=10)
            self._thread = None
        else:
            self._close()

    def _close(self) -> None:
        with self._closing:
            if self._closed:
                return
            self._closed = True
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(self._map)

    def __enter__(self) -> SlackHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _adjustments(host: str, port: int, limits: HttpLimits) -> Adjustments:
    """Waitress's settings from :class:`HttpLimits`; poll() so 1,000 sockets fit."""
    return Adjustments(
        host=host,
        port=port,
        threads=limits.threads,
        channel_timeout=limits.keepalive_timeout,
        cleanup_interval=limits.check_interval,
        max_request_body_size=limits.max_body_bytes,
        max_request_header_size=limits.max_header_bytes,
        connection_limit=limits.connection_limit,
        asyncore_use_poll=True,
        ident=SERVER_NAME,
        expose_tracebacks=False,
    )


def _verifies_requests(app: App) -> bool:
    """True when Slack's signature check is in the app's middleware chain with a secret."""
    for middleware in app._middleware_list:
        if isinstance(middleware, RequestVerification):
            return bool(getattr(middleware, "_signing_secret", ""))
    return False
