"""A clock a test moves by hand: the store's, the scheduler's and the bot's ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta


class HandClock:
    """Says ``now`` until the test sets it or moves it on."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
