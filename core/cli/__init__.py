"""``entra-sync``: the terminal shell over :mod:`core.runs`, plus the demo and the sandbox server.

Like the Slack listeners in ``bot/``, it parses, calls the service and renders; it holds
no sync rule. Only ``serve`` imports Slack, and only when it runs.
"""

from core.cli.main import main

__all__ = [
    "main",
]
