"""Microsoft national clouds: where to sign in and where Graph lives.

Each national cloud is a separate deployment with its own login authority and Graph
host, so a tenant in one cannot be reached through the endpoints of another. The
settings pick one of these by name; both URLs can still be overridden one by one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cloud:
    """The two endpoints a national cloud needs: https, no trailing slash."""

    login_url: str
    graph_url: str


CLOUDS: dict[str, Cloud] = {
    "global": Cloud("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": Cloud("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "dod": Cloud("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": Cloud("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}

DEFAULT_CLOUD = "global"
