"""Followers' browsers, not the Bridge, carry a post to a new viewer (issue 25): on the simulated internet
(tests/e2e/community.py, the scenario of bench/offload.py with a smaller mix), a creator posts a video, the Bridge
pinged as usual; three followers behind home and symmetric NATs hold it by themselves; then a viewer plays it and
gets nearly all of its bytes from browsers, while the Bridge's upload counter grows by less than half the file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Playwright

from tests.e2e.community import Mix, World, community, run_scenario, table

MIX = Mix(followers=("cone", "cone", "symmetric"), viewers=("cone",), size=10_000_000, follower_wait=60)
FROM_BROWSERS = 0.9  # of the viewer's bytes
BRIDGE_AT_MOST = 0.5  # of the file, uploaded by the Bridge while the viewer plays


@pytest.fixture
def world(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with community(playwright, tmp_path_factory.mktemp("community"), MIX) as built:
        yield built


@pytest.mark.webrtc
@pytest.mark.slow
def test_a_new_viewer_gets_the_post_from_followers_not_the_bridge(world: World) -> None:
    run = run_scenario(world)
    print(f"\n{table(run)}")  # the figures, whatever the outcome
    holding = [f for f in run.followers if f.whole_after is not None]
    assert len(holding) >= 3, [(f.name, f.kind) for f in run.followers if f.whole_after is None]
    (viewer,) = run.viewers
    assert viewer.first_frame_ms >= 0 and viewer.figure.get("shared") == "yes", viewer.figure  # it played, whole
    share = viewer.received.browser_share
    assert share >= FROM_BROWSERS, f"{share:.0%} from browsers: {viewer.received}"
    assert viewer.bridge_uploaded < BRIDGE_AT_MOST * run.size, f"the Bridge uploaded {viewer.bridge_uploaded} bytes"
