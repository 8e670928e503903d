"""Who may do what: admins run setup and schema; approvers apply previews.

Admins are the users named in ``ENTRA_SYNC_ADMIN_USER_IDS`` plus Slack workspace
admins and owners (``users.info``, cached briefly: one lookup per click is plenty).
Approvers are the Slack users chosen in the setup form.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.runs import SyncService

CACHE_SECONDS = 300.0


class Permissions:
    def __init__(
        self,
        client: WebClient,
        service: SyncService,
        admin_user_ids: tuple[str, ...],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._service = service
        self._admins = frozenset(admin_user_ids)
        self._clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def is_admin(self, user_id: str) -> bool:
        if user_id in self._admins:
            return True
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        verdict = self._workspace_admin(user_id)
        with self._lock:
            self._cache[user_id] = (now, verdict)
        return verdict

    def is_approver(self, user_id: str) -> bool:
        return self._service.is_approver(user_id)

    def _workspace_admin(self, user_id: str) -> bool:
        try:
            user = self._client.users_info(user=user_id).get("user") or {}
        except SlackApiError:
            return False  # fail closed: no answer, no admin rights
        return bool(user.get("is_admin") or user.get("is_owner"))
