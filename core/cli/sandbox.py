"""``entra-sync sandbox``: serve the sandbox on loopback over HTTPS until interrupted."""

from __future__ import annotations

import argparse
import shlex
import threading

from core.cli.demo import sandbox_of_size
from core.config import TokenKind
from core.sandbox import SandboxServer
from core.sandbox.server import settings_env


def serve_sandbox(args: argparse.Namespace) -> int:
    sandbox = sandbox_of_size(args.people, args.atlassian, args.seed)
    server = SandboxServer(sandbox, port=args.port, cert_dir=args.cert_dir)
    server.start()
    print(f"Sandbox serving on {server.base_url} (Ctrl-C to stop)")
    print("Point the engine at it with these settings:\n")
    scoped = TokenKind(args.token_kind) is TokenKind.SCOPED
    for name, value in sorted(settings_env(server, scoped=scoped).items()):
        print(f"export {name}={shlex.quote(value)}")
    print(
        "\nThen: printf '%s\\n' \"$ENTRA_CLIENT_SECRET\" | entra-sync configure "
        '--tenant-id "$ENTRA_TENANT_ID" --client-id "$ENTRA_CLIENT_ID" --cadence-days 7'
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
