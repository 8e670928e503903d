"""HTTP mode: Slack's requests arrive at ``POST /slack/events`` and go to a Bolt app.

A stdlib ``ThreadingHTTPServer`` is enough: Bolt does the work (signature check,
routing, ack) and returns a :class:`~slack_bolt.response.BoltResponse`; this module
only copies bytes in and out. ``GET /healthz`` answers load balancers and container
probes without touching Slack. Anything else is a 404.

The server refuses an app without Bolt's request verification, because on a public
endpoint that would let anyone forge commands and button clicks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are a few kilobytes; a cap keeps a stranger from filling memory.
MAX_BODY_BYTES = 1024 * 1024
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - Slack must reach the bot; put a proxy in front

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _BoltHTTPServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path == HEALTH_PATH:
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"ok": False, "error": "not_found"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != EVENTS_PATH:
            self._send_json(404, {"ok": False, "error": "not_found"})
            return
        body = self._read_body()
        if body is not None:
            self._send_bolt(self._dispatch(body))

    def _read_body(self) -> str | None:
        """The raw body as text (Bolt verifies the signature over exactly these bytes)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413 if length > 0 else 400, {"ok": False, "error": "bad_length"})
            return None
        try:
            return self.rfile.read(length).decode("utf-8")
        except UnicodeDecodeError:
            self._send_json(400, {"ok": False, "error": "not_utf8"})
            return None

    def _dispatch(self, body: str) -> BoltResponse:
        headers: dict[str, str | Sequence[str]] = {}
        for name in set(self.headers.keys()):
            headers[name.lower()] = self.headers.get_all(name) or []
        request = BoltRequest(body=body, query=urlsplit(self.path).query, headers=headers)
        try:
            return self.server.app.dispatch(request)
        except Exception:
            # The payload may hold user input; log the failure, not the request.
            logger.exception("Bolt failed to dispatch a request")
            return BoltResponse(status=500, body={"error": "internal error"})

    def _send_bolt(self, response: BoltResponse) -> None:
        content = response.body.encode("utf-8")
        self.send_response(response.status)
        for name, values in response.headers.items():
            if name.lower() != "content-length":
                for value in values:
                    self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _send_json(self, status: int, body: dict[str, object]) -> None:
        self._send_bolt(BoltResponse(status=status, body=body))

    def log_message(self, format: str, *args: object) -> None:
        """Access lines at DEBUG through logging, not on stderr; they carry no bodies."""
        logger.debug("%s %s", self.address_string(), format % args)


class _BoltHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, _Handler)
        self.app = app


class SlackHttpServer:
    """Serves a Bolt ``App`` over HTTP; binds on construction so :attr:`port` is real.

    Use :meth:`start` / :meth:`stop` (or ``with``) to run it on a background thread, or
    :meth:`serve_forever` to run it in the foreground until interrupted.
    """

    def __init__(self, app: App, host: str = ALL_INTERFACES, port: int = 3000) -> None:
        if not _verifies_requests(app):
            raise ValueError(
                "the Bolt app must be built with request_verification_enabled=True "
                "and a signing secret to be served over HTTP"
            )
        self.host = host
        self._server = _BoltHTTPServer((host, port), app)
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def port(self) -> int:
        """The bound port; differs from the requested one when that was 0."""
        return int(self._server.server_address[1])

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
            self._serving = True
            self._thread = threading.Thread(target=self._serve, name="slack-http", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (from another thread) or Ctrl-C."""
        self._serving = True
        try:
            self._serve()
        finally:
            self._server.server_close()

    def _serve(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._serving = False

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call more than once."""
        if self._serving:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SlackHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _verifies_requests(app: App) -> bool:
    """True when Bolt's signature check is in the app's middleware chain with a secret."""
    for middleware in app._middleware_list:
        if isinstance(middleware, RequestVerification):
            return bool(getattr(middleware, "_signing_secret", ""))
    return False
