"""The PWA itself: offline-vendored boot, installability, offline start, phone layout."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Playwright

from tests.e2e.harness import BOOT_TIMEOUT_MS, CHROMIUM_FLAGS, AppUser, Stack, UserFactory, chromium_path


def test_shell_paints_before_python_and_boots_from_own_origin_only(new_user: UserFactory, stack: Stack) -> None:
    user = new_user(wait=False)
    page = user.page
    # the shell is on screen while Python is still loading
    page.wait_for_selector(".topbar .status", state="visible")
    assert page.locator(".tab").count() == 4  # feed, #asknostr, following, settings
    user.wait_ready()
    fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    ready = page.evaluate("performance.now()")
    assert fcp is not None and fcp < ready

    page.wait_for_function("document.getElementById('status').textContent.startsWith('online')")
    assert page.inner_text("#npub").startswith("npub1")
    # zero requests to any host but the app's own origin (the route guard aborts and records the rest)
    assert user.foreign == []
    app_origin = urlsplit(stack.app_url).netloc
    assert {urlsplit(u).netloc for u in user.requests if u.startswith("http")} == {app_origin}
    assert any(u.endswith("pyodide.asm.wasm") for u in user.requests)
    # the app's Python arrives as one bundle of precompiled modules, not file by file
    assert any(u.endswith("/static/vendor/asknostr.zip") for u in user.requests)
    assert not any(u.endswith(".py") and not u.endswith("/main.py") for u in user.requests)
    assert page.evaluate("document.body.dataset.bytecode") == "yes"
    assert user.console_errors == []


def _wait_for_service_worker(user: AppUser) -> None:
    user.page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=BOOT_TIMEOUT_MS, polling=200)


def test_installable_with_no_errors(playwright: Playwright, stack: Stack, tmp_path: Path) -> None:
    # installability is judged only outside incognito: a persistent profile, like a person's browser
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=chromium_path(), args=CHROMIUM_FLAGS
    )
    user = AppUser.in_context(context, stack.app_url)
    _wait_for_service_worker(user)
    cdp = user.context.new_cdp_session(user.page)
    result = cdp.send("Page.getInstallabilityErrors")
    assert result["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert '"display": "standalone"' in manifest["data"]
    user.close()


def test_starts_offline_after_first_load(new_user: UserFactory) -> None:
    user = new_user()
    npub = user.page.inner_text("#npub")
    _wait_for_service_worker(user)
    user.context.set_offline(True)
    user.page.reload()
    user.wait_ready()
    # same identity (IndexedDB), app running from the service worker cache
    assert user.page.inner_text("#npub") == npub
    assert user.foreign == []


def test_phone_layout(new_user: UserFactory) -> None:
    user = new_user(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=3)
    page = user.page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator('meta[name="theme-color"]').count() == 1
    assert page.locator('link[rel="apple-touch-icon"]').count() == 1
    # the tab bar sits at the bottom of the screen; tapping switches views
    box = page.locator(".tabs").bounding_box()
    assert box is not None and box["y"] + box["height"] >= 844 - 1
    page.tap(".tab[data-view=following]")
    assert page.locator("#view-following").is_visible()
    page.tap(".tab[data-view=settings]")
    assert page.locator("#view-settings").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # every visible control is a usable tap target
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, input, textarea')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.id || e.className || e.tagName, e.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || r.width < 44)
            .map(([name, r]) => `${name} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert small == []


STORED_FEED = """() => new Promise((resolve) => {
  const open = indexedDB.open('keyval-store')
  open.onsuccess = () => {
    const get = open.result.transaction('keyval').objectStore('keyval').get('feed-cache')
    get.onsuccess = () => resolve(get.result || '')
    get.onerror = () => resolve('')
  }
  open.onerror = () => resolve('')
})"""


def test_the_last_feed_shows_at_start_before_any_relay_answers(new_user: UserFactory, stack: Stack) -> None:
    """Bob saw Alice's post; he opens the app again with no network: her post, her name and his follow list are
    there at once, from the device (each event's signature checked again)."""
    alice, bob = new_user(), new_user()
    marker = uuid.uuid4().hex[:8]
    alice.set_name(f"Alice {marker}")
    alice.post(f"kept for later {marker}")
    bob.follow(alice.npub)
    bob.show("feed")
    bob.post_locator(marker).locator(".author", has_text=f"Alice {marker}").wait_for(timeout=20_000)
    _wait_for_service_worker(bob)
    deadline = time.monotonic() + 15
    while marker not in bob.page.evaluate(STORED_FEED):  # kept on the device within seconds of being shown
        assert time.monotonic() < deadline, "the shown feed was not stored"
        bob.page.wait_for_timeout(250)
    bob.context.set_offline(True)
    bob.page.reload()
    bob.wait_ready()
    post = bob.post_locator(f"kept for later {marker}")
    post.locator(".author", has_text=f"Alice {marker}").wait_for(timeout=10_000)
    assert bob.page.inner_text("#status").startswith("offline")  # no relay answered: it came from the device
    bob.show("following")
    bob.page.locator("#following-list li", has_text=f"Alice {marker}").wait_for()
    assert int(str(bob.page.get_attribute("body", "data-restored"))) >= 3  # his follow list, her post, her profile
