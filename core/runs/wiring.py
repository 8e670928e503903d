"""Builds the API clients a run needs from settings and the stored Entra connection.

Process-wide on purpose: one httpx client (connection reuse) and one MSAL application
per connection (its token cache means one token request per hour, not per run). The
site's cloud id (scoped tokens only) and its Assets workspace id are looked up once
per process, too: neither changes while it runs.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Mapping

import httpx

from core.clients import (
    ApiClient,
    AssetsClient,
    AtlassianDirectory,
    AtlassianRoutes,
    EmployeeType,
    GraphDirectory,
    GraphTokenProvider,
    RateLimiter,
    RequestCounter,
    RetryPolicy,
    SignInMemory,
    build_http_client,
    discover_cloud_id,
    discover_workspace,
)
from core.config import ENV_ATLASSIAN_ORG_API_KEY, ENV_ATLASSIAN_ORG_ID, Settings, TokenKind
from core.errors import ConfigError, FieldProblem
from core.store import AssetsIds, Store

ORG_KEY_HINT = (
    f"the organization refused the key: check {ENV_ATLASSIAN_ORG_API_KEY} (an API key of "
    f"the organization, from admin.atlassian.com > Settings > API keys, not expired) and "
    f"that {ENV_ATLASSIAN_ORG_ID} is that organization's id"
)


class Clients:
    """Factory and cache of API clients; ``counter`` sees every request they send."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._retry = retry or RetryPolicy()
        self.counter = RequestCounter()
        self.http = build_http_client(timeout=settings.http_timeout, transport=transport)
        self._lock = threading.Lock()
        self._tokens: dict[str, GraphTokenProvider] = {}
        # Held while the cloud id or workspace id is looked up, so concurrent first
        # runs ask once; apart from _lock, which guards the token providers.
        self._lookups = threading.RLock()
        self._workspace: str | None = None
        self._cloud_id: str | None = None
        # 0 turns client-side pacing off: for the sandbox, which has no rate limit.
        rate = settings.assets_requests_per_minute
        self._limiter = RateLimiter(rate) if rate > 0 else None

    def close(self) -> None:
        self.http.close()

    def _basic_auth(self) -> dict[str, str]:
        self._settings.require_atlassian()
        pair = f"{self._settings.atlassian_email}:{self._settings.atlassian_api_token}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def routes(self) -> AtlassianRoutes:
        """Where Jira and Assets requests go for the configured kind of API token.

        A scoped token needs the site's cloud id: the first call asks the site for it
        (without credentials) and later calls reuse it.
        """
        settings = self._settings
        kind = settings.atlassian_token_kind
        site, api = settings.atlassian_site or "", settings.atlassian_api_url
        if kind is TokenKind.CLASSIC:
            return AtlassianRoutes(kind, site, api)
        settings.require_atlassian()
        with self._lookups:
            if self._cloud_id is None:
                self._cloud_id = discover_cloud_id(self._client("jira", site))
            return AtlassianRoutes(kind, site, api, self._cloud_id)

    def _client(
        self,
        service: str,
        base_url: str,
        *,
        headers: Callable[[], Mapping[str, str]] | None = None,
        unauthorized_hint: str | None = None,
        limiter: RateLimiter | None = None,
        renew: Callable[[], bool] | None = None,
    ) -> ApiClient:
        return ApiClient(
            service,
            base_url,
            self.http,
            counter=self.counter,
            retry=self._retry,
            headers=headers,
            limiter=limiter,
            unauthorized_hint=unauthorized_hint,
            renew=renew,
        )

    def site(self) -> ApiClient:
        """Jira (user search, Assets workspace discovery): the site, or the gateway."""
        routes = self.routes()
        return self._client(
            "jira",
            routes.jira_base,
            headers=self._basic_auth,
            unauthorized_hint=routes.unauthorized_hint(),
        )

    def org_admin(self) -> ApiClient | None:
        """The organization admin API, when its id and key are both set."""
        settings = self._settings
        key = settings.atlassian_org_api_key
        if not (settings.atlassian_org_id and key):
            return None
        return self._client(
            "admin",
            settings.atlassian_api_url,
            headers=lambda: {"Authorization": f"Bearer {key}"},
            unauthorized_hint=ORG_KEY_HINT,
        )

    def atlassian(self) -> AtlassianDirectory:
        return AtlassianDirectory(self.site(), self.org_admin(), self._settings.atlassian_org_id)

    def workspace(self) -> str:
        """The site's Assets workspace id.

        Looked up once and kept in the database, so a run in a new process does not
        ask again; :meth:`forget_workspace` drops it (on a 404).
        """
        site = self.site()
        with self._lookups:
            if self._workspace is None:
                self._workspace = self._stored_workspace() or self._discover(site)
            return self._workspace

    def look_up_workspace(self) -> str:
        """Ask Jira for the workspace id now, whatever is kept, and keep the answer.

        The connection check calls this: a kept id would otherwise pass the step
        without the credential ever being tried.
        """
        site = self.site()
        with self._lookups:
            self._workspace = self._discover(site)
            return self._workspace

    def assets(self) -> AssetsClient:
        """Assets on the site's workspace."""
        routes = self.routes()
        api = self._client(
            "assets",
            routes.assets_base(self.workspace()),
            headers=self._basic_auth,
            unauthorized_hint=routes.unauthorized_hint(),
            limiter=self._limiter,
        )
        return AssetsClient(api)

    def _stored_workspace(self) -> str | None:
        ids = self._store.assets_ids(self._site_key())
        return ids.workspace_id if ids is not None else None

    def _discover(self, site: ApiClient) -> str:
        workspace = discover_workspace(site)
        self._store.save_workspace(self._site_key(), workspace)
        return workspace

    def _site_key(self) -> str:
        return (self._settings.atlassian_site or "").rstrip("/").lower()

    def stored_assets_ids(self) -> AssetsIds | None:
        """The site's stored Assets ids, if a run kept them."""
        return self._store.assets_ids(self._site_key())

    def keep_employee_type(self, employee_type: EmployeeType) -> None:
        """Store the Employee type's ids for the site's current workspace."""
        with self._lookups:
            workspace = self._workspace
        if workspace is None:
            return
        self._store.save_employee_type_ids(
            self._site_key(),
            workspace,
            employee_type.schema_id,
            employee_type.object_type_id,
            {attr.value: attr_id for attr, attr_id in employee_type.attribute_ids},
        )

    def forget_workspace(self) -> None:
        """Drop the stored Assets ids; the next :meth:`assets` looks the workspace up."""
        with self._lookups:
            self._workspace = None
        self._store.forget_assets_ids(self._site_key())

    def directory(self, *, priority: str | None = None) -> GraphDirectory:
        """Graph with the stored Entra connection's token."""
        tokens = self.token_provider()
        api = self._client(
            "graph", f"{self._settings.graph_url}/v1.0", headers=tokens.headers, renew=tokens.renew
        )
        return GraphDirectory(api, priority=priority)

    def token_provider(self) -> GraphTokenProvider:
        """The sign-in for the stored Entra connection, shared by every Graph client."""
        tenant_id, client_id, secret = self._credentials()
        fingerprint = hashlib.sha256(f"{tenant_id}|{client_id}|{secret}".encode()).hexdigest()
        with self._lock:
            provider = self._tokens.get(fingerprint)
            if provider is None:
                memory = self._store.sign_in_memory(fingerprint)
                provider = self._provider(tenant_id, client_id, secret, memory)
                self._tokens = {fingerprint: provider}
            return provider

    def fresh_token_provider(self) -> GraphTokenProvider:
        """A sign-in that asks Entra now: no token this process or an earlier one kept.

        The connection check uses it, so "signed in" proves the stored secret works today.
        """
        return self._provider(*self._credentials(), None)

    def _credentials(self) -> tuple[str, str, str]:
        connection = self._store.connection()
        if connection is None:
            raise ConfigError(
                [FieldProblem("entra connection", "not configured: run `entra-sync configure`")]
            )
        return connection.tenant_id, connection.client_id, self._store.client_secret()

    def _provider(
        self, tenant_id: str, client_id: str, secret: str, memory: SignInMemory | None
    ) -> GraphTokenProvider:
        return GraphTokenProvider(
            tenant_id,
            client_id,
            secret,
            login_url=self._settings.login_url,
            graph_url=self._settings.graph_url,
            http=self.http,
            counter=self.counter,
            retry=self._retry,
            memory=memory,
        )
