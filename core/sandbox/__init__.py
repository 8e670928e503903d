"""A local, stateful stand-in for Entra login, Graph, Jira, the org admin API and Assets.

Used in-process through :meth:`Sandbox.transport` (tests, demo) and over real HTTPS on
loopback through :class:`SandboxServer`.
"""

from core.sandbox.app import Answer, Fault, Sandbox
from core.sandbox.credentials import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_EMAIL,
    SANDBOX_ATLASSIAN_SCOPED_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_CLOUD_ID,
    SANDBOX_ORG_API_KEY,
    SANDBOX_ORG_ID,
    SANDBOX_TENANT_ID,
)
from core.sandbox.org import SandboxOrg, generate_org
from core.sandbox.server import SandboxServer, settings_env

__all__ = [
    "SANDBOX_ATLASSIAN_API_TOKEN",
    "SANDBOX_ATLASSIAN_EMAIL",
    "SANDBOX_ATLASSIAN_SCOPED_TOKEN",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_CLOUD_ID",
    "SANDBOX_ORG_API_KEY",
    "SANDBOX_ORG_ID",
    "SANDBOX_TENANT_ID",
    "Answer",
    "Fault",
    "Sandbox",
    "SandboxOrg",
    "SandboxServer",
    "generate_org",
    "settings_env",
]
