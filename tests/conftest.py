"""Test collection: e2e markers, and WebRTC tests skipped outside the private network namespace; the services
every kind of test may share (PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.services import free_port, start_postgres
from tests.postgres import PostgresServer


def in_private_netns() -> bool:
    return os.environ.get("ASKNOSTR_NETNS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in Path(str(item.fspath)).as_posix():
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("webrtc") and not in_private_netns():
            item.add_marker(pytest.mark.skip(reason="WebRTC needs the private network namespace (tools/netns.sh)"))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run; each test that needs a database makes its own in it."""
    server = PostgresServer(start_postgres(tmp_path_factory.mktemp("postgres"), free_port()))
    yield server
    server.service.stop(30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The Bridge's --database-url, for a module run on both engines: "" (SQLite) or a new PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()
