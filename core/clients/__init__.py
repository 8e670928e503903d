"""Clients for the APIs the sync talks to: Entra sign-in, Graph, Jira users, Assets.

Each client turns API pages into the frozen values of :mod:`core.sync.models` and sends
every request through :class:`core.clients.http.ApiClient`, so retries, typed errors and
request counts are the same everywhere. Also home to the Assets schema bootstrap.
"""

from core.clients.assets import AssetsClient, EmployeeType, discover_workspace
from core.clients.atlassian import AtlassianDirectory
from core.clients.auth import GraphTokenProvider, explain_graph_permission_error
from core.clients.graph import DirectoryRead, GraphDirectory, prefers_lookup
from core.clients.graph_delta import DELTA_SELECT, DeltaLinkRefused, DeltaRound, directory_view
from core.clients.http import ApiClient, RateLimiter, RequestCounter, RetryPolicy, build_http_client
from core.clients.schema import SchemaReport, ensure_schema, load_employee_type

__all__ = [
    "DELTA_SELECT",
    "ApiClient",
    "AssetsClient",
    "AtlassianDirectory",
    "DeltaLinkRefused",
    "DeltaRound",
    "DirectoryRead",
    "EmployeeType",
    "GraphDirectory",
    "GraphTokenProvider",
    "RateLimiter",
    "RequestCounter",
    "RetryPolicy",
    "SchemaReport",
    "build_http_client",
    "directory_view",
    "discover_workspace",
    "ensure_schema",
    "explain_graph_permission_error",
    "load_employee_type",
    "prefers_lookup",
]
