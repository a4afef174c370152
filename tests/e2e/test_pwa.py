"""The PWA itself: offline-vendored boot, installability, offline start, phone layout."""

from __future__ import annotations

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
