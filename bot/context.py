"""Everything a listener needs, built once in :func:`bot.app.build_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient

from bot.permissions import Permissions
from bot.worker import Worker
from core.runs import Approvals, SyncService


@dataclass(frozen=True)
class BotContext:
    service: SyncService
    approvals: Approvals
    client: WebClient
    permissions: Permissions
    worker: Worker
    clock: Callable[[], datetime]
