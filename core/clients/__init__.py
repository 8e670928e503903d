"""Clients for the APIs the sync talks to: Entra sign-in, Graph, Jira users, Assets.

Each client turns API pages into the frozen values of :mod:`core.sync.models` and sends
every request through :class:`core.clients.http.ApiClient`, so retries, typed errors and
request counts are the same everywhere. Also home to the Assets schema bootstrap.
"""

from core.clients.assets import AssetsClient, AttributeInfo, EmployeeType, discover_workspace
from core.clients.atlassian import AtlassianDirectory, OrgEmails, with_emails
from core.clients.auth import GraphTokenProvider, SignInMemory, explain_graph_permission_error
from core.clients.gateway import AtlassianRoutes, discover_cloud_id
from core.clients.graph import DirectoryRead, GraphDirectory, prefers_lookup
from core.clients.graph_delta import DELTA_SELECT, DeltaLinkRefused, DeltaRound, directory_view
from core.clients.http import ApiClient, RateLimiter, RequestCounter, RetryPolicy, build_http_client
from core.clients.schema import (
    SchemaChanged,
    SchemaReport,
    check_attribute_ids,
    ensure_schema,
    find_our_schema,
    load_employee_type,
)

__all__ = [
    "DELTA_SELECT",
    "ApiClient",
    "AssetsClient",
    "AtlassianDirectory",
    "AtlassianRoutes",
    "AttributeInfo",
    "DeltaLinkRefused",
    "DeltaRound",
    "DirectoryRead",
    "EmployeeType",
    "GraphDirectory",
    "GraphTokenProvider",
    "OrgEmails",
    "RateLimiter",
    "RequestCounter",
    "RetryPolicy",
    "SchemaChanged",
    "SchemaReport",
    "SignInMemory",
    "build_http_client",
    "check_attribute_ids",
    "directory_view",
    "discover_cloud_id",
    "discover_workspace",
    "ensure_schema",
    "explain_graph_permission_error",
    "find_our_schema",
    "load_employee_type",
    "prefers_lookup",
    "with_emails",
]
