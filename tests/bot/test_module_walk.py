"""How many of our modules one Approve click runs through: a number the layout should keep low.

Every function call made while the click is handled (the Bolt listener, the worker,
the approval, the run, the clients, the store) is traced to the module that defines
it. ``pytest tests/bot/test_module_walk.py -s`` prints the walk.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from bot.blocks import preview_message
from bot.ids import Action
from bot.publishing import publish_preview
from tests.bot.scenario import ALICE, BOB, CHANNEL, Bot

ROOT = Path(__file__).resolve().parents[2]
APPROVE_CLICK_BUDGET = 46
"""An Approve click reads three APIs, plans, writes and edits one message; past this many
modules, something is being walked through that should not be. The test prints today's
walk (``-s``); the plan codec, the sections table, our own signature check (which never
logs a request body), the write waves, the reads a run saves (kept Assets ids, hidden
emails looked up only where they matter, and the table that keeps both) and the
directory copy (its reader, the delta merge and its table) are on it."""


def _module(filename: str) -> str | None:
    """The module of ours that ``filename`` holds; None for libraries and for the sandbox,
    which stands in for Microsoft and Atlassian at the wire."""
    path = Path(filename)
    if not path.is_relative_to(ROOT) or path.parts[len(ROOT.parts)] not in {"core", "bot"}:
        return None
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    return None if module.startswith("core.sandbox") else module


@contextmanager
def modules_called() -> Iterator[set[str]]:
    """Our modules whose functions run inside the block, on any thread it starts."""
    files: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            files.add(frame.f_code.co_filename)

    modules: set[str] = set()
    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield modules
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        modules.update(m for m in map(_module, files) if m is not None)


def test_an_approve_click_walks_through_few_modules(bot: Bot) -> None:
    """The preview is posted from this thread, so the click's threads start traced."""
    result = bot.service.preview(ALICE)
    preview = bot.service.preview_view(result.preview_id or 0)
    assert preview is not None
    message = preview_message(preview, result.plan, now=bot.clock())
    posted = publish_preview(
        bot.app.client, bot.service, preview, message, channel=CHANNEL, now=bot.clock()
    )
    with modules_called() as modules:
        bot.click(Action.APPROVE, str(preview.id), BOB, posted.ts)
    assert len(bot.sandbox.employees()) == 38  # the click really applied the plan
    print(f"\nAn Approve click runs code in {len(modules)} modules:")
    print("\n".join(f"  {m}" for m in sorted(modules)))
    assert {"bot.listeners.actions", "core.runs.approvals", "core.sync.applier"} <= modules
    assert len(modules) <= APPROVE_CLICK_BUDGET
