"""HTTP mode over real sockets: health, signature checks, replay window and routing."""

from __future__ import annotations

import http.client
import logging
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.config import SlackSettings
from bot.ids import COMMAND
from bot.serve import run_serve
from bot.server import HttpLimits, SlackHttpServer
from core.cli import main
from core.runs import SyncService
from tests.bot.harness import (
    JSON,
    SIGNING_SECRET,
    action_body,
    command_body,
    home_opened_body,
    signed_headers,
    signed_request,
    view_submission_body,
)
from tests.bot.slack_fake import FakeSlack

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "PORT",
    "ENTRA_SYNC_SLACK_API_URL",
    "ENTRA_SYNC_ADMIN_USER_IDS",
)


def tiny_app(fake: FakeSlack, *, verify: bool = True) -> App:
    app = App(
        token="xoxb-test",
        signing_secret=SIGNING_SECRET,
        client=WebClient(base_url=fake.base_url, token="xoxb-test"),
        token_verification_enabled=False,
        request_verification_enabled=verify,
    )

    @app.command(COMMAND)
    def entra(ack: Ack, respond: Respond) -> None:
        ack()
        respond("pong")

    return app


@pytest.fixture
def server(fake_slack: FakeSlack) -> Iterator[SlackHttpServer]:
    with SlackHttpServer(tiny_app(fake_slack), host="127.0.0.1", port=0) as running:
        yield running


def post_events(server: SlackHttpServer, body: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.events_url, content=body, headers=headers)


def test_healthz(server: SlackHttpServer) -> None:
    response = httpx.get(server.url + "/healthz")

    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_a_signed_command_is_acked_and_runs(server: SlackHttpServer, fake_slack: FakeSlack) -> None:
    body = command_body("status", response_url=fake_slack.response_url)

    response = post_events(server, body, signed_headers(body))

    assert response.status_code == 200
    assert fake_slack.wait_for("response_url")[0].params["text"] == "pong"


def test_a_forged_signature_is_refused(server: SlackHttpServer, fake_slack: FakeSlack) -> None:
    body = command_body("sync", response_url=fake_slack.response_url)

    response = post_events(server, body, signed_headers(body, secret="guessed-secret"))

    assert response.status_code == 401
    assert fake_slack.calls("response_url") == []


def test_a_tampered_body_is_refused(server: SlackHttpServer, fake_slack: FakeSlack) -> None:
    headers = signed_headers(command_body("status", response_url=fake_slack.response_url))

    response = post_events(server, command_body("sync", response_url="x"), headers)

    assert response.status_code == 401


def test_a_replayed_request_older_than_five_minutes_is_refused(
    server: SlackHttpServer, fake_slack: FakeSlack
) -> None:
    body = command_body("sync", response_url=fake_slack.response_url)
    six_minutes_ago = int(time.time()) - 6 * 60

    response = post_events(server, body, signed_headers(body, timestamp=six_minutes_ago))

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/"), ("POST", "/slack/other"), ("GET", "/slack/events")]
)
def test_unknown_paths_are_404(server: SlackHttpServer, method: str, path: str) -> None:
    assert httpx.request(method, server.url + path).status_code == 404


def test_an_oversized_body_is_refused_unread(server: SlackHttpServer) -> None:
    # Only the header claims a huge body, so the refusal is read before any reset.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("POST", "/slack/events", body=b"", headers={"Content-Length": "2000000"})
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_port_zero_binds_a_free_port(fake_slack: FakeSlack) -> None:
    server = SlackHttpServer(tiny_app(fake_slack), host="127.0.0.1", port=0)
    try:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_an_app_without_request_verification_is_refused(fake_slack: FakeSlack) -> None:
    app = tiny_app(fake_slack, verify=False)

    with pytest.raises(ValueError, match="request_verification_enabled"):
        SlackHttpServer(app, host="127.0.0.1", port=0)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Slack variables from the machine; the database in a temporary directory."""
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENTRA_SYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'sync.db'}")
    return tmp_path / "absent.env"


def test_serve_reports_every_configuration_problem_at_once(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENTRA_SYNC_CLOUD", "mars")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    clean_env.write_text("")  # --env-file must name a file; an empty one sets nothing

    assert main(["--env-file", str(clean_env), "serve"]) == 2

    error = capsys.readouterr().err
    for name in ("ENTRA_SYNC_CLOUD", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        assert name in error
    assert "xoxp-a-user-token" not in error


@pytest.fixture
def http_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> Path:
    """A complete HTTP-mode configuration, its Web API the fake."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("ENTRA_SYNC_SLACK_API_URL", fake_slack.base_url)
    clean_env.write_text("")
    return clean_env


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_bot_token_slack_refuses_stops_serve_with_one_line(
    http_env: Path, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str], error: str
) -> None:
    fake_slack.reject_token("xoxb-test", error)

    assert main(["--env-file", str(http_env), "serve"]) == 2

    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == f"error: SLACK_BOT_TOKEN rejected by Slack: {error}"
    assert "xoxb-test" not in "\n".join(lines)


def test_an_unreachable_slack_stops_serve_with_one_line(
    http_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nobody listens on
    port = closed.getsockname()[1]
    monkeypatch.setenv("ENTRA_SYNC_SLACK_API_URL", f"http://127.0.0.1:{port}/api/")
    try:
        code = main(["--env-file", str(http_env), "serve"])
    finally:
        closed.close()

    assert code == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(f"error: slack: unreachable at http://127.0.0.1:{port}/api/ (")
    assert "ENTRA_SYNC_SLACK_API_URL" in line


def test_serve_runs_the_built_app_over_http(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack
) -> None:
    monkeypatch.setenv("ENTRA_SYNC_SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("PORT", "0")
    served: list[int] = []

    def serve_once(self: SlackHttpServer) -> None:
        served.append(self.port)
        self.stop()

    monkeypatch.setattr(SlackHttpServer, "serve_forever", serve_once)
    built: list[SlackSettings] = []

    def build(service: SyncService, slack: SlackSettings) -> App:
        built.append(slack)
        return tiny_app(fake_slack)

    assert run_serve(clean_env, build=build) == 0
    assert built[0].port == 0
    assert served[0] > 0


def test_harness_bodies_reach_the_matching_bolt_listeners(fake_slack: FakeSlack) -> None:
    app = tiny_app(fake_slack)
    seen: dict[str, object] = {}

    @app.action("approve")
    def approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen["action"] = (body["actions"][0]["value"], body["container"]["message_ts"])

    @app.view("setup")
    def setup(ack: Ack, view: dict[str, Any]) -> None:
        ack()
        seen["view"] = (view["state"]["values"], view["private_metadata"])

    @app.event("app_home_opened")
    def home(event: dict[str, Any]) -> None:
        seen["home"] = event["user"]

    values = {"tenant_id": {"tenant_id_input": {"type": "plain_text_input", "value": "t"}}}
    requests = [
        signed_request(action_body("approve", "p1", message_ts="1.5", response_url="u")),
        signed_request(view_submission_body("setup", values, private_metadata="m")),
        signed_request(home_opened_body("U_ALICE"), content_type=JSON),
    ]

    assert [app.dispatch(request).status for request in requests] == [200, 200, 200]
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == {"action": ("p1", "1.5"), "view": (values, "m"), "home": "U_ALICE"}


def raw_exchange(port: int, request: bytes, *, timeout: float = 5) -> bytes:
    """Send raw bytes, read until the server closes or goes quiet; what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def chunked(body: str, size: int = 100) -> bytes:
    data = body.encode()
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def chunked_request(body: str, headers: dict[str, str], *, close: bool = False) -> bytes:
    lines = ["POST /slack/events HTTP/1.1", "Host: bot", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + chunked(body)


def test_a_signed_chunked_command_is_one_request(
    server: SlackHttpServer, fake_slack: FakeSlack
) -> None:
    body = command_body("status", response_url=fake_slack.response_url)
    health = b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n"

    answer = raw_exchange(server.port, chunked_request(body, signed_headers(body)) + health)

    # Two answers on the connection: the command's 200, then the pipelined probe's.
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert b"400" not in answer.split(b"\r\n")[0]
    assert fake_slack.wait_for("response_url")[0].params["text"] == "pong"


def test_a_chunked_body_over_the_cap_is_refused(fake_slack: FakeSlack) -> None:
    limits = HttpLimits(max_body_bytes=2048)
    body = "x" * 5000
    with SlackHttpServer(tiny_app(fake_slack), host="127.0.0.1", port=0, limits=limits) as small:
        answer = raw_exchange(small.port, chunked_request(body, signed_headers(body), close=True))

    assert answer.startswith(b"HTTP/1.1 413")


def test_a_request_dripped_byte_by_byte_is_cut_off_at_the_read_timeout(
    fake_slack: FakeSlack,
) -> None:
    limits = HttpLimits(read_timeout=1.0, keepalive_timeout=30, check_interval=1)
    with (
        SlackHttpServer(tiny_app(fake_slack), host="127.0.0.1", port=0, limits=limits) as slow,
        socket.create_connection(("127.0.0.1", slow.port), timeout=5) as sock,
    ):
        began = time.monotonic()
        closed_after = None
        for byte in b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n":
            try:
                sock.sendall(bytes([byte]))
                time.sleep(0.2)  # never idle for the keep-alive timeout
            except OSError:
                closed_after = time.monotonic() - began
                break
            if _peer_closed(sock):
                closed_after = time.monotonic() - began
                break

    assert closed_after is not None, "the server kept a request that never finished"
    assert closed_after < 1.0 + 1 + 1.5


def _peer_closed(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""


def test_an_idle_keep_alive_connection_is_closed(fake_slack: FakeSlack) -> None:
    limits = HttpLimits(keepalive_timeout=1, check_interval=1)
    with (
        SlackHttpServer(tiny_app(fake_slack), host="127.0.0.1", port=0, limits=limits) as idle,
        socket.create_connection(("127.0.0.1", idle.port), timeout=5) as sock,
    ):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        received = b""
        while not received.endswith(b'{"ok": true}'):  # headers and body may come apart
            chunk = sock.recv(4096)
            assert chunk, "closed before the answer was whole"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        began = time.monotonic()
        assert sock.recv(4096) == b""  # blocks until the server closes the idle connection
        assert time.monotonic() - began < 1 + 1 + 1.5


def test_access_lines_name_the_request_and_never_its_body(
    server: SlackHttpServer, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    body = command_body("sync token=hunter2", response_url=fake_slack.response_url)
    caplog.set_level(logging.DEBUG, logger="bot.access")

    post_events(server, body, signed_headers(body))
    httpx.get(server.url + "/healthz?probe=secret-query")

    lines = [record.getMessage() for record in caplog.records if record.name == "bot.access"]
    assert any('"POST /slack/events" 200' in line and f"in={len(body)}" in line for line in lines)
    assert any('"GET /healthz" 200' in line for line in lines)
    assert not any("hunter2" in line or "secret-query" in line for line in lines)
    probe = next(r for r in caplog.records if r.name == "bot.access" and "/healthz" in r.message)
    assert probe.levelno == logging.DEBUG


def test_a_body_that_is_not_utf8_is_refused(server: SlackHttpServer) -> None:
    response = httpx.post(server.events_url, content=b"\xff\xfe", headers=signed_headers("x"))

    assert response.status_code == 400


def test_readyz_without_readiness_wired_is_not_ready(server: SlackHttpServer) -> None:
    assert httpx.get(server.url + "/readyz").status_code == 503


def test_readyz_answers_what_the_readiness_check_says(fake_slack: FakeSlack) -> None:
    answers: Iterator[tuple[bool, dict[str, object]]] = iter(
        [(True, {"ok": True, "version": "1.2.3"}), (False, {"ok": False})]
    )
    with SlackHttpServer(None, host="127.0.0.1", port=0, readiness=lambda: next(answers)) as probes:
        first = httpx.get(probes.url + "/readyz")
        second = httpx.get(probes.url + "/readyz")
        events = httpx.post(probes.events_url, content="x")

    assert (first.status_code, first.json()) == (200, {"ok": True, "version": "1.2.3"})
    assert second.status_code == 503
    assert events.status_code == 404  # probes only: no Slack route without an app


def test_oversized_headers_are_refused(fake_slack: FakeSlack) -> None:
    # A small cap, so the whole request is read before the refusal (no reset).
    limits = HttpLimits(max_header_bytes=2048)
    filler = "x" * 4000
    request = f"GET /healthz HTTP/1.1\r\nHost: bot\r\nX-Filler: {filler}\r\n\r\n".encode()
    with SlackHttpServer(tiny_app(fake_slack), host="127.0.0.1", port=0, limits=limits) as small:
        answer = raw_exchange(small.port, request)

    assert answer.split(b" ", 2)[1] == b"431"


def test_an_access_line_cannot_be_forged_through_the_path(
    server: SlackHttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.access")
    forged = "/x%0aINFO%20bot.access:%20forged" + "a" * 300

    raw_exchange(
        server.port, f"GET {forged} HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n".encode()
    )

    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.access"]
    assert "\n" not in line
    assert '"GET /x?INFO bot.access: forged' in line
    assert "a" * 200 not in line and '..." 404' in line


def test_a_readiness_check_that_raises_is_not_ready(fake_slack: FakeSlack) -> None:
    def broken() -> tuple[bool, dict[str, object]]:
        raise RuntimeError("boom")

    with SlackHttpServer(None, host="127.0.0.1", port=0, readiness=broken) as probes:
        response = httpx.get(probes.url + "/readyz")

    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": "the readiness check failed"}
