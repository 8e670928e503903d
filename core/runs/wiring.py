"""Builds the API clients a run needs from settings and the stored Entra connection.

Process-wide on purpose: one httpx client (connection reuse) and one MSAL application
per connection (its token cache means one token request per hour, not per run).
"""

from __future__ import annotations

import base64
import hashlib
import threading

import httpx

from core.clients import (
    ApiClient,
    AssetsClient,
    AtlassianDirectory,
    EmployeeType,
    GraphDirectory,
    GraphTokenProvider,
    RateLimiter,
    RequestCounter,
    RetryPolicy,
    build_http_client,
    discover_workspace,
)
from core.config import Settings
from core.errors import ConfigError, FieldProblem
from core.store import AssetsIds, Store


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
        self._workspace: str | None = None
        # 0 turns client-side pacing off: for the sandbox, which has no rate limit.
        rate = settings.assets_requests_per_minute
        self._limiter = RateLimiter(rate) if rate > 0 else None

    def close(self) -> None:
        self.http.close()

    def _basic_auth(self) -> dict[str, str]:
        self._settings.require_atlassian()
        pair = f"{self._settings.atlassian_email}:{self._settings.atlassian_api_token}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def site(self) -> ApiClient:
        """The Jira site (user search, Assets workspace discovery)."""
        return ApiClient(
            "jira",
            self._settings.atlassian_site or "",
            self.http,
            counter=self.counter,
            retry=self._retry,
            headers=self._basic_auth,
        )

    def atlassian(self) -> AtlassianDirectory:
        settings = self._settings
        admin = None
        if settings.atlassian_org_id and settings.atlassian_org_api_key:
            key = settings.atlassian_org_api_key
            admin = ApiClient(
                "admin",
                settings.atlassian_api_url,
                self.http,
                counter=self.counter,
                retry=self._retry,
                headers=lambda: {"Authorization": f"Bearer {key}"},
            )
        return AtlassianDirectory(self.site(), admin, settings.atlassian_org_id)

    def assets(self) -> AssetsClient:
        """Assets on the site's workspace.

        The workspace id is looked up once and kept in the database, so a run in a new
        process does not ask again; :meth:`forget_workspace` drops it (on a 404).
        """
        site = self.site()
        with self._lock:
            if self._workspace is None:
                self._workspace = self._stored_workspace() or self._discover(site)
            workspace = self._workspace
        base = f"{self._settings.atlassian_api_url}/jsm/assets/workspace/{workspace}/v1"
        api = ApiClient(
            "assets",
            base,
            self.http,
            counter=self.counter,
            retry=self._retry,
            headers=self._basic_auth,
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
        with self._lock:
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
        with self._lock:
            self._workspace = None
        self._store.forget_assets_ids(self._site_key())

    def directory(self, *, priority: str | None = None) -> GraphDirectory:
        """Graph with the stored Entra connection's token."""
        tokens = self.token_provider()
        api = ApiClient(
            "graph",
            f"{self._settings.graph_url}/v1.0",
            self.http,
            counter=self.counter,
            retry=self._retry,
            headers=tokens.headers,
        )
        return GraphDirectory(api, priority=priority)

    def token_provider(self) -> GraphTokenProvider:
        """The sign-in for the stored Entra connection, shared by every Graph client."""
        connection = self._store.connection()
        if connection is None:
            raise ConfigError(
                [FieldProblem("entra connection", "not configured: run `entra-sync configure`")]
            )
        secret = self._store.client_secret()
        fingerprint = hashlib.sha256(
            f"{connection.tenant_id}|{connection.client_id}|{secret}".encode()
        ).hexdigest()
        with self._lock:
            provider = self._tokens.get(fingerprint)
            if provider is None:
                provider = GraphTokenProvider(
                    connection.tenant_id,
                    connection.client_id,
                    secret,
                    login_url=self._settings.login_url,
                    graph_url=self._settings.graph_url,
                    http=self.http,
                    counter=self.counter,
                    retry=self._retry,
                )
                self._tokens = {fingerprint: provider}
            return provider
