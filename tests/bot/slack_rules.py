"""What a real Slack workspace enforces, enforced by the fake Slack Web API.

Each rule here is one the bot must live with on a real workspace; the fake applies it
so that a test fails against code that ignores it:

* **Scopes.** A method runs only when the token holds one of the bot scopes its page
  in Slack's method reference lists (``missing_scope`` otherwise, naming what was
  ``needed``). :data:`METHOD_SCOPES` is that table; the scope test reads it too.
* **Channels.** ``chat:write.public`` lets the bot post into a public channel it has
  not joined, but a file is shared only where the bot is a member (``not_in_channel``
  from ``files.completeUploadExternal``). ``conversations.join`` makes it a member of
  a public channel; a private channel answers ``method_not_supported_for_channel_type``
  (only an invitation lets a bot in), and the bot cannot post in one it is not in
  (``channel_not_found``: it cannot see it). A user id as the channel is the app's
  direct message with that person, where the bot is always a member.
* **Response URLs.** One accepts at most five messages, within 30 minutes of the
  command or click; Slack refuses the rest with HTTP 404.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "conversations.join": frozenset({"channels:join"}),
    "conversations.open": frozenset({"channels:manage", "groups:write", "im:write", "mpim:write"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "users.info": frozenset({"users:read"}),
    "views.open": frozenset(),
    "views.update": frozenset(),
    "views.publish": frozenset(),
}
"""Web API method -> the bot scopes that let it run, any one of them; empty: none needed.

From each method's page at https://docs.slack.dev/reference/methods/<method>
("Scopes, Bot token"). ``chat:write.public`` is not listed for ``chat.postMessage``:
it is what lets a post into a public channel the bot is not in succeed (see
:meth:`Conversations.post`)."""

POST_PUBLIC_SCOPE = "chat:write.public"

RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
REFUSED_RESPONSE_STATUS = 404
USED_URL = "used_url"
EXPIRED_URL = "expired_url"


class Refusal(Exception):
    """Slack's ``{"ok": false, "error": ...}``; ``extra`` adds fields such as ``needed``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def check_scopes(method: str, granted: Collection[str]) -> None:
    """Refuse ``method`` as Slack does when the token holds none of the scopes it needs."""
    needed = METHOD_SCOPES.get(method, frozenset())
    if needed and not needed & set(granted):
        raise Refusal("missing_scope", needed=",".join(sorted(needed)), provided=",".join(granted))


@dataclass
class Conversation:
    """A channel as the bot sees it. ``im``: the app's direct message with a person."""

    id: str
    private: bool = False
    member: bool = False
    archived: bool = False
    im: bool = False

    def describe(self) -> dict[str, Any]:
        """The channel object ``conversations.join`` answers with (its main fields)."""
        return {
            "id": self.id,
            "name": self.id.lower(),
            "is_channel": not self.im and not self.private,
            "is_group": self.private,
            "is_im": self.im,
            "is_private": self.private,
            "is_archived": self.archived,
            "is_member": self.member,
        }


@dataclass
class Conversations:
    """Every channel the fake knows; unknown ids get Slack's defaults for their prefix.

    ``C...``: a public channel the bot has not joined. ``G...``: a private channel it is
    not in. ``D...``, or a user id (``U...``, ``W...``) given as the channel: the app's
    direct message with that person.
    """

    known: dict[str, Conversation] = field(default_factory=dict)

    def add(self, conversation: Conversation) -> None:
        self.known[conversation.id] = conversation

    def get(self, channel: str) -> Conversation:
        if channel[:1] in {"U", "W"}:
            channel = "D" + channel
        found = self.known.get(channel)
        if found is None:
            found = self._default(channel)
            self.known[channel] = found
        return found

    @staticmethod
    def _default(channel: str) -> Conversation:
        if not channel or channel[:1] not in {"C", "G", "D"}:
            raise Refusal("channel_not_found")
        if channel.startswith("D"):
            return Conversation(channel, member=True, im=True)
        return Conversation(channel, private=channel.startswith("G"))

    def post(self, channel: str, granted: Collection[str]) -> Conversation:
        """Where ``chat.postMessage`` lands, or Slack's refusal."""
        found = self.get(channel)
        if found.archived:
            raise Refusal("is_archived")
        if found.member:
            return found
        if found.private:
            raise Refusal("channel_not_found")
        if POST_PUBLIC_SCOPE not in granted:
            raise Refusal("not_in_channel")
        return found

    def join(self, channel: str) -> tuple[Conversation, bool]:
        """``conversations.join``: the channel, and whether the bot was in it already."""
        found = self.get(channel)
        if found.im or found.private:
            raise Refusal("method_not_supported_for_channel_type")
        if found.archived:
            raise Refusal("is_archived")
        already = found.member
        found.member = True
        return found, already

    def share_file(self, channel: str) -> None:
        """``files.completeUploadExternal`` into ``channel``: only where the bot is a member."""
        found = self.get(channel)
        if found.archived:
            raise Refusal("is_archived")
        if not found.member:
            raise Refusal("not_in_channel")


@dataclass
class _Issued:
    at: datetime
    uses: int = 0


@dataclass
class ResponseUrls:
    """Each response URL's age and use count; :meth:`use` answers as Slack does."""

    clock: Callable[[], datetime]
    issued: dict[str, _Issued] = field(default_factory=dict)

    def issue(self, path: str) -> None:
        self.issued[path] = _Issued(self.clock())

    def restart(self, clock: Callable[[], datetime]) -> None:
        """A new clock; every URL issued so far counts as issued at its "now"."""
        self.clock = clock
        for issued in self.issued.values():
            issued.at = clock()

    def use_up(self, path: str) -> None:
        """Spend every use of ``path``, as if the bot had already posted five times."""
        self.issued.setdefault(path, _Issued(self.clock())).uses = RESPONSE_URL_USES

    def use(self, path: str) -> str | None:
        """None when Slack takes the message; otherwise the body of its refusal."""
        issued = self.issued.setdefault(path, _Issued(self.clock()))
        if self.clock() - issued.at > RESPONSE_URL_LIFETIME:
            return EXPIRED_URL
        if issued.uses >= RESPONSE_URL_USES:
            return USED_URL
        issued.uses += 1
        return None
