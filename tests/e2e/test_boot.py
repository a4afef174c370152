"""The boot loader (static/js/boot.js): when Python cannot start, the page says so in its status line."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Browser

from devstack.services import WEB_ROOT, free_port, start_bridge
from tests.e2e.harness import BOOT_TIMEOUT_MS, Stack


def test_a_python_error_at_start_is_shown_in_the_status_line(browser: Browser, stack: Stack, tmp_path: Path) -> None:
    web_root = tmp_path / "web"
    shutil.copytree(WEB_ROOT, web_root)
    main = web_root / "main.py"
    main.write_text(main.read_text().replace("import asyncio\n", 'raise RuntimeError("the test broke main.py")\n', 1))
    bridge = start_bridge(tmp_path / "data", free_port(), relays=[stack.relay.url], trackers=[], web_root=web_root)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(bridge.url + "/")
        status = page.locator("#status[data-state=error]")
        status.wait_for(timeout=BOOT_TIMEOUT_MS)
        assert status.inner_text() == "failed to start: RuntimeError: the test broke main.py"
        assert page.locator("body.ready").count() == 0
    finally:
        context.close()
        bridge.stop()
