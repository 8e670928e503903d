"""Microsoft Graph: the Entra users the sync reads, with their managers.

Three ways to read:

* **delta** (:meth:`GraphDirectory.delta_round`): ``/users/delta`` with the manager
  selected. The first round lists everyone, 200 users a page; the store keeps the
  result as a copy with its ``deltaLink``, and later rounds read only the users
  changed since (:mod:`core.clients.graph_delta`). A no-change round is one request.
* **lookup** (:meth:`GraphDirectory.lookup`): ask only for the users the sync already
  knows (Atlassian emails, Entra ids stored in Assets), 20 sub-requests per
  ``$batch``. Cheaper for a small site in a big tenant that has no copy yet
  (:func:`prefers_lookup` says when).
* **listing** (:meth:`GraphDirectory.list_all`): ``/users`` with the manager
  expanded, which Graph caps at 100 users a page. Runs read by delta; the listing is
  the plain full read the delta copy is checked against.

Either way there is never one sequential request per user.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote, unquote, urlencode

import httpx

from core.clients.graph_delta import (
    DELTA_PAGE_SIZE,
    DELTA_PATH,
    DELTA_SELECT,
    DeltaLinkRefused,
    DeltaRound,
    RoundMerger,
    page_links,
    refused_token,
    unnamed_contacts,
    with_contact_names,
)
from core.clients.http import ApiClient, error_for, parse_retry_after
from core.errors import ApiError, RateLimited, RequestRejected, ServerError, UnreadableAnswer
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE, Attr, DirectoryUser, ManagerRef

COUNT = "/users/$count"
USER_SELECT = (
    "id,displayName,mail,userPrincipalName,proxyAddresses,department,jobTitle,"
    "accountEnabled,userType"
)
MANAGER_EXPAND = "manager($select=id,displayName,mail,userPrincipalName)"
REPORTS_EXPAND = f"directReports($select={USER_SELECT})"
EXPANDED_LIMIT = 20  # Graph returns at most 20 objects of an expanded collection

PAGE_SIZE = 999  # Graph's maximum; with $expand it still answers 100 a page
BATCH_LIMIT = 20  # Graph's maximum number of sub-requests in one $batch
FIRST_READ_FACTOR = 2
"""With no copy yet, a first delta read is taken while it costs at most this many
times the requests of a lookup: it is paid once, the lookup on every run."""

# Item statuses inside a $batch that mean "not processed, send again later".
# 424 Failed Dependency is what older batches answered for throttled items.
RETRY_ITEM_STATUSES = frozenset({429, 503, 424})

_USER_QUERY = {"$select": USER_SELECT, "$expand": MANAGER_EXPAND}


@dataclass(frozen=True, slots=True)
class DirectoryRead:
    """The users read for a run, how they were read, and how big the tenant is.

    ``full``: every user, read afresh; ``delta``: the local copy with the changes
    since it was saved; ``lookup``: only the users asked for by email or id.
    """

    users: tuple[DirectoryUser, ...]
    strategy: Literal["full", "delta", "lookup"]
    directory_size: int

    @property
    def complete(self) -> bool:
        """True when the users are the whole directory (a full or delta read), not a lookup."""
        return self.strategy != "lookup"


@dataclass(frozen=True, slots=True)
class _SubRequest:
    """One GET inside a ``$batch``; ``by_id`` lookups may answer 404 (user gone)."""

    id: str
    url: str
    by_id: bool
    reports: bool = False  # a user's directReports: a ``value`` list; 404 when the user is gone


class _Found:
    """Users a lookup found, and their managers as stand-ins for those it did not find."""

    def __init__(self) -> None:
        self._users: dict[str, DirectoryUser] = {}
        self._stand_ins: dict[str, DirectoryUser] = {}

    def add(self, raw: Mapping[str, Any]) -> None:
        user = parse_user(raw)
        self._users.setdefault(user.id, user)
        stand_in = manager_stand_in(raw.get("manager"))
        if stand_in is not None:
            self._stand_ins.setdefault(stand_in.id, stand_in)

    def users(self) -> dict[str, DirectoryUser]:
        """Everyone found by id; a manager found only as a stand-in is there as one."""
        found = dict(self._users)
        for manager_id, stand_in in self._stand_ins.items():
            found.setdefault(manager_id, stand_in)
        return found


class GraphDirectory:
    """Reads Entra users through an :class:`ApiClient` whose base is ``{graph}/v1.0``.

    ``priority`` is sent as ``x-ms-throttle-priority`` when set: a scheduled sync
    should say ``Low`` (the documented spelling) so Graph throttles it before
    interactive traffic.
    """

    def __init__(self, api: ApiClient, priority: str | None = None) -> None:
        self._api = api
        self._priority = priority

    def probe(self) -> None:
        """One cheap read that proves the token works and the permission is granted."""
        self._api.request(
            "GET", "/users", params={"$top": 1, "$select": "id"}, headers=self._headers()
        )

    def count_users(self) -> int:
        """The number of users in the tenant; ``$count`` needs eventual consistency."""
        headers = self._headers({"ConsistencyLevel": "eventual", "Accept": "text/plain"})
        response = self._api.request("GET", COUNT, headers=headers)
        text = response.text.strip().lstrip("\ufeff")
        if not (text.isascii() and text.isdigit() and len(text) <= 12):
            raise ApiError(
                "graph",
                "the user count is not a number",
                status=response.status_code,
                method="GET",
                path=COUNT,
            )
        return int(text)

    def list_all(self) -> list[DirectoryUser]:
        """Every user with the manager expanded, following ``@odata.nextLink`` to the end."""
        users: list[DirectoryUser] = []
        params: dict[str, str | int] | None = {**_USER_QUERY, "$top": PAGE_SIZE}
        path = "/users"
        while True:
            page = self._api.get_json(path, params=params, headers=self._headers())
            users.extend(parse_user(raw) for raw in page.get("value") or [])
            next_link = page.get("@odata.nextLink")
            if not next_link:
                return users
            path, params = str(next_link), None  # the link carries the query and skiptoken

    def lookup(self, emails: Iterable[str], ids: Iterable[str]) -> list[DirectoryUser]:
        """The users answering to these emails or ids, plus stand-ins for their managers.

        An id that answers 404 is a user deleted from Entra: a normal result, it just
        is not in the output. Managers not otherwise returned are added as minimal
        users built from the expanded manager, so the planner can tell "manager has
        no Atlassian account" from "manager not found".
        """
        answers = self._run_batches(_sub_requests(emails, ids))
        found = _Found()
        for _, status, body in answers:
            if status == 404:
                continue
            for raw in body.get("value", [body]) if isinstance(body, dict) else []:
                found.add(raw)
        return list(found.users().values())

    def person(
        self, emails: Iterable[str], ids: Iterable[str]
    ) -> tuple[list[DirectoryUser], list[DirectoryUser]]:
        """One person's read in one ``$batch``: the users answering to these emails and
        ids (managers as stand-ins, as :meth:`lookup`), and those users' direct reports.

        Reports come by id from ``/users/{id}/directReports``, and by email from the same
        filter with ``directReports`` expanded, so a newcomer costs no second round. Graph
        expands at most 20 objects of a collection: a list of 20 is read again by id, in
        full. A report's manager is the user Graph listed them under.
        """
        unique = list(dict.fromkeys(e.strip().lower() for e in emails if e))
        wanted = list(dict.fromkeys(i.strip().lower() for i in ids if i))
        requests = _sub_requests(unique, wanted)
        requests += [_SubRequest("", _reports_by_email_url(e), by_id=False) for e in unique]
        requests += [_SubRequest("", _reports_url(i), by_id=True, reports=True) for i in wanted]
        found, reports, cut = self._person_answers(_numbered(requests))
        again = [i for i in cut if i not in wanted]
        if again:
            more = [_SubRequest("", _reports_url(i), by_id=True, reports=True) for i in again]
            _, extra, _ = self._person_answers(_numbered(more))
            reports.update(extra)
        return list(found.values()), [r for r in reports.values() if r.id not in found]

    def _person_answers(
        self, requests: list[_SubRequest]
    ) -> tuple[dict[str, DirectoryUser], dict[str, DirectoryUser], list[str]]:
        """Users, reports, and the managers whose expanded reports may have been cut short."""
        found = _Found()
        reports: dict[str, DirectoryUser] = {}
        cut: list[str] = []
        for request, status, body in self._run_batches(requests):
            if status == 404 or not isinstance(body, dict):
                continue
            if request.reports:
                reports.update(_reports_of(_reports_owner(request.url), body.get("value")))
                continue
            for raw in body.get("value", [body]):
                if "directReports" in raw:
                    owner = str(raw.get("id") or "").strip().lower()
                    listed = raw.get("directReports") or []
                    reports.update(_reports_of(owner, listed))
                    if len(listed) >= EXPANDED_LIMIT:
                        cut.append(owner)
                    continue
                found.add(raw)
        return found.users(), reports, cut

    def delta_round(self, copy: Mapping[str, DirectoryUser], link: str | None) -> DeltaRound:
        """One ``/users/delta`` round merged onto ``copy``; ``link`` None starts afresh.

        Follows ``@odata.nextLink`` to the page with the ``@odata.deltaLink``; a page
        with neither ends the read with :class:`UnreadableAnswer`. A saved link Graph
        no longer keeps raises :class:`DeltaLinkRefused`. Contact managers new to the
        copy are named by one ``$batch`` lookup of their reports, as the full read
        names them by expanding the manager.
        """
        path, params = (link, None) if link else (DELTA_PATH, {"$select": DELTA_SELECT})
        headers = self._headers({"Prefer": f"odata.maxpagesize={DELTA_PAGE_SIZE}"})
        merger = RoundMerger(copy, fresh=link is None)
        while True:
            try:
                page = self._api.get_json(path, params=params, headers=headers)
            except RequestRejected as error:
                if link is not None and refused_token(error):
                    raise DeltaLinkRefused(
                        "graph", str(error), status=error.status, method="GET", path=DELTA_PATH
                    ) from error
                raise
            next_link, delta_link = page_links(page)
            merger.add(page["value"])
            if delta_link is not None:
                break
            path, params = str(next_link), None  # the link carries the query and token
        round_ = merger.finish(delta_link)
        names = self._contact_names(unnamed_contacts(round_))
        return with_contact_names(round_, names) if names else round_

    def _contact_names(self, user_ids: list[str]) -> dict[str, str | None]:
        """The contact manager's display name of each user, by user id."""
        names: dict[str, str | None] = {}
        if not user_ids:
            return names
        for _, status, body in self._run_batches(_sub_requests((), user_ids)):
            if status == 404 or not isinstance(body, dict):
                continue
            user = parse_user(body)
            if user.manager is not None:
                names[user.id] = user.manager.display_name
        return names

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._priority:
            headers["x-ms-throttle-priority"] = self._priority
        return headers

    def _run_batches(self, requests: list[_SubRequest]) -> list[tuple[_SubRequest, int, Any]]:
        """Send sub-requests 20 at a time; throttled items go first into the next batch.

        A throttled item waits the largest ``Retry-After`` of its batch (capped by the
        retry policy) and is sent at most ``attempts`` times, like a plain request.
        """
        policy = self._api.retry_policy
        queue = deque(requests)
        sent: dict[str, int] = {}
        answers: list[tuple[_SubRequest, int, Any]] = []
        while queue:
            chunk = [queue.popleft() for _ in range(min(BATCH_LIMIT, len(queue)))]
            for request in chunk:
                sent[request.id] = sent.get(request.id, 0) + 1
            done, throttled, waits = self._send_batch(chunk)
            answers.extend(done)
            if not throttled:
                continue
            attempt = max(sent[request.id] for request in throttled)
            if attempt >= policy.attempts:
                raise RateLimited(
                    "graph",
                    "Graph is still throttling after the retries",
                    status=429,
                    method="POST",
                    path="/$batch",
                )
            known = [wait for wait in waits if wait is not None]
            policy.sleep(
                min(max(known), policy.max_retry_after) if known else policy.backoff(attempt)
            )
            queue.extendleft(reversed(throttled))
        return answers

    def _send_batch(
        self, chunk: list[_SubRequest]
    ) -> tuple[list[tuple[_SubRequest, int, Any]], list[_SubRequest], list[float | None]]:
        """One ``$batch``: the finished answers, the throttled items and their waits."""
        body = {"requests": [self._batch_item(request) for request in chunk]}
        page = self._api.post_json("/$batch", body, headers=self._headers())
        items = {str(item.get("id")): item for item in page.get("responses") or []}
        done: list[tuple[_SubRequest, int, Any]] = []
        throttled: list[_SubRequest] = []
        waits: list[float | None] = []
        for request in chunk:
            item = items.get(request.id)
            if item is None:
                raise ServerError(
                    "graph", "a $batch answer left out a request", method="POST", path="/$batch"
                )
            status = int(item.get("status") or 0)
            if status in RETRY_ITEM_STATUSES:
                throttled.append(request)
                waits.append(_item_retry_after(item))
            elif 200 <= status < 300:
                done.append((request, status, _item_body(request, item)))
            elif status == 404 and request.by_id:
                done.append((request, status, None))
            else:
                raise _item_error(request, item)
        return done, throttled, waits

    def _batch_item(self, request: _SubRequest) -> dict[str, Any]:
        item: dict[str, Any] = {"id": request.id, "method": "GET", "url": request.url}
        headers = self._headers()
        if headers:
            item["headers"] = headers
        return item


def prefers_lookup(size: int, emails: Collection[str], ids: Collection[str]) -> bool:
    """With no copy yet: True when looking these users up beats a first delta read.

    The first delta read costs a request per 200 users of the tenant and is paid once;
    a lookup costs a ``$batch`` per 20 emails or ids on every run. The lookup wins
    only while the delta read would cost more than :data:`FIRST_READ_FACTOR` lookups:
    a small Atlassian site in a big tenant.
    """
    delta_cost = math.ceil(size / DELTA_PAGE_SIZE)
    lookup_cost = math.ceil((len(emails) + len(ids)) / BATCH_LIMIT)
    return delta_cost > FIRST_READ_FACTOR * lookup_cost


def _sub_requests(emails: Iterable[str], ids: Iterable[str]) -> list[_SubRequest]:
    """One sub-request per distinct email (case-insensitive) and per distinct id."""
    unique_emails = list(dict.fromkeys(email.strip().lower() for email in emails if email))
    unique_ids = list(dict.fromkeys(user_id.strip() for user_id in ids if user_id))
    requests = [_SubRequest("", _email_url(email), by_id=False) for email in unique_emails]
    requests += [_SubRequest("", _id_url(user_id), by_id=True) for user_id in unique_ids]
    return [
        _SubRequest(str(number), request.url, request.by_id)
        for number, request in enumerate(requests, start=1)
    ]


def _email_url(email: str) -> str:
    """``/users?$filter=…`` matching mail, UPN or an smtp alias, fully URL-encoded.

    ``'`` doubles per OData; ``#`` of guest UPNs, ``+``, ``&`` and spaces are
    percent-encoded so the filter reaches Graph whole.
    """
    value = email.replace("'", "''")
    condition = (
        f"mail eq '{value}' or userPrincipalName eq '{value}' "
        f"or proxyAddresses/any(p:p eq 'smtp:{value}')"
    )
    return f"/users?{_query({'$filter': condition, **_USER_QUERY})}"


def _reports_url(user_id: str) -> str:
    return f"/users/{quote(user_id, safe='')}/directReports?{_query({'$select': USER_SELECT})}"


def _reports_by_email_url(email: str) -> str:
    """The email filter of :func:`_email_url`, answering with each user's direct reports."""
    value = email.replace("'", "''")
    condition = (
        f"mail eq '{value}' or userPrincipalName eq '{value}' "
        f"or proxyAddresses/any(p:p eq 'smtp:{value}')"
    )
    params = {"$filter": condition, "$select": "id", "$expand": REPORTS_EXPAND}
    return f"/users?{_query(params)}"


def _reports_owner(url: str) -> str:
    return unquote(url.split("/")[2]).strip().lower()


def _reports_of(owner: str, listed: Any) -> dict[str, DirectoryUser]:
    """The users among ``listed`` (contacts are never Employees), managed by ``owner``."""
    manager = ManagerRef(owner, GRAPH_USER_TYPE)
    found: dict[str, DirectoryUser] = {}
    for raw in listed if isinstance(listed, list) else []:
        if isinstance(raw, dict) and raw.get("@odata.type", GRAPH_USER_TYPE) == GRAPH_USER_TYPE:
            user = replace(parse_user(raw), manager=manager)
            found.setdefault(user.id, user)
    return found


def _numbered(requests: list[_SubRequest]) -> list[_SubRequest]:
    return [replace(r, id=str(n)) for n, r in enumerate(requests, start=1)]


def _id_url(user_id: str) -> str:
    return f"/users/{quote(user_id, safe='')}?{_query(_USER_QUERY)}"


def _query(params: Mapping[str, str]) -> str:
    """Encode a query string the way Graph reads it back: ``$``, ``,`` and ``()`` literal."""
    return urlencode(params, quote_via=quote, safe="$,()'")


def _item_retry_after(item: Mapping[str, Any]) -> float | None:
    """The ``Retry-After`` of a batch item; its header names come in any case."""
    headers = item.get("headers") or {}
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            return parse_retry_after(str(value))
    return None


def _item_body(request: _SubRequest, item: Mapping[str, Any]) -> dict[str, Any]:
    """What a successful item holds: a user by id, or a ``value`` list by filter.

    Anything else was spoiled on the way. Read as "no such user", it would inactivate
    the Employee of someone who is there, so it is refused like any unreadable answer.
    """
    body = item.get("body")
    listed = request.reports or not request.by_id
    if isinstance(body, dict) and (
        isinstance(body.get("value"), list) if listed else bool(body.get("id"))
    ):
        return body
    wanted = "the user" if request.by_id else "a list of users"
    raise UnreadableAnswer(
        "graph",
        f"a $batch item answered {item.get('status')} without {wanted}",
        method="POST",
        path="/$batch",
    )


def _item_error(request: _SubRequest, item: Mapping[str, Any]) -> Exception:
    """The typed error a plain request with this status would have raised."""
    headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
    body = item.get("body")
    response = httpx.Response(
        int(item.get("status") or 500),
        headers=headers,
        json=body if body is not None else {},
    )
    return error_for("graph", "GET", request.url, response)


# The Employee attribute each selected property feeds; a property Graph leaves out of
# its answer is unknown, not empty (a downgraded permission answers this way).
_SOURCES = {
    "displayName": Attr.FULL_NAME,
    "mail": Attr.EMAIL,
    "department": Attr.DEPARTMENT,
    "jobTitle": Attr.JOB_TITLE,
    "accountEnabled": Attr.ACTIVE,
}


def parse_user(raw: Mapping[str, Any]) -> DirectoryUser:
    """A :class:`DirectoryUser` from a Graph user object selected with ``USER_SELECT``.

    A selected property missing from the answer is *unknown*. So is a null
    ``accountEnabled``: every user has one, so null is Graph withholding it, and
    the planner then neither activates nor deactivates on it. A null department or
    job title is what Graph answers for an unset one, so it reads as empty; the guard
    rails hold a plan that would empty a field for many people at once.
    """
    unknown = {attr for name, attr in _SOURCES.items() if name not in raw}
    if raw.get("accountEnabled") is None:
        unknown.add(Attr.ACTIVE)
    enabled = raw.get("accountEnabled") is not False
    return DirectoryUser(
        id=str(raw["id"]).strip().lower(),
        display_name=str(raw.get("displayName") or ""),
        mail=raw.get("mail") or None,
        user_principal_name=str(raw.get("userPrincipalName") or ""),
        proxy_addresses=tuple(str(a) for a in raw.get("proxyAddresses") or ()),
        department=raw.get("department") or None,
        job_title=raw.get("jobTitle") or None,
        account_enabled=enabled,
        user_type=raw.get("userType") or None,
        manager=parse_manager(raw.get("manager")),
        unknown=frozenset(unknown),
    )


def parse_manager(raw: Any) -> ManagerRef | None:
    """The expanded manager; ``@odata.type`` is absent for users on some answers."""
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    return ManagerRef(
        id=str(raw["id"]).strip().lower(),
        odata_type=str(raw.get("@odata.type") or GRAPH_USER_TYPE),
        display_name=raw.get("displayName") or None,
    )


def manager_stand_in(raw: Any) -> DirectoryUser | None:
    """A minimal user from expanded manager data, for lookup mode.

    Contacts get none (they can never be an Employee), and neither does a manager
    Graph returned without a userPrincipalName (limited info): an empty UPN would
    match nothing and only pretend to be a user.
    """
    manager = parse_manager(raw)
    if manager is None or manager.odata_type == GRAPH_CONTACT_TYPE:
        return None
    upn = raw.get("userPrincipalName")
    if not upn:
        return None
    return DirectoryUser(
        id=manager.id,
        display_name=str(raw.get("displayName") or ""),
        mail=raw.get("mail") or None,
        user_principal_name=str(upn),
        user_type="Member",
        account_enabled=True,
    )
