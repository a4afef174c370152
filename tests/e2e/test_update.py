"""A new version of the app: installed in the background, never mixed with the running one, applied on Reload."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Browser

from devstack.services import WEB_ROOT, free_port, start_bridge
from tests.e2e.harness import BOOT_TIMEOUT_MS, AppUser, Stack

TITLE = "document.title"
INDEX_TEXT = "fetch('./index.html').then((r) => r.text())"


def test_an_update_waits_for_reload_and_the_running_page_keeps_its_version(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    web_root = tmp_path / "web"
    shutil.copytree(WEB_ROOT, web_root)
    bridge = start_bridge(tmp_path / "data", free_port(), relays=[stack.relay.url], trackers=[], web_root=web_root)
    try:
        user = AppUser.open(browser, bridge.url + "/")
        page = user.page
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=BOOT_TIMEOUT_MS)
        assert page.evaluate(TITLE) == "AskNostr Social Swarm"

        # the server gets version 2
        index = web_root / "index.html"
        index.write_text(index.read_text().replace("<title>AskNostr Social Swarm<", "<title>Swarm v2<"))
        precache = web_root / "static" / "vendor" / "precache.js"
        precache.write_text(re.sub(r'"version": "[^"]+"', '"version": "v2-for-test"', precache.read_text()))
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")

        page.locator("#update-banner").wait_for(state="visible", timeout=30_000)
        # until the user says so, this page is served its own version's files
        assert "<title>AskNostr Social Swarm<" in page.evaluate(INDEX_TEXT)
        assert page.locator("body.ready").count() == 1

        with page.expect_navigation():
            page.click("#update-reload")
        user.wait_ready()
        assert page.evaluate(TITLE) == "Swarm v2"
        caches = page.evaluate("caches.keys()")
        assert "asknostr-v2-for-test" in caches
        assert [c for c in caches if c.startswith("asknostr-") and c != "asknostr-runtime"] == ["asknostr-v2-for-test"]
        assert user.console_errors == []
        user.close()
    finally:
        bridge.stop()
