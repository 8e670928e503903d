"""Clients for the APIs the sync talks to: Entra sign-in, Graph, Jira users, Assets.

Each client turns API pages into the frozen values of :mod:`core.models` and sends
every request through :class:`core.http.ApiClient`, so retries, typed errors and
request counts are the same everywhere. Import from the submodules directly.
"""
