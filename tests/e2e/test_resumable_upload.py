"""Resumable uploads from the app to the Bridge (asknostr.browser.uploads, asknostr.resumable_upload) in real
Chromium: a reload half-way through, and a SIGKILL of the Bridge half-way through, both continue the same upload
from the Bridge's offset. The upload is throttled with CDP (Network.emulateNetworkConditions) so that it is
half-way when the test acts, and the bytes sent are counted from what Chromium put on the wire (the Content-Length
of each PATCH, from CDP's Network.requestWillBeSentExtraInfo), not from the app."""

from __future__ import annotations

import contextlib
import hashlib
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, CDPSession, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from devstack.services import Service, free_port, start_bridge, start_relay, start_tracker, stop_all
from tests.e2e.harness import AppUser, Stack, UserFactory

MIB = 1024 * 1024
SIZE = 72 * MIB + 12345  # nine 8 MiB chunks and a bit
CHUNK = 8 * MIB  # asknostr.resumable_upload.CHUNK, here on its own: the test states the bound it checks
SLOW = {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 4 * MIB}
FAST = {**SLOW, "latency": 0, "uploadThroughput": -1}


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("big") / "long-video.mp4"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = SIZE
        while left:
            block = os.urandom(min(MIB, left))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return path, digest.hexdigest()


@dataclass
class Wire:
    """What Chromium sent to the Bridge's upload URLs, from CDP: methods by request, PATCH bodies' lengths."""

    cdp: CDPSession
    methods: dict[str, str] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)

    @classmethod
    def watch(cls, page: Page) -> Wire:
        wire = cls(page.context.new_cdp_session(page))
        wire.cdp.on("Network.requestWillBeSent", wire._sent)
        wire.cdp.on("Network.requestWillBeSentExtraInfo", wire._extra)
        wire.cdp.send("Network.enable")
        return wire

    def _sent(self, event: dict[str, Any]) -> None:
        if "/upload" in event["request"]["url"]:
            self.methods[event["requestId"]] = event["request"]["method"]

    def _extra(self, event: dict[str, Any]) -> None:
        headers = {name.lower(): value for name, value in event["headers"].items()}
        if "content-length" in headers:
            self.lengths[event["requestId"]] = int(headers["content-length"])

    def throttle(self, conditions: dict[str, Any]) -> None:
        self.cdp.send("Network.emulateNetworkConditions", conditions)

    def count(self, method: str) -> int:
        return sum(1 for m in self.methods.values() if m == method)

    def patched(self) -> int:
        """The bytes of every PATCH body Chromium started to send (a cut-off one counts whole)."""
        return sum(self.lengths.get(rid, 0) for rid, m in self.methods.items() if m == "PATCH")


def part_bytes(bridge: Service) -> int:
    """The bytes the Bridge holds of unfinished uploads: resumable ones' part files (data_dir/bridge/uploads) and
    plain PUTs under way (blobs/.tmp), so that the old code's plain upload is half-way too when the test acts."""
    root = Path(bridge.log_path).parent.parent / "bridge"
    parts = [*root.glob("uploads/*.part"), *root.glob("blobs/.tmp/*")]
    total = 0
    for path in parts:
        with contextlib.suppress(FileNotFoundError):  # finished or moved meanwhile
            total += path.stat().st_size
    return total


def wait_until(page: Page, condition: Any, timeout_s: float, what: str) -> None:
    """Poll `condition` through the page (its requests go on meanwhile, as in harness.eventually)."""
    for _ in range(int(timeout_s * 5)):
        if condition():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what}")


def blob_sha256(media_url: str, sha256: str) -> str:
    digest = hashlib.sha256()
    with urllib.request.urlopen(f"{media_url}/{sha256}", timeout=30) as response:
        while block := response.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def start_post(user: AppUser, path: Path, text: str) -> None:
    user.show("feed")
    user.page.set_input_files("#composer-files", files=[str(path)])  # from disk: no 72 MiB through the driver
    user.page.fill("#composer-text", text)
    user.page.click("#post-button")


def test_a_reload_half_way_resumes_from_the_bridges_offset(
    new_user: UserFactory, stack: Stack, big_file: tuple[Path, str]
) -> None:
    path, sha256 = big_file
    user = new_user()
    wire = Wire.watch(user.page)
    wire.throttle(SLOW)
    before = part_bytes(stack.bridge)
    start_post(user, path, "a long video, interrupted")
    wait_until(user.page, lambda: part_bytes(stack.bridge) - before >= SIZE * 0.4, 120, "40% on the Bridge")
    sent_before_reload = wire.patched()
    assert sent_before_reload < SIZE

    user.page.reload()
    user.wait_ready()
    wire.throttle(FAST)
    finished = user.page.locator("#composer-result", has_text="finished uploading")
    try:
        finished.wait_for(timeout=120_000)
    except PlaywrightTimeout:
        said = user.page.locator("#composer-result").inner_text()
        raise AssertionError(f"no resumed upload after the reload; the composer says {said!r}") from None
    assert "post it again" in finished.inner_text()  # the note was not published: the user is told
    assert blob_sha256(stack.media_url, sha256) == sha256
    assert wire.count("PUT") == 1  # one upload created: the reload continued it
    assert SIZE <= wire.patched() <= SIZE + CHUNK  # what went twice: at most the chunk the reload cut off

    # sent again, the post goes out without the file being uploaded again
    patched = wire.patched()
    start_post(user, path, "a long video, sent again")
    user.page.locator("#composer-result", has_text="published").wait_for(timeout=120_000)
    assert wire.patched() == patched and wire.count("PUT") == 1


@dataclass
class OwnStack:
    """Relay, tracker and a Bridge of this module's own, the Bridge restarted on the same data and ports."""

    data_dir: Path
    services: list[Service]
    port: int
    media_port: int

    @property
    def bridge(self) -> Service:
        return self.services[-1]

    def start_bridge(self) -> Service:
        relay, tracker = self.services[0], self.services[1]
        return start_bridge(
            self.data_dir, self.port, relays=[relay.url], trackers=[tracker.url], media_port=self.media_port
        )

    def crash_and_restart(self) -> None:
        self.bridge.kill()  # SIGKILL: no clean shutdown
        self.services[-1] = self.start_bridge()


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStack]:
    data_dir = tmp_path_factory.mktemp("crash")
    services: list[Service] = []
    try:
        services.append(start_relay(data_dir, free_port()))
        services.append(start_tracker(data_dir, free_port()))
        own = OwnStack(data_dir, services, free_port(), free_port())
        services.append(own.start_bridge())
        yield own
    finally:
        stop_all(services)


def test_a_sigkill_of_the_bridge_half_way_continues_the_same_upload(
    browser: Browser, own_stack: OwnStack, big_file: tuple[Path, str]
) -> None:
    path, sha256 = big_file
    user = AppUser.open(browser, own_stack.bridge.url + "/")
    try:
        wire = Wire.watch(user.page)
        wire.throttle(SLOW)
        start_post(user, path, "a long video through a crash")
        wait_until(user.page, lambda: part_bytes(own_stack.bridge) >= SIZE * 0.4, 120, "40% on the Bridge")
        own_stack.crash_and_restart()
        wire.throttle(FAST)
        result = user.page.locator("#composer-result", has_text="published")
        try:
            result.wait_for(timeout=180_000)
        except PlaywrightTimeout:
            said = user.page.locator("#composer-result").inner_text()
            raise AssertionError(f"not published after the Bridge's restart; the composer says {said!r}") from None
        assert blob_sha256(own_stack.bridge.extra["media_url"], sha256) == sha256
        assert wire.count("PUT") == 1  # the same upload continued after the restart
        assert SIZE <= wire.patched() <= SIZE + CHUNK
    finally:
        user.close()
