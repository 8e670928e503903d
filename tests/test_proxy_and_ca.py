"""The HTTP client trusts a private certificate authority and goes through a proxy when
the environment says so (``SSL_CERT_FILE``, ``HTTPS_PROXY``, ``NO_PROXY``).

docs/operations.md promises exactly this; these tests hold the promise to the client
:func:`core.clients.build_http_client` really builds, against the sandbox served over
HTTPS with its own CA, and through a CONNECT proxy that records what it tunnelled.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.clients import build_http_client
from core.sandbox import Sandbox, SandboxServer

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
CERT_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
PATH = "/v1.0/organization"  # any path: the answer's status does not matter here


class ConnectProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy that only tunnels (``CONNECT host:port``), as HTTPS needs."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.tunnelled: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Tunnel(socketserver.StreamRequestHandler):
    server: ConnectProxy

    def handle(self) -> None:
        request = self.rfile.readline().decode("latin-1").split()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the proxy request's headers
        if len(request) < 2 or request[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.tunnelled.append(request[1])
        host, port = request[1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            _pipe(self.connection, upstream)


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    ends = {client: upstream, upstream: client}
    while True:
        readable, _, _ = select.select(list(ends), [], [], 10)
        if not readable:
            return
        for end in readable:
            data = end.recv(65536)
            if not data:
                return
            ends[end].sendall(data)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(Sandbox(seed=1, people=40, atlassian=20), cert_dir=tmp_path) as served:
        yield served


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    served = ConnectProxy()
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's own proxy and certificate settings must not decide the outcome."""
    for name in PROXY_VARIABLES + CERT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def get(url: str) -> httpx.Response:
    with build_http_client(timeout=10) as client:
        return client.get(url)


def test_a_private_ca_is_trusted_through_ssl_cert_file(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        get(server.base_url + PATH)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_cert_path))
    assert get(server.base_url + PATH).status_code > 0


def test_ssl_cert_file_replaces_the_public_roots(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the file's certificates are trusted: it must hold the public roots too."""
    assert len(httpx.create_ssl_context().get_ca_certs()) > 10  # certifi's bundle
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_cert_path))
    assert len(httpx.create_ssl_context().get_ca_certs()) == 1


def test_https_proxy_carries_every_request(
    server: SandboxServer, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_cert_path))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    assert get(server.base_url + PATH).status_code > 0
    assert proxy.tunnelled == [f"127.0.0.1:{server.port}"]


def test_no_proxy_goes_direct(
    server: SandboxServer, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_cert_path))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert get(server.base_url + PATH).status_code > 0
    assert proxy.tunnelled == []


def test_the_proxy_is_read_when_the_client_is_built(
    server: SandboxServer, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed HTTPS_PROXY takes effect at the next start of the process, not before."""
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_cert_path))
    with build_http_client(timeout=10) as client:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert client.get(server.base_url + PATH).status_code > 0
    assert proxy.tunnelled == []
