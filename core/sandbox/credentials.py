"""Fixed credentials the sandbox accepts.

They are public on purpose: the sandbox is a local stand-in, and the demo, the tests and
``entra-sync configure`` all need to agree on them without any secret store.
"""

from __future__ import annotations

SANDBOX_TENANT_ID = "0f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5"
SANDBOX_CLIENT_ID = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - public sandbox credential
SANDBOX_ATLASSIAN_EMAIL = "sync-bot@example.com"
SANDBOX_ATLASSIAN_API_TOKEN = "sandbox-api-token"  # noqa: S105 - public sandbox credential
# The same account's token made with scopes: accepted only through the API gateway.
SANDBOX_ATLASSIAN_SCOPED_TOKEN = "sandbox-scoped-api-token"  # noqa: S105 - public sandbox credential
SANDBOX_ORG_ID = "sandbox-org"
SANDBOX_ORG_API_KEY = "sandbox-org-api-key"

SANDBOX_DOMAIN = "contoso.example"
SANDBOX_CLOUD_ID = "5d3c8e2a-9f41-4b7c-a6e0-2b8d1f7c4e93"  # the site's, from /_edge/tenant_info
