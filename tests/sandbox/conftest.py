"""Fixtures: a fresh sandbox per test and clients speaking to it in-process."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from core.sandbox import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_EMAIL,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_TENANT_ID,
    Sandbox,
)

LOGIN = "https://login.sandbox.invalid"
GRAPH = "https://graph.sandbox.invalid/v1.0"
JIRA = "https://site.sandbox.invalid"
API = "https://api.sandbox.invalid"
SITE_AUTH = (
    "Basic "
    + base64.b64encode(f"{SANDBOX_ATLASSIAN_EMAIL}:{SANDBOX_ATLASSIAN_API_TOKEN}".encode()).decode()
)


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sandbox.transport()) as http:
        yield http


def issue_token(client: httpx.Client) -> str:
    response = client.post(
        f"{LOGIN}/{SANDBOX_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "scope": "https://graph.sandbox.invalid/.default",
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def graph(client: httpx.Client) -> httpx.Client:
    """A client already carrying a Graph bearer token."""
    client.headers["Authorization"] = f"Bearer {issue_token(client)}"
    return client


@pytest.fixture
def site(client: httpx.Client) -> httpx.Client:
    """A client carrying Jira/Assets Basic credentials."""
    client.headers["Authorization"] = SITE_AUTH
    return client
