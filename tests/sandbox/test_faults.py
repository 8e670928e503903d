"""Injected faults, latency, request counting and unknown paths."""

from __future__ import annotations

import httpx
import pytest

from core.sandbox import Fault, Sandbox
from tests.sandbox.conftest import GRAPH, JIRA
from tests.sandbox.test_assets import Workspace


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


@pytest.mark.parametrize("timeout", [False, True])
def test_after_processing_keeps_the_write_and_loses_the_answer(
    site: httpx.Client, sandbox: Sandbox, timeout: bool
) -> None:
    """The create happens; the caller sees a 503 or a timeout, never the new object."""
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    sandbox.add_fault(
        Fault(
            service="assets",
            method="POST",
            path_contains="object/create",
            after_processing=True,
            timeout=timeout,
        )
    )
    values = {ids["Name"]: ["Ada"], ids["Entra User ID"]: ["u-1"]}
    if timeout:
        with pytest.raises(httpx.ReadTimeout):
            ws.create(type_id, values)
    else:
        lost = ws.create(type_id, values)
        assert lost.status_code == 503
        assert lost.json()["errorMessages"]
    assert [e["attributes"]["Entra User ID"] for e in sandbox.employees()] == ["u-1"]
    again = ws.create(type_id, values)  # the fault is used up: a copy is refused as unique
    assert again.status_code == 400
    assert len(sandbox.employees()) == 1


def test_a_fault_before_processing_changes_nothing(site: httpx.Client, sandbox: Sandbox) -> None:
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    sandbox.add_fault(Fault(service="assets", path_contains="object/create", status=503))
    assert ws.create(type_id, {ids["Name"]: ["Ada"]}).status_code == 503
    assert sandbox.employees() == []
