"""The bot scopes are exactly what the code's Slack calls need: none missing, none spare.

The Web API methods the bot calls are found in its source: every ``WebClient`` method
named anywhere in ``bot/`` (called, or handed on like ``client.chat_postMessage``),
expanded into the API methods it sends (``files_upload_v2`` sends two), read from
slack_sdk's own source. The scopes each method needs come from Slack's method
reference, in :data:`tests.bot.slack_rules.METHOD_SCOPES`, the table the fake Slack
enforces too. A method missing from that table fails the test until its scopes are
looked up and added.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Collection, Mapping
from functools import cache
from pathlib import Path

from slack_sdk import WebClient

from bot.config import REQUIRED_BOT_SCOPES
from tests.bot.scenario import ADMIN, ALICE, BOB, Bot
from tests.bot.slack_rules import METHOD_SCOPES

BOT = Path(__file__).resolve().parents[2] / "bot"
WEB_METHODS: dict[str, Callable[..., object]] = {
    name: member
    for name, member in vars(WebClient).items()
    if callable(member) and not name.startswith("_")
}
BOLT_CALLS = frozenset({"auth.test"})
"""What Bolt calls by itself with the bot token: ``App`` checks the token at start-up."""

NOT_FROM_METHODS: Mapping[str, Callable[[Collection[str]], bool]] = {
    # /entra is the manifest's slash command, not a Web API call.
    "commands": lambda called: True,
    # chat.postMessage into a public channel the bot has not joined: the report
    # channel, or /entra preview typed anywhere (Slack's chat.postMessage page).
    "chat:write.public": lambda called: "chat.postMessage" in called,
}
"""Scopes no method page lists but the bot needs, and when it needs them."""


def client_methods_named_in(root: Path) -> dict[str, set[str]]:
    """``WebClient`` method name -> the files under ``root`` that name it."""
    named: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in WEB_METHODS:
                named.setdefault(node.attr, set()).add(str(path.relative_to(root.parent)))
    return named


@cache
def api_methods_of(name: str) -> frozenset[str]:
    """The Web API methods a ``WebClient`` method sends, from slack_sdk's source."""
    source = inspect.getsource(WEB_METHODS[name])
    sent = set(re.findall(r'api_call\(\s*"([\w.]+)"', source))
    for other in re.findall(r"self\.(\w+)\(", source):
        if other in WEB_METHODS and other != name:
            sent |= api_methods_of(other)
    return frozenset(sent)


def called_api_methods() -> frozenset[str]:
    sent = {m for name in client_methods_named_in(BOT) for m in api_methods_of(name)}
    return frozenset(sent | BOLT_CALLS)


def scope_problems(called: Collection[str], scopes: Collection[str]) -> list[str]:
    """Every way ``scopes`` fail the ``called`` methods: unknown, missing or spare."""
    problems = [
        f"{m}: not in METHOD_SCOPES; add its bot scopes from Slack's method reference"
        for m in sorted(called)
        if m not in METHOD_SCOPES
    ]
    used = {scope for scope, needs in NOT_FROM_METHODS.items() if needs(called)}
    for method in sorted(set(called) & METHOD_SCOPES.keys()):
        needed = METHOD_SCOPES[method]
        if needed and not needed & set(scopes):
            problems.append(f"{method} needs one of {sorted(needed)}; no such scope requested")
        used |= needed & set(scopes)
    spare = [s for s in scopes if s not in used]
    return problems + [f"{s}: requested, but nothing calls a method that needs it" for s in spare]


def test_the_requested_scopes_are_exactly_the_ones_the_calls_need() -> None:
    called = called_api_methods()

    assert scope_problems(called, REQUIRED_BOT_SCOPES) == []
    assert {"chat.postMessage", "conversations.join", "files.completeUploadExternal"} <= called


def test_the_check_catches_a_missing_and_a_spare_scope() -> None:
    """The test above can fail: without users:read, or with a scope nothing uses."""
    called = called_api_methods()
    without = [s for s in REQUIRED_BOT_SCOPES if s != "users:read"]

    assert scope_problems(called, without) == [
        "users.info needs one of ['users:read']; no such scope requested"
    ]
    assert scope_problems(called, [*REQUIRED_BOT_SCOPES, "channels:read"]) == [
        "channels:read: requested, but nothing calls a method that needs it"
    ]
    assert scope_problems({*called, "users.list"}, REQUIRED_BOT_SCOPES) == [
        "users.list: not in METHOD_SCOPES; add its bot scopes from Slack's method reference"
    ]


def test_files_upload_v2_is_read_as_the_two_methods_it_sends() -> None:
    assert api_methods_of("files_upload_v2") >= {
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    }
    assert api_methods_of("chat_postMessage") == {"chat.postMessage"}


def test_the_bot_never_calls_slack_by_a_method_name_string() -> None:
    """``client.api_call("...")`` would hide a method from the scan above."""
    for path in BOT.rglob("*.py"):
        assert "api_call(" not in path.read_text(encoding="utf-8"), path


def test_the_whole_story_calls_nothing_the_scan_missed(bot: Bot) -> None:
    """What the fake Slack recorded while the bot ran is within what the scan found."""
    bot.command("help", user=ALICE)
    bot.command("setup", user=ADMIN)
    bot.command("preview", user=ALICE)
    (pending,) = bot.service.pending_previews()
    bot.click("entra_preview_approve", str(pending.id), BOB, pending.message_ts or "")
    bot.open_home(ADMIN)
    bot.open_home(ALICE)

    recorded = {call.method_name for call in bot.fake.calls()} - {"response_url", "upload"}

    assert recorded <= called_api_methods()
    assert {"conversations.join", "users.info", "views.publish"} <= recorded
