"""Stalled connections against HTTP mode: are signed commands still answered, are they closed?

``python -m tests.stalled`` (``make stalled``) starts :class:`bot.server.SlackHttpServer`
on loopback with a Bolt app that checks signatures, opens N connections that stall in
three ways (nothing sent; half the headers; the headers and half the body), then sends
a correctly signed slash command and times its answer. It then watches the stalled
sockets until the server has closed every one, and prints the figures: N, the
command's latency, when the stalled connections were closed, and the threads the
process held. ``tests/bot/test_stalled.py`` runs the same measurement, smaller, with
short timeouts, and asserts on it.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import threading
import time
from dataclasses import dataclass

import httpx
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.ids import COMMAND
from bot.server import HttpLimits, SlackHttpServer
from tests.bot.harness import SIGNING_SECRET, command_body, signed_headers
from tests.bot.slack_fake import FakeSlack

STALLS = (
    b"",  # connected, then silent
    b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: applica",  # half the headers
    b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 400\r\n\r\ntoken=",  # half a body
)


@dataclass(frozen=True)
class Figures:
    """What one measurement found; times in seconds from the moment all N were open."""

    stalled: int
    status: int
    latency: float
    closed: int
    first_close: float
    last_close: float
    threads_before: int
    threads_stalled: int
    limits: HttpLimits

    def lines(self) -> list[str]:
        return [
            f"stalled connections: {self.stalled} (silent, half headers, half body in turn)",
            f"signed slash command: HTTP {self.status} in {self.latency * 1000:.1f} ms",
            f"stalled connections closed by the server: {self.closed} of {self.stalled}, "
            f"first after {self.first_close:.1f} s, last after {self.last_close:.1f} s "
            f"(read timeout {self.limits.read_timeout:g} s, keep-alive timeout "
            f"{self.limits.keepalive_timeout} s, checked every {self.limits.check_interval} s)",
            f"threads in the process: {self.threads_before} before, "
            f"{self.threads_stalled} with the connections stalled",
        ]


def command_app(fake: FakeSlack) -> App:
    """A Bolt app that verifies signatures and acks ``/entra``, as the real one does first.

    Bolt asks ``auth.test`` before a listener runs; the fake Slack Web API answers it.
    """
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(base_url=fake.base_url, token="xoxb-stalled"),
        token_verification_enabled=False,
        request_verification_enabled=True,
    )

    @app.command(COMMAND)
    def entra(ack: Ack) -> None:
        ack("pong")

    return app


def measure(count: int, limits: HttpLimits, *, wait_limit: float = 120.0) -> Figures:
    """Run the whole measurement once against a fresh server."""
    with (
        FakeSlack() as fake,
        SlackHttpServer(command_app(fake), host="127.0.0.1", port=0, limits=limits) as server,
    ):
        threads_before = threading.active_count()
        sockets = _open_stalled(server.port, count)
        opened = time.monotonic()
        try:
            time.sleep(0.2)  # let the server accept them all before the command goes in
            threads_stalled = threading.active_count()
            status, latency = _signed_command(server.events_url)
            closes = _wait_for_closes(sockets, opened, wait_limit)
        finally:
            for sock in sockets:
                sock.close()
    return Figures(
        stalled=count,
        status=status,
        latency=latency,
        closed=len(closes),
        first_close=min(closes, default=float("nan")),
        last_close=max(closes, default=float("nan")),
        threads_before=threads_before,
        threads_stalled=threads_stalled,
        limits=limits,
    )


def _open_stalled(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        stall = STALLS[index % len(STALLS)]
        if stall:
            sock.sendall(stall)
        sockets.append(sock)
    return sockets


def _signed_command(url: str) -> tuple[int, float]:
    body = command_body("status", response_url="https://hooks.invalid/unused")
    headers = signed_headers(body)
    began = time.monotonic()
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    return response.status_code, time.monotonic() - began


def _wait_for_closes(sockets: list[socket.socket], opened: float, limit: float) -> list[float]:
    """Seconds after ``opened`` at which the server closed each socket (EOF or reset)."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    closes: list[float] = []
    deadline = opened + limit
    while len(closes) < len(sockets) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            peer = key.fileobj
            if not isinstance(peer, socket.socket):
                continue
            try:
                data = peer.recv(4096)
            except OSError:
                data = b""
            if not data:  # anything else is an error page the server sends before closing
                selector.unregister(peer)
                closes.append(time.monotonic() - opened)
    selector.close()
    return closes


def main() -> None:
    defaults = HttpLimits()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--read-timeout", type=float, default=defaults.read_timeout)
    parser.add_argument("--keepalive-timeout", type=int, default=defaults.keepalive_timeout)
    parser.add_argument("--max-connections", type=int, default=defaults.connection_limit)
    args = parser.parse_args()
    limits = HttpLimits(
        read_timeout=args.read_timeout,
        keepalive_timeout=args.keepalive_timeout,
        connection_limit=args.max_connections,
    )
    for line in measure(args.connections, limits).lines():
        print(line)


if __name__ == "__main__":
    main()
