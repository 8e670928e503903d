"""The installed version of entra-assets-sync.

One place answers "which release is this?" for `--version`, the start-up log line,
`status`, the App Home and `/readyz`, so they can never disagree.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version

DISTRIBUTION = "entra-assets-sync"


def version() -> str:
    """The version pip installed; "0+unknown" when run from a tree that was never installed."""
    try:
        return distribution_version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
