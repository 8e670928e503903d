"""Injected faults, latency, request counting and unknown paths."""

from __future__ import annotations

import httpx
import pytest

from core.sandbox import Fault, Sandbox
from tests.sandbox.conftest import GRAPH, JIRA


def test_503_with_retry_after_then_recovers(site: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="jira", status=503, retry_after=1.5, times=2))
    url = f"{JIRA}/rest/api/3/users/search"
    first, second, third = (site.get(url) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "1.5"
    assert first.json()["errorMessages"]
    assert sandbox.requests["jira"] == 3


def test_graph_fault_has_graph_error_body(graph: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="graph", path_contains="$skiptoken", status=429, retry_after=3))
    first = graph.get(f"{GRAPH}/users?$top=10")
    assert first.status_code == 200
    throttled = graph.get(first.json()["@odata.nextLink"])
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["code"] == "TooManyRequests"


def test_timeout_fault_raises_read_timeout(graph: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="graph", method="GET", timeout=True))
    with pytest.raises(httpx.ReadTimeout):
        graph.get(f"{GRAPH}/users")
    assert graph.get(f"{GRAPH}/users").status_code == 200


def test_counts_log_and_reset(graph: httpx.Client, sandbox: Sandbox) -> None:
    graph.get(f"{GRAPH}/users?$top=1")
    assert sandbox.requests == {"login": 1, "graph": 1}
    assert sandbox.request_log[-1] == ("graph", "GET", "/v1.0/users")
    sandbox.reset_counts()
    assert not sandbox.requests
    assert sandbox.request_log == []


def test_unknown_path_names_it(client: httpx.Client) -> None:
    response = client.get("https://anything.invalid/no/such/thing")
    assert response.status_code == 404
    assert "/no/such/thing" in response.text


def test_latency_is_settable(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.latency = 0.01
    response = client.get("https://anything.invalid/x")
    assert response.status_code == 404
