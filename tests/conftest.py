"""Test collection: e2e markers, and WebRTC tests skipped outside the private network namespace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def in_private_netns() -> bool:
    return os.environ.get("ASKNOSTR_NETNS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in Path(str(item.fspath)).as_posix():
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("webrtc") and not in_private_netns():
            item.add_marker(pytest.mark.skip(reason="WebRTC needs the private network namespace (tools/netns.sh)"))
