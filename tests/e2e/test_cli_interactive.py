"""`entra-sync sync` at a terminal: preview, ask with no lease held, apply only that plan."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.cli.main import open_service
from core.sandbox import Sandbox

from .conftest import Runner
from .test_cli_flow import writes


def _answer(monkeypatch: pytest.MonkeyPatch, reply: str, meanwhile: Callable[[], None]) -> None:
    """Answer the prompt with ``reply`` after ``meanwhile`` ran (the person reading)."""

    def ask(prompt: str) -> str:
        meanwhile()
        return reply

    monkeypatch.setattr("builtins.input", ask)


def _lease_is_free() -> None:
    service = open_service(None)
    try:
        assert service.busy() is None, "the run lease is held while the person reads"
    finally:
        service.close()


def test_yes_applies_the_plan_that_was_shown(
    with_schema: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer(monkeypatch, "y", _lease_is_free)
    result = with_schema("sync", tty=True)
    assert result.code == 0, result.err
    assert "Sync succeeded" in result.out
    assert len(sandbox.employees()) == 38


def test_a_plan_that_changed_while_the_person_read_is_refused(
    with_schema: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new hire lands between the question and the answer: nothing is applied."""

    def hire() -> None:
        sandbox.hire("Late Arrival", "Finance", "Analyst", None)
        sandbox.request_log.clear()

    _answer(monkeypatch, "y", hire)
    result = with_schema("sync", tty=True)
    assert result.code == 1
    assert "changed since the preview" in result.err
    assert writes(sandbox) == []


def test_no_applies_nothing_and_exits_1(
    with_schema: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer(monkeypatch, "n", lambda: None)
    sandbox.request_log.clear()
    result = with_schema("sync", tty=True)
    assert result.code == 1
    assert "Not applied." in result.out
    assert writes(sandbox) == []


def test_a_look_before_applying_supersedes_no_pending_preview(
    with_schema: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terminal's look is not a preview for approval: a pending one stays decidable."""
    assert with_schema("preview").code == 0
    _answer(monkeypatch, "n", lambda: None)
    with_schema("sync", tty=True)
    service = open_service(None)
    try:
        assert len(service.pending_previews()) == 1
    finally:
        service.close()
