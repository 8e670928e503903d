"""The PostgreSQL server these tests share (one per session), and a database per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.postgres.server import (
    REQUIRE_ENV,
    PostgresServer,
    Unavailable,
    find_bindir,
    require_psycopg,
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        require_psycopg()
        server = PostgresServer(find_bindir())
    except Unavailable as missing:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{missing} ({REQUIRE_ENV}=1 makes this a failure)")
        pytest.skip(str(missing))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database()
