"""The sandbox: one stateful handler for every API the engine talks to.

It dispatches on the URL path only, so the same instance serves in-process clients
that use distinct fake hosts (through :meth:`Sandbox.transport`) and the HTTPS server
that puts everything on one loopback origin.

Jira and Assets also answer under the API gateway's prefix, ``/ex/jira/<cloud id>``,
as api.atlassian.com does for scoped API tokens: the prefix is taken off, the request
is marked as having come through the gateway (which decides the token kind the
handlers accept, :func:`core.sandbox.atlassian.require_site_auth`), and it is
dispatched like any other. The request log keeps the path as it was received.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import httpx

from core.sandbox.assets import handle_assets
from core.sandbox.assets_objects import ObjectRenderer
from core.sandbox.atlassian import handle_admin, handle_jira
from core.sandbox.builder import Builder
from core.sandbox.credentials import SANDBOX_CLOUD_ID
from core.sandbox.faults import Answer, Fault, FaultBook
from core.sandbox.graph import handle_graph
from core.sandbox.graph_query import USER_PROPERTIES
from core.sandbox.http import GATEWAY, HttpError, admin_error, json_response
from core.sandbox.login import handle_login, is_login_path
from core.sandbox.org import generate_org
from core.sandbox.records import SandboxAccount, SandboxContact, SandboxOrg, SandboxUser
from core.sandbox.state import SandboxState
from core.sync import OBJECT_TYPE_NAME

__all__ = ["Answer", "Fault", "Sandbox", "classify"]


def classify(path: str) -> str:
    """The service a path belongs to; the five path families never overlap."""
    parts = path.split("/")[1:]
    if parts[0] == "v1.0":
        return "graph"
    if parts[0] in ("rest", "_edge"):
        return "jira"
    if parts[0] == "admin":
        return "admin"
    if parts[:2] == ["jsm", "assets"]:
        return "assets"
    return "login" if is_login_path(parts) else "other"


class Sandbox:
    """Stateful stand-in for login, Graph, Jira, the org admin API and Assets.

    Thread-safe: one lock guards all state, so the threaded HTTPS server can share it.
    ``requests`` counts requests received per service (a Graph ``$batch`` is one).
    """

    def __init__(
        self,
        org: SandboxOrg | None = None,
        *,
        seed: int = 7,
        people: int = 60,
        atlassian: int = 45,
        latency: float = 0.0,
    ) -> None:
        self.org = org if org is not None else generate_org(seed, people, atlassian)
        self.latency = latency
        self.requests: Counter[str] = Counter()
        self.request_log: list[tuple[str, str, str]] = []
        self._state = SandboxState.from_org(self.org)
        self._faults = FaultBook()
        self._builder = Builder.resume(self.org)
        self._lock = threading.RLock()

    # -- HTTP ------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request, or raise the transport error of a timeout or reset fault.

        A fault ``after_processing``, or one that spoils the ``answer``, lets the
        request change the state first (see :class:`Fault`).
        """
        request.read()
        received = request.url.path
        request, refusal = _through_gateway(request)
        service = classify(request.url.path)
        if self.latency > 0:
            time.sleep(self.latency)
        query = request.url.query.decode("ascii", "replace")
        target = unquote(received + (f"?{query}" if query else ""))
        with self._lock:
            self.requests[service] += 1
            self.request_log.append((service, request.method, received))
            fault = self._faults.take(service, request.method, target, batch_item=False)
            if fault is None:
                return refusal or self._dispatch(service, request)
            answer = (refusal or self._dispatch(service, request)) if fault.processes else None
        if answer is not None and fault.answer is not None:
            return fault.spoil(service, answer)
        return fault.fail(service, request)  # after processing: the work is done, the answer lost

    def _dispatch(self, service: str, request: httpx.Request) -> httpx.Response:
        handlers: dict[str, Callable[[SandboxState, httpx.Request], httpx.Response]] = {
            "graph": lambda state, req: handle_graph(state, req, self._faults),
            "login": handle_login,
            "jira": handle_jira,
            "admin": handle_admin,
            "assets": handle_assets,
        }
        handler = handlers.get(service)
        if handler is None:
            message = f"The sandbox has no endpoint for {request.method} {request.url.path}"
            return json_response(404, {"error": "not_found", "message": message})
        try:
            return handler(self._state, request)
        except HttpError as error:
            return error.response()

    def transport(self) -> httpx.MockTransport:
        """An in-process transport for ``httpx.Client(transport=...)``."""
        return httpx.MockTransport(self.handle)

    def clone(self) -> Sandbox:
        """An independent copy of everything this sandbox knows, and no faults.

        Directory, accounts, issued tokens and the Assets workspace are copied, and so
        is the stream new hires draw from, so the same :meth:`hire` on two clones makes
        the same person. Request counts start at zero; latency is kept.
        """
        with self._lock:
            twin = Sandbox(self.org, latency=self.latency)
            twin._state = copy.deepcopy(self._state)
            twin._builder = copy.deepcopy(self._builder)
        return twin

    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_log.clear()

    # -- read access -----------------------------------------------------------------
    @property
    def directory_users(self) -> dict[str, SandboxUser]:
        """Current directory users by id (a copy; deleted users are absent)."""
        with self._lock:
            return dict(self._state.users)

    @property
    def atlassian_accounts(self) -> dict[str, SandboxAccount]:
        with self._lock:
            return dict(self._state.accounts)

    @property
    def contacts(self) -> dict[str, SandboxContact]:
        with self._lock:
            return dict(self._state.contacts)

    def employees(self) -> list[dict[str, Any]]:
        """Stored objects of every type named Employee, attributes by name."""
        with self._lock:
            store = self._state.assets
            renderer = ObjectRenderer(store, self._state.accounts)
            return [
                {
                    "id": obj.id,
                    "objectKey": obj.key,
                    "objectTypeId": obj.object_type_id,
                    "label": renderer.label(obj),
                    "attributes": renderer.plain_values(obj),
                }
                for obj in store.objects.values()
                if store.types[obj.object_type_id].name == OBJECT_TYPE_NAME
            ]

    # -- mutations for the demo and tests ---------------------------------------------
    # Every change to a directory user goes through ``SandboxState.record`` first, so
    # users/delta can say what changed since any token it issued.
    def _change_user(self, user_id: str, **changes: Any) -> None:
        with self._lock:
            self._state.record([user_id])
            self._state.users[user_id] = replace(self._state.users[user_id], **changes)

    def revoke_browse_users(self) -> None:
        """Take the sync account's Browse users and groups permission: user search is 403."""
        with self._lock:
            self._state.browse_users = False

    def disable_user(self, user_id: str) -> None:
        self._change_user(user_id, account_enabled=False)

    def enable_user(self, user_id: str) -> None:
        self._change_user(user_id, account_enabled=True)

    def rename_user(self, user_id: str, display_name: str) -> None:
        self._change_user(user_id, display_name=display_name)

    def downgrade_graph_permission(self) -> None:
        """Graph keeps answering, but as for ``User.ReadBasic.All``: only the basic profile.

        Selected properties outside it (accountEnabled, department, jobTitle,
        proxyAddresses, userType) come back null, the quiet failure a changed app
        permission causes. No user changes, so a delta round from an earlier token
        lists nobody for it; users who change come with those properties null.
        """
        basic = {"id", "displayName", "givenName", "surname", "mail", "userPrincipalName"}
        with self._lock:
            self._state.withheld = frozenset(USER_PROPERTIES) - basic

    def set_job_title(self, user_id: str, title: str | None) -> None:
        self._change_user(user_id, job_title=title)

    def set_manager(self, user_id: str, manager_id: str | None) -> None:
        """Give ``user_id`` a new manager (a user or contact id), or none."""
        with self._lock:
            if manager_id is not None and not (
                manager_id in self._state.users or manager_id in self._state.contacts
            ):
                raise KeyError(f"no user or contact with id {manager_id}")
            self._change_user(user_id, manager_id=manager_id)

    def delete_user(self, user_id: str) -> None:
        """Gone from Graph: absent from listings and 404 by id; restorable.

        Graph names no manager for the user's reports any more, so they change too.
        """
        with self._lock:
            self._state.record([user_id, *self._state.reports(user_id)])
            self._state.deleted[user_id] = self._state.users.pop(user_id)

    def restore_user(self, user_id: str) -> None:
        """A deleted user back from Entra's deleted items, with their manager links."""
        with self._lock:
            user = self._state.deleted.pop(user_id)
            self._state.record([user_id, *self._state.reports(user_id)])
            self._state.users[user_id] = user

    def revoke_access_tokens(self) -> None:
        """Refuse every Graph access token issued so far with a 401, as Graph refuses a
        token whose app lost its consent or whose tenant revoked it; new ones work."""
        with self._lock:
            self._state.tokens.clear()

    def expire_delta_tokens(self, *, gone: bool = False) -> None:
        """Refuse every users/delta token issued so far: ``400 syncStateNotFound`` as
        Graph answers one older than seven days, or with ``gone`` ``410 resyncRequired``."""
        with self._lock:
            self._state.delta.epoch += 1
            self._state.delta.gone = gone

    def hire(
        self, display_name: str, department: str | None, job_title: str | None,
        manager_id: str | None,
    ) -> str:  # fmt: skip
        """A new enabled user plus a matching active Atlassian account; returns the user id."""
        first, _, last = display_name.strip().partition(" ")
        with self._lock:
            if manager_id is not None and not (
                manager_id in self._state.users or manager_id in self._state.contacts
            ):
                raise KeyError(f"no user or contact with id {manager_id}")
            user = self._builder.member(department, job_title, manager_id, (first, last))
            user = replace(user, display_name=display_name.strip(), surname=last)
            self._state.record([user.id])
            self._state.users[user.id] = user
            account = self._builder.account_for(user)
            self._state.accounts[account.account_id] = account
            return user.id

    def set_mail(self, user_id: str, mail: str | None) -> None:
        """Change a user's ``mail`` (None: the user has no mailbox)."""
        self._change_user(user_id, mail=mail)

    def set_account_email(
        self, account_id: str, email: str, *, visible: bool, managed: bool = True
    ) -> None:
        """A person changed their Atlassian email; ``visible`` is their profile setting.

        ``managed``: on the org's verified domain, so the org admin list shows it.
        """
        with self._lock:
            account = self._state.accounts[account_id]
            self._state.accounts[account_id] = replace(
                account, email=email, visible=visible, managed=managed
            )

    def rename_attribute(self, name: str, new_name: str) -> None:
        """Rename an Employee attribute, as its schema owner could; values stay."""
        with self._lock:
            store = self._state.assets
            for attr in store.attributes.values():
                if store.types[attr.object_type_id].name == OBJECT_TYPE_NAME and attr.name == name:
                    attr.name = new_name

    def deactivate_account(self, account_id: str) -> None:
        with self._lock:
            account = self._state.accounts[account_id]
            self._state.accounts[account_id] = replace(account, active=False)

    def set_unique(self, attribute: str, unique: bool) -> None:
        """Make an Employee attribute unique or not, as its schema owner could."""
        with self._lock:
            store = self._state.assets
            for attr in list(store.attributes.values()):
                kind = store.types[attr.object_type_id]
                if kind.name == OBJECT_TYPE_NAME and attr.name == attribute:
                    store.set_unique(attr, unique)

    def create_foreign_schema(self, name: str = "Legacy HR", key: str = "ENTRA") -> str:
        """Plant a schema someone else made with our key; returns its id."""
        with self._lock:
            body = {"name": name, "objectSchemaKey": key, "description": "Not ours"}
            return self._state.assets.create_schema(body).id

    def limit_schema_pages(self, size: int) -> None:
        """Hold at most ``size`` schemas in one ``objectschema/list`` page.

        Assets documents no maximum for that page; a small one lets a test with a
        handful of schemas show that a client reads every page.
        """
        with self._lock:
            self._state.assets.schema_page_limit = size


def _through_gateway(request: httpx.Request) -> tuple[httpx.Request, httpx.Response | None]:
    """A request under ``/ex/jira/<cloud id>/``, as the service behind the gateway sees it.

    Returns the request with the prefix taken off and marked as having come through the
    gateway, or the request as it was. A cloud id that is not the site's is answered
    404 by the gateway itself (the second value), before any service sees it.
    """
    parts = request.url.path.split("/")
    if parts[1:3] != ["ex", "jira"] or len(parts) < 5:
        return request, None
    if parts[3] != SANDBOX_CLOUD_ID:
        return request, admin_error(404, f"No site with cloud id {parts[3]}").response()
    inner = httpx.Request(
        request.method,
        request.url.copy_with(path="/" + "/".join(parts[4:])),
        headers=request.headers,
        content=request.content,
        extensions={**request.extensions, GATEWAY: True},
    )
    return inner, None
