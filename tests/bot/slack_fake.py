"""A fake Slack Web API on loopback, for tests that use a real ``slack_sdk.WebClient``.

Modeled on bolt-python's ``tests/mock_web_api_server``, but it binds port 0 (no clashes
between parallel runs), records whole requests rather than path counts, answers the
methods the bot uses with realistic bodies, and can inject faults (``ratelimited`` with
``Retry-After``, ``channel_not_found``...) one call at a time.

It also holds the bot to what a real workspace enforces (:mod:`tests.bot.slack_rules`):
the token's scopes, channel membership for file uploads, and the limits of a
``response_url``. By default the token holds the scopes the app's manifests request
(``bot.config.REQUIRED_BOT_SCOPES``), as after installing it from them.

Point a client at :attr:`FakeSlack.base_url`; use :attr:`FakeSlack.response_url` (or
:meth:`FakeSlack.new_response_url`) as the ``response_url`` of a command or action, so
``respond()`` lands here too. Listeners post from worker threads: assert with
:meth:`FakeSlack.wait_for`, which waits for the calls to arrive.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.config import REQUIRED_BOT_SCOPES
from tests.bot.slack_rules import (
    REFUSED_RESPONSE_STATUS,
    Conversation,
    Conversations,
    Refusal,
    ResponseUrls,
    check_scopes,
)

TEAM_ID = "T_FAKE"
BOT_USER_ID = "U_BOT"
BOT_ID = "B_BOT"
FIRST_TS = 1_700_000_000
# Form fields slack_sdk sends as JSON text; decoded so tests compare Python objects.
JSON_FIELDS = frozenset(
    {"attachments", "blocks", "view", "files", "metadata", "unfurls", "inputs", "outputs"}
)

Answer = dict[str, Any]
Clock = Callable[[], datetime]
REFUSED_RESPONSE = "response_url_refused"
"""The method name a response_url post Slack refused is recorded under."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Call:
    """One request: a Web API method (or ``"response_url"``), its params and headers.

    ``params`` merges the query string with a form, multipart or JSON body. ``headers``
    have lower-case names. ``path`` is the URL path (tells response URLs apart).
    """

    method_name: str
    params: dict[str, Any]
    headers: dict[str, str]
    path: str = ""


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None


@dataclass
class _User:
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    deleted: bool = False


@dataclass
class _State:
    """Everything the fake remembers, behind one lock."""

    lock: threading.Condition = field(default_factory=threading.Condition)
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    upload_names: dict[str, str] = field(default_factory=dict)
    faults: dict[str, deque[_Fault]] = field(default_factory=dict)
    users: dict[str, _User] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    scopes: frozenset[str] = frozenset(REQUIRED_BOT_SCOPES)
    rejected_tokens: dict[str, str] = field(default_factory=dict)
    conversations: Conversations = field(default_factory=Conversations)
    response_urls: ResponseUrls = field(default_factory=lambda: ResponseUrls(_utc_now))


class FakeSlack:
    """The fake server. ``with FakeSlack() as fake:`` or the ``fake_slack`` fixture."""

    def __init__(self, *, clock: Clock = _utc_now) -> None:
        self._state = _State(response_urls=ResponseUrls(clock))
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread: threading.Thread | None = None
        self._response_urls = itertools.count(1)
        self.response_url = self.new_response_url()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeSlack:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="fake-slack", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """What ``WebClient(base_url=...)`` expects: it joins method names onto it."""
        return self.root_url + "/api/"

    def new_response_url(self) -> str:
        """A fresh ``response_url``; calls to it record ``path`` ``/response/<n>``.

        Slack takes five messages on it within 30 minutes of now (the fake's clock);
        it refuses the others, recorded as :data:`REFUSED_RESPONSE` calls.
        """
        path = f"/response/{next(self._response_urls)}"
        with self._state.lock:
            self._state.response_urls.issue(path)
        return self.root_url + path

    # -- configuration -----------------------------------------------------------------

    def set_user(
        self,
        user_id: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        deleted: bool = False,
    ) -> None:
        """How ``users.info`` describes ``user_id``; unknown users are plain members."""
        with self._state.lock:
            self._state.users[user_id] = _User(is_admin, is_owner, is_primary_owner, deleted)

    def set_scopes(self, scopes: Collection[str]) -> None:
        """The bot scopes the token holds (an app installed with a different manifest)."""
        with self._state.lock:
            self._state.scopes = frozenset(scopes)

    def reject_token(self, token: str, error: str = "invalid_auth") -> None:
        """Answer every call made with ``token`` with ``error`` (revoked, or never valid)."""
        with self._state.lock:
            self._state.rejected_tokens[token] = error

    def add_channel(
        self, channel: str, *, private: bool = False, member: bool = False, archived: bool = False
    ) -> None:
        """A channel and whether the bot is in it; unknown ``C...`` ids are public, not joined."""
        with self._state.lock:
            self._state.conversations.add(Conversation(channel, private, member, archived))

    def is_member(self, channel: str) -> bool:
        with self._state.lock:
            return self._state.conversations.get(channel).member

    def use_clock(self, clock: Clock) -> None:
        """Age response URLs by ``clock`` (a test's fake time); those issued so far start now."""
        with self._state.lock:
            self._state.response_urls.restart(clock)

    def use_up(self, response_url: str) -> None:
        """Spend all five messages of ``response_url``, as Slack counts them."""
        with self._state.lock:
            self._state.response_urls.use_up(urlsplit(response_url).path)

    def fail_next(
        self, method: str, error: str = "ratelimited", status: int = 429, retry_after: int = 1
    ) -> None:
        """Answer the next call of ``method`` with ``{"ok": false, "error": error}``.

        ``Retry-After: retry_after`` is sent with a 429. Faults queue up per method.
        """
        with self._state.lock:
            queue = self._state.faults.setdefault(method, deque())
            queue.append(_Fault(error, status, retry_after if status == 429 else None))

    def reset(self) -> None:
        """Forget calls, uploads and pending faults; users set with :meth:`set_user` stay."""
        with self._state.lock:
            self._state.calls.clear()
            self._state.uploads.clear()
            self._state.upload_names.clear()
            self._state.faults.clear()

    # -- inspection --------------------------------------------------------------------

    @property
    def uploads(self) -> dict[str, bytes]:
        """Bytes sent to each upload URL, by file id (``files_upload_v2`` step two)."""
        with self._state.lock:
            return dict(self._state.uploads)

    def calls(self, method: str | None = None) -> list[Call]:
        with self._state.lock:
            return [c for c in self._state.calls if method is None or c.method_name == method]

    def last(self, method: str) -> Call:
        calls = self.calls(method)
        if not calls:
            raise AssertionError(f"no {method} call; saw {self._seen()}")
        return calls[-1]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The calls of ``method`` once there are at least ``count``; fails after ``timeout``."""
        with self._state.lock:
            arrived = self._state.lock.wait_for(
                lambda: len(self._calls_locked(method)) >= count, timeout
            )
            calls = self._calls_locked(method)
        if not arrived:
            raise AssertionError(
                f"expected {count} {method} call(s) within {timeout}s, got {len(calls)}; "
                f"saw {self._seen()}"
            )
        return calls

    def _calls_locked(self, method: str) -> list[Call]:
        return [c for c in self._state.calls if c.method_name == method]

    def _seen(self) -> list[str]:
        return [c.method_name for c in self.calls()]

    # -- request handling (server threads) ---------------------------------------------

    def _record(self, call: Call) -> None:
        with self._state.lock:
            self._state.calls.append(call)
            self._state.lock.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        with self._state.lock:
            queue = self._state.faults.get(method)
            return queue.popleft() if queue else None

    def _handle_api(self, call: Call) -> tuple[int, Answer, dict[str, str]]:
        """Status, JSON body and extra headers for a Web API call."""
        token = _bot_token(call)
        with self._state.lock:
            rejected = self._state.rejected_tokens.get(token or "")
        if token is None or rejected:
            return 200, {"ok": False, "error": rejected or "invalid_auth"}, {}
        fault = self._take_fault(call.method_name)
        if fault is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return fault.status, {"ok": False, "error": fault.error}, headers
        answer = self._answers().get(call.method_name)
        if answer is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        try:
            with self._state.lock:
                check_scopes(call.method_name, self._state.scopes)
            return 200, {"ok": True, **answer(call.params)}, {}
        except Refusal as refusal:
            return 200, {"ok": False, "error": refusal.error, **refusal.extra}, {}

    def _take_response(self, path: str) -> str | None:
        """None when Slack takes a message on this response URL; else its refusal."""
        with self._state.lock:
            return self._state.response_urls.use(path)

    def _answers(self) -> dict[str, Callable[[dict[str, Any]], Answer]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": lambda p: {"message_ts": self._next_ts()},
            "chat.delete": lambda p: {"channel": p.get("channel"), "ts": p.get("ts")},
            "views.open": self._view,
            "views.update": self._view,
            "views.publish": self._view,
            "users.info": self._user_info,
            "conversations.open": self._open_dm,
            "conversations.join": self._join,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    def _next_number(self) -> int:
        with self._state.lock:
            return next(self._state.counter)

    def _next_ts(self) -> str:
        return f"{FIRST_TS}.{self._next_number() * 100:06d}"

    def _auth_test(self, params: dict[str, Any]) -> Answer:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "entra-assets-sync",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> Answer:
        with self._state.lock:
            channel = self._state.conversations.post(
                str(params.get("channel", "")), self._state.scopes
            )
        ts = self._next_ts()
        return {"channel": channel.id, "ts": ts, "message": _message(params, ts)}

    def _join(self, params: dict[str, Any]) -> Answer:
        with self._state.lock:
            channel, already = self._state.conversations.join(str(params.get("channel", "")))
            described = channel.describe()
        if already:
            warning = "already_in_channel"
            return {
                "channel": described,
                "warning": warning,
                "response_metadata": {"warnings": [warning]},
            }
        return {"channel": described}

    def _update_message(self, params: dict[str, Any]) -> Answer:
        ts = params.get("ts")
        return {
            "channel": params.get("channel"),
            "ts": ts,
            "text": params.get("text", ""),
            "message": _message(params, ts),
        }

    def _view(self, params: dict[str, Any]) -> Answer:
        view = params.get("view")
        view = dict(view) if isinstance(view, dict) else {}
        view_id = params.get("view_id") or f"V{self._next_number():06d}"
        return {"view": {**view, "id": view_id, "team_id": TEAM_ID, "hash": "h1"}}

    def _user_info(self, params: dict[str, Any]) -> Answer:
        user_id = str(params.get("user", ""))
        with self._state.lock:
            user = self._state.users.get(user_id, _User())
        return {
            "user": {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": user_id.lower(),
                "real_name": f"User {user_id}",
                "is_bot": False,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": user.is_primary_owner,
                "deleted": user.deleted,
            }
        }

    def _open_dm(self, params: dict[str, Any]) -> Answer:
        users = str(params.get("users", "")).split(",")
        return {"channel": {"id": "D" + users[0].strip()}}

    def _upload_url(self, params: dict[str, Any]) -> Answer:
        file_id = f"F{self._next_number():06d}"
        with self._state.lock:
            self._state.upload_names[file_id] = str(params.get("filename", ""))
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: dict[str, Any]) -> Answer:
        files = params.get("files")
        channel = params.get("channel_id") or params.get("channels")
        with self._state.lock:
            if channel:
                self._state.conversations.share_file(str(channel))
            names = dict(self._state.upload_names)
        return {
            "files": [
                {"id": f.get("id"), "title": f.get("title"), "name": names.get(f.get("id"), "")}
                for f in (files if isinstance(files, list) else [])
            ]
        }

    def _store_upload(self, file_id: str, content: bytes) -> None:
        with self._state.lock:
            self._state.uploads[file_id] = content


def _message(params: dict[str, Any], ts: str | None) -> Answer:
    return {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "ts": ts,
        "text": params.get("text", ""),
        "blocks": params.get("blocks", []),
        "thread_ts": params.get("thread_ts"),
    }


def _bot_token(call: Call) -> str | None:
    """The call's bot token; None when it carries none (a user token, or nothing)."""
    header = call.headers.get("authorization", "")
    token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
    token = token or str(call.params.get("token", ""))
    return token if token.startswith("xoxb-") and len(token) > len("xoxb-") else None


def parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Query string and body (form, multipart or JSON) as one dict of Python values."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == "application/json" and body:
        decoded = json.loads(body)
        params.update(decoded if isinstance(decoded, dict) else {"_json": decoded})
    elif kind == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif kind == "multipart/form-data":
        params.update(_multipart(content_type, body))
    for name in JSON_FIELDS & params.keys():
        params[name] = _json_or_text(params[name])
    return params


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            is_file = part.get_filename() is not None
            fields[name] = payload if is_file else payload.decode("utf-8")
    return fields


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake = self.server.fake
        if url.path.startswith("/api/"):
            params = parse_params(url.query, headers.get("content-type", ""), body)
            call = Call(url.path.removeprefix("/api/"), params, headers, url.path)
            fake._record(call)
            status, answer, extra = fake._handle_api(call)
            self._send(status, json.dumps(answer).encode(), "application/json", extra)
        elif url.path.startswith("/upload/"):
            file_id = url.path.removeprefix("/upload/")
            fake._store_upload(file_id, body)
            fake._record(Call("upload", {"file_id": file_id, "length": len(body)}, headers))
            self._send(200, f"OK - {len(body)}".encode(), "text/plain")
        elif url.path.startswith("/response/"):
            params = parse_params("", headers.get("content-type", ""), body)
            refusal = fake._take_response(url.path)
            name = "response_url" if refusal is None else REFUSED_RESPONSE
            fake._record(Call(name, params, headers, url.path))
            if refusal is None:
                self._send(200, b"ok", "text/plain")
            else:
                self._send(REFUSED_RESPONSE_STATUS, refusal.encode(), "text/plain")
        else:
            self._send(404, b'{"ok": false, "error": "not_found"}', "application/json")

    def _send(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the fake records calls instead of printing them."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        super().__init__(address, _Handler)
        self.fake = fake
