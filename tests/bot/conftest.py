"""Fixtures for the Slack bot tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bot.slack_fake import FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on a free loopback port, stopped after the test."""
    with FakeSlack() as fake:
        yield fake


from tests.bot.scenario import bot  # noqa: E402, F401 - the scenario fixture, shared by tests
