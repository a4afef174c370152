"""Services shared by the Bridge's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.services import Service, free_port, start_tracker


@pytest.fixture(scope="session")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The WebSocket tracker (the devstack's), one for every test that needs one."""
    service = start_tracker(tmp_path_factory.mktemp("tracker"), free_port())
    yield service
    service.stop()
