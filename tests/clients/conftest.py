"""Shared pieces for client tests: respx at the HTTP boundary, a policy that never sleeps."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from core.clients import ApiClient, RequestCounter, RetryPolicy

GRAPH = "https://graph.microsoft.com"
V1 = f"{GRAPH}/v1.0"
JIRA = "https://example.atlassian.net"
ADMIN = "https://api.atlassian.com"
FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def waits() -> list[float]:
    """Every wait the retry policy asked for, instead of sleeping."""
    return []


@pytest.fixture
def policy(waits: list[float]) -> RetryPolicy:
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        assert len(waits) < 50, "retrying without end"

    return RetryPolicy(attempts=4, max_retry_after=30.0, sleep=sleep, rng=random.Random(7))


@pytest.fixture
def counter() -> RequestCounter:
    return RequestCounter()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def graph_api(http: httpx.Client, counter: RequestCounter, policy: RetryPolicy) -> ApiClient:
    return ApiClient(
        "graph", V1, http, counter=counter, retry=policy, headers=lambda: {"Authorization": "x"}
    )


@pytest.fixture
def jira_api(http: httpx.Client, counter: RequestCounter, policy: RetryPolicy) -> ApiClient:
    return ApiClient("jira", JIRA, http, counter=counter, retry=policy)


@pytest.fixture
def admin_api(http: httpx.Client, counter: RequestCounter, policy: RetryPolicy) -> ApiClient:
    return ApiClient("admin", ADMIN, http, counter=counter, retry=policy)


def graph_user(number: int, **overrides: Any) -> dict[str, Any]:
    """A Graph user object as ``USER_SELECT`` + ``MANAGER_EXPAND`` returns it."""
    user: dict[str, Any] = {
        "id": f"u-{number:04d}",
        "displayName": f"User {number}",
        "mail": f"user{number}@contoso.com",
        "userPrincipalName": f"user{number}@contoso.onmicrosoft.com",
        "proxyAddresses": [f"SMTP:user{number}@contoso.com", f"smtp:u{number}@contoso.com"],
        "department": "Sales",
        "jobTitle": "Seller",
        "accountEnabled": True,
        "userType": "Member",
    }
    user.update(overrides)
    return user


def manager_of(number: int, **overrides: Any) -> dict[str, Any]:
    """The expanded ``manager`` of a user, as a directoryObject."""
    manager: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.user",
        "id": f"u-{number:04d}",
        "displayName": f"User {number}",
        "mail": f"user{number}@contoso.com",
        "userPrincipalName": f"user{number}@contoso.onmicrosoft.com",
    }
    manager.update(overrides)
    return manager
