"""Where Jira and Assets requests go, for each kind of Atlassian API token.

A classic API token (made without scopes) is sent with basic auth to the site,
``https://<site>.atlassian.net/<path>``, and Assets to
``https://api.atlassian.com/jsm/assets/workspace/<id>/v1``. A scoped token (made with
scopes; a service account can make no other kind) is refused there with a 401: the
same paths must go through the gateway, ``https://api.atlassian.com/ex/jira/<cloud
id>/<path>``, Assets included. The cloud id comes from the site's
``/_edge/tenant_info``, which answers without credentials.

Every base URL is built here, in :class:`AtlassianRoutes`, so that the one shape not
yet seen on a real site (Assets under the gateway, see docs/real-tenant-checklist.md)
is one line to change. What a 401 should make the operator check depends on the
token's kind too: :meth:`AtlassianRoutes.unauthorized_hint`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.clients.http import ApiClient
from core.config import (
    ENV_ATLASSIAN_API_TOKEN,
    ENV_ATLASSIAN_EMAIL,
    ENV_ATLASSIAN_SITE,
    ENV_ATLASSIAN_TOKEN_KIND,
    TokenKind,
)
from core.errors import UnreadableAnswer

TENANT_INFO_PATH = "_edge/tenant_info"
ACCESS_DOC = "docs/atlassian-access.md"
_CLOUD_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def discover_cloud_id(site: ApiClient) -> str:
    """The site's cloud id, from ``GET /_edge/tenant_info`` (``{"cloudId": "..."}``).

    The id becomes part of every gateway URL, so anything but a plain id (a UUID on
    every site seen) is refused rather than put in a path.
    """
    answer = site.get_json(TENANT_INFO_PATH)
    cloud_id = answer.get("cloudId") if isinstance(answer, dict) else None
    if not isinstance(cloud_id, str) or _CLOUD_ID.fullmatch(cloud_id) is None:
        raise UnreadableAnswer(
            site.service,
            f"/{TENANT_INFO_PATH} did not answer with a cloud id: check that "
            f"{ENV_ATLASSIAN_SITE} is the Jira site's URL, https://<site>.atlassian.net",
            method="GET",
            path=f"/{TENANT_INFO_PATH}",
        )
    return cloud_id


@dataclass(frozen=True)
class AtlassianRoutes:
    """The base URLs of Jira and Assets for one token kind (and the site's cloud id)."""

    kind: TokenKind
    site_url: str
    api_url: str
    cloud_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind is TokenKind.SCOPED and not self.cloud_id:
            raise ValueError("a scoped token's routes need the site's cloud id")

    @property
    def _gateway(self) -> str:
        return f"{self.api_url}/ex/jira/{self.cloud_id}"

    @property
    def jira_base(self) -> str:
        """Jira's REST root (user search, Assets workspace discovery)."""
        return self.site_url if self.kind is TokenKind.CLASSIC else self._gateway

    def assets_base(self, workspace_id: str) -> str:
        """The Assets REST root of the workspace.

        Scoped: the documented gateway form, ``/ex/jira/<cloud id>/jsm/assets/...``
        (to be confirmed on a real site, docs/real-tenant-checklist.md).
        """
        root = self.api_url if self.kind is TokenKind.CLASSIC else self._gateway
        return f"{root}/jsm/assets/workspace/{workspace_id}/v1"

    def unauthorized_hint(self) -> str:
        """What to check when Jira or Assets answers 401: it depends on the token's kind."""
        if self.kind is TokenKind.CLASSIC:
            return (
                f"Atlassian refused the classic API token ({ENV_ATLASSIAN_TOKEN_KIND}=classic): "
                f"check {ENV_ATLASSIAN_EMAIL} and {ENV_ATLASSIAN_API_TOKEN} (an API token of "
                f"that account, made without scopes, not revoked or expired) and that "
                f"{ENV_ATLASSIAN_SITE} is the site's URL; a token made with scopes (every "
                f"service account token is) needs {ENV_ATLASSIAN_TOKEN_KIND}=scoped"
            )
        return (
            f"Atlassian refused the scoped API token ({ENV_ATLASSIAN_TOKEN_KIND}=scoped, sent "
            f"through the gateway): check {ENV_ATLASSIAN_EMAIL} (the service account's email) "
            f"and {ENV_ATLASSIAN_API_TOKEN} (a token made with scopes, not revoked or "
            f"expired), that the token has every scope {ACCESS_DOC} lists, and that the "
            f"account has access to the Jira site {ENV_ATLASSIAN_SITE} names (cloud id "
            f"{self.cloud_id}) and to Assets; a token made without scopes needs "
            f"{ENV_ATLASSIAN_TOKEN_KIND}=classic"
        )
