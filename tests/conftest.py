"""Test collection: e2e markers, and WebRTC tests skipped outside the private network namespace; the services
every kind of test may share (PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.services import free_port, start_postgres, start_seaweedfs
from tests.backends import BridgeBackend, ObjectStore, PostgresServer, fleet_backend


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


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    """One real SeaweedFS (S3) for the whole run; each test that needs a bucket has its own."""
    store = ObjectStore(start_seaweedfs(tmp_path_factory.mktemp("seaweedfs")))
    yield store
    store.service.kill()  # its own SIGTERM takes tens of seconds, and nothing of it is kept


@pytest.fixture(scope="module", params=["local", "fleet"])
def bridge_backend(request: pytest.FixtureRequest) -> BridgeBackend:
    """For a module run twice: a Bridge on SQLite and its own disk (`local`, the default), then on what a fleet
    shares (`fleet`: a new PostgreSQL database and a new S3 bucket)."""
    if request.param == "local":
        return BridgeBackend("local")
    return fleet_backend(request.getfixturevalue("postgres"), request.getfixturevalue("seaweedfs"))
