"""Assets as its documentation describes it, end to end on the sandbox.

``objectschema/list`` answers in pages: a site with more schemas than one page holds
must still find schema ENTRA, on every page it may land on.
"""

from __future__ import annotations

from core.sandbox import Sandbox

from .conftest import Runner
from .test_cli_flow import writes


def crowd(sandbox: Sandbox, count: int) -> None:
    """Other teams' schemas, made before ours, so ENTRA lands on a later page."""
    for number in range(count):
        sandbox.create_foreign_schema(name=f"Team {number}", key=f"TEAM{number}")


def test_schema_on_a_later_page_is_found_not_created_again(
    configured: Runner, sandbox: Sandbox
) -> None:
    sandbox.limit_schema_pages(2)
    crowd(sandbox, 3)
    first = configured("schema")
    assert first.code == 0, first.err
    assert "schema Entra Directory (ENTRA)" in first.out
    sandbox.request_log.clear()

    second = configured("schema")

    assert second.code == 0, second.err
    assert "nothing to add" in second.out
    assert writes(sandbox) == []
    pages = [p for _, m, p in sandbox.request_log if p.endswith("/objectschema/list")]
    assert len(pages) == 2  # four schemas, two a page
    preview = configured("preview", "--json")
    assert preview.code == 0, preview.err
    assert preview.json()["counts"]["creates"] > 0
