"""The sandbox over real HTTPS on loopback, trusted through its own CA."""

from __future__ import annotations

import io
import json
import socket
import ssl
import stat
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from core.sandbox import SANDBOX_ORG_API_KEY, Fault, Sandbox, SandboxServer, settings_env
from core.sandbox.server import _Handler
from tests.sandbox.conftest import SITE_AUTH


def test_https_request_trusting_the_ca(tmp_path: Path) -> None:
    sandbox = Sandbox()
    with SandboxServer(sandbox, cert_dir=tmp_path) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(server.ca_cert_path))
        with httpx.Client(base_url=server.base_url, verify=context) as client:
            workspace = client.get(
                "/rest/servicedeskapi/assets/workspace", headers={"Authorization": SITE_AUTH}
            )
            assert workspace.json()["values"][0]["workspaceId"] == sandbox.org.workspace_id
            org = client.get(
                f"/admin/v1/orgs/{settings_env(server)['ENTRA_SYNC_ATLASSIAN_ORG_ID']}/users",
                headers={"Authorization": f"Bearer {SANDBOX_ORG_API_KEY}"},
            )
            assert org.status_code == 200
            assert org.json()["links"]["self"].startswith(server.base_url)
        with (
            httpx.Client(base_url=server.base_url) as untrusting,
            pytest.raises(httpx.ConnectError),
        ):
            untrusting.get("/rest/api/3/users")
    keys = list(tmp_path.glob("*key*"))
    assert keys
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
    assert sandbox.requests["jira"] == 1  # the untrusting client never got through


def test_settings_env_points_at_the_server(tmp_path: Path) -> None:
    with SandboxServer(Sandbox(), cert_dir=tmp_path) as server:
        env = settings_env(server)
        assert env["ENTRA_SYNC_GRAPH_URL"] == server.base_url
        assert env["SSL_CERT_FILE"] == str(server.ca_cert_path)
        assert {"ENTRA_TENANT_ID", "ENTRA_CLIENT_ID", "ENTRA_CLIENT_SECRET"} <= env.keys()


def test_a_reset_fault_ends_the_connection_without_an_answer(tmp_path: Path) -> None:
    """Over TLS the client sees a transport error (which one depends on timing)."""
    sandbox = Sandbox()
    sandbox.add_fault(Fault(service="jira", reset=True))
    with SandboxServer(sandbox, cert_dir=tmp_path) as server:
        context = ssl.create_default_context(cafile=str(server.ca_cert_path))
        headers = {"Authorization": SITE_AUTH}
        with httpx.Client(base_url=server.base_url, verify=context, headers=headers) as client:
            with pytest.raises(httpx.TransportError):
                client.get("/rest/api/3/users/search")
            assert client.get("/rest/api/3/users/search").status_code == 200


class RecordingSocket:
    """A connection that serves ``incoming`` and records each write and socket option."""

    def __init__(self, incoming: bytes) -> None:
        self._incoming = io.BytesIO(incoming)
        self.writes: list[bytes] = []
        self.options: list[tuple[int, int, int]] = []

    def makefile(self, mode: str, buffering: int = -1) -> io.BytesIO:
        return self._incoming

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options.append((level, option, int(value)))


def test_each_answer_is_one_write_on_a_connection_with_nagle_off() -> None:
    """Head and body written apart, or any write with Nagle's algorithm on, wait about
    40 ms for the client's delayed acknowledgement: every answer would cost that."""
    sandbox = Sandbox()
    request = (
        "GET /rest/servicedeskapi/assets/workspace HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {SITE_AUTH}\r\n\r\n"
    ).encode()
    connection = RecordingSocket(request * 2)  # two requests on one kept-alive connection
    server = SimpleNamespace(
        sandbox=sandbox,
        base_url="https://127.0.0.1:1",
        stopping=threading.Event(),
        hold_on_timeout=0.0,
    )

    _Handler(cast(Any, connection), ("127.0.0.1", 50_000), cast(Any, server))

    assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in connection.options
    assert len(connection.writes) == 2
    for answer in connection.writes:
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0] == "HTTP/1.1 200 OK"
        assert f"Content-Length: {len(body)}" in lines
        assert json.loads(body)["values"][0]["workspaceId"] == sandbox.org.workspace_id
    assert sandbox.requests["jira"] == 2
