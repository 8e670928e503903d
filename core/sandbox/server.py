"""The sandbox over real HTTPS on loopback, for the demo and end-to-end runs.

Every request is turned into an ``httpx.Request`` on :attr:`SandboxServer.base_url` and
answered by :meth:`Sandbox.handle`, so the server and in-process tests share one
implementation. A timeout fault holds the connection open without answering, as a hung
upstream would, until ``hold_on_timeout`` passes or the server stops.
"""

from __future__ import annotations

import shutil
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from core.sandbox.app import Sandbox
from core.sandbox.certs import write_certificates
from core.sandbox.credentials import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_EMAIL,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ORG_API_KEY,
    SANDBOX_ORG_ID,
    SANDBOX_TENANT_ID,
)

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Small writes go out at once. With Nagle's algorithm on, a write that follows one
    # not yet acknowledged waits for the client's delayed acknowledgement, about 40 ms;
    # TLS cuts a large body into records written one by one, so even a single write of
    # the whole answer would wait.
    disable_nagle_algorithm = True
    server: _TLSServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        request = httpx.Request(
            self.command, self.server.base_url + self.path, headers=headers, content=body
        )
        try:
            response = self.server.sandbox.handle(request)
        except httpx.TimeoutException:
            self.server.stopping.wait(self.server.hold_on_timeout)
            self.close_connection = True
            return
        except httpx.ReadError:  # a reset fault: the connection ends with no answer
            self.close_connection = True
            return
        self.wfile.write(self._answer(response))

    def _answer(self, response: httpx.Response) -> bytes:
        """The whole answer, status line to body, to be sent in one write."""
        content = response.read()
        self.log_request(response.status_code)
        head = [
            f"{self.protocol_version} {response.status_code} {response.reason_phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            *(
                f"{name}: {value}"
                for name, value in response.headers.multi_items()
                if name.lower() not in _HOP_BY_HOP
            ),
            f"Content-Length: {len(content)}",
        ]
        return "\r\n".join([*head, "", ""]).encode("latin-1") + content

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the sandbox keeps its own request log."""


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox
        self.base_url = ""
        self.stopping = threading.Event()
        self.hold_on_timeout = 60.0

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet about clients that drop or refuse the TLS handshake."""
        error = sys.exc_info()[1]
        if not isinstance(error, ssl.SSLError | ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class SandboxServer:
    """``https://127.0.0.1:PORT`` serving every sandbox API; trust :attr:`ca_cert_path`.

    Without ``cert_dir`` the certificates go to a temporary directory removed on
    :meth:`stop`.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        cert_dir: Path | None = None,
        hold_on_timeout: float = 60.0,
    ) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.hold_on_timeout = hold_on_timeout
        self._temp_dir = None if cert_dir else Path(tempfile.mkdtemp(prefix="sandbox-certs-"))
        self._cert_dir = cert_dir or self._temp_dir
        assert self._cert_dir is not None
        self.ca_cert_path = self._cert_dir / "sandbox-ca.pem"
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not started")
        return self._server.base_url

    def start(self) -> SandboxServer:
        """Write certificates, bind, and serve on a daemon thread; returns ``self``."""
        assert self._cert_dir is not None
        files = write_certificates(self._cert_dir, self.host)
        self.ca_cert_path = files.ca_cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(files.server_cert, files.server_key)
        server = _TLSServer((self.host, self.port), self.sandbox)
        # Handshakes happen on the handler threads, so one slow client cannot stall accept.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        port = server.server_address[1]
        server.base_url = f"https://{self.host}:{port}"
        server.hold_on_timeout = self.hold_on_timeout
        self.port = port
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="sandbox-https", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stopping.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def settings_env(server: SandboxServer) -> dict[str, str]:
    """Environment variables that point the engine (and ``configure``) at ``server``."""
    base = server.base_url
    return {
        "ENTRA_SYNC_LOGIN_URL": base,
        "ENTRA_SYNC_GRAPH_URL": base,
        "ENTRA_SYNC_ATLASSIAN_SITE": base,
        "ENTRA_SYNC_ATLASSIAN_API_URL": base,
        "ENTRA_SYNC_ATLASSIAN_EMAIL": SANDBOX_ATLASSIAN_EMAIL,
        "ENTRA_SYNC_ATLASSIAN_API_TOKEN": SANDBOX_ATLASSIAN_API_TOKEN,
        "ENTRA_SYNC_ATLASSIAN_ORG_ID": SANDBOX_ORG_ID,
        "ENTRA_SYNC_ATLASSIAN_ORG_API_KEY": SANDBOX_ORG_API_KEY,
        "SSL_CERT_FILE": str(server.ca_cert_path),
        "ENTRA_TENANT_ID": SANDBOX_TENANT_ID,
        "ENTRA_CLIENT_ID": SANDBOX_CLIENT_ID,
        "ENTRA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
