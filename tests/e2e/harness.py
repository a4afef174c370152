"""What the end-to-end tests drive: the running stack, a person using the app in a browser context, a raw
relay client (for what no honest app would send)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Request, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from asknostr import nip19
from devstack.internet import Internet
from devstack.services import Service
from tests.async_runner import run

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BOOT_TIMEOUT_MS = 90_000
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
SIMULATED_INTERNET = ipaddress.ip_network("198.18.0.0/15")  # devstack.internet's: namespaces the test run made


def is_test_host(host: str | None) -> bool:
    """Loopback, an address of the simulated internet, or a name under .test (RFC 6761: reserved, resolved only by
    the test's own `--host-resolver-rules`, into the simulated internet): the only places a test's browser may
    reach."""
    if host in LOOPBACK or (host or "").endswith(".test"):
        return True
    try:
        return ipaddress.ip_address(host or "") in SIMULATED_INTERNET
    except ValueError:
        return False


# A stand-in NIP-07 extension, injected before the page's scripts like a real one. It signs with the vendored
# WASM library and the given key, and counts its calls. The same key in two contexts is one person, two devices.
EXTENSION = """(secret) => {
  const crypto = () => import('/static/vendor/nostr-crypto.js').then(async (m) => { await m.ready; return m })
  window.extensionCalls = 0
  window.nostr = {
    async getPublicKey () { window.extensionCalls++; return (await crypto()).getPublicKey(secret) },
    async signEvent (template) {
      window.extensionCalls++
      return JSON.parse((await crypto()).signEventJson(JSON.stringify(template), secret))
    },
  }
}"""


def eventually(page: Page, expression: str, timeout_ms: float = 30_000) -> None:
    """Wait until the JS `expression` (it may be a Promise) is true in `page`. Playwright's wait_for_function does
    not await a Promise: one counts as true at once, whatever it resolves to. Polled through the page, so the
    page's requests routed through this process go on meanwhile (time.sleep would hold them)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"async () => Boolean(await ({expression}))"):
        if time.monotonic() > deadline:
            raise PlaywrightTimeout(f"not true within {timeout_ms:.0f} ms: {expression}")
        page.wait_for_timeout(200)


@dataclass
class Stack:
    relay: Service
    hostile_relay: Service
    tracker: Service
    bridge: Service

    @property
    def app_url(self) -> str:
        return self.bridge.url + "/"

    @property
    def media_url(self) -> str:
        """The Bridge's Blossom server: the blobs' own origin."""
        return self.bridge.extra["media_url"]


@dataclass
class AppUser:
    """One person: a fresh browser context (own storage, own key) with the app open."""

    context: BrowserContext
    page: Page
    app_url: str
    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls, browser: Browser, app_url: str, *, wait: bool = True, extension_secret: str = "", **options: Any
    ) -> AppUser:
        """A fresh context; with `extension_secret`, a NIP-07 extension holding that key is installed first."""
        context = browser.new_context(**options)
        if extension_secret:
            context.add_init_script(f"({EXTENSION})('{extension_secret}')")
        return cls.in_context(context, app_url, wait=wait)

    @classmethod
    def in_context(cls, context: BrowserContext, app_url: str, *, wait: bool = True) -> AppUser:
        page = context.pages[0] if context.pages else context.new_page()
        user = cls(context, page, app_url)
        context.route("**/*", user._guard)
        context.on("request", user._record)
        page.on("console", user._console)
        page.on("pageerror", lambda exc: user.console_errors.append(f"pageerror: {exc}"))
        page.goto(app_url)
        if wait:
            user.wait_ready()
        return user

    def _guard(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or is_test_host(urlsplit(url).hostname):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def _record(self, request: Request) -> None:
        self.requests.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)
        if message.type in ("error", "warning") and "PYTEST_CURRENT_TEST" in os.environ:
            where = message.location.get("url") or ""  # (a failed load names no URL in its text)
            print(f"browser {message.type}: {message.text}" + (f" [{where}]" if where else ""))  # shown if it fails

    def wait_ready(self) -> None:
        self.page.wait_for_selector("body.ready", timeout=BOOT_TIMEOUT_MS)

    @property
    def pubkey(self) -> str:
        value = self.page.evaluate("document.body.dataset.pubkey")
        assert isinstance(value, str) and len(value) == 64, value
        return value

    @property
    def npub(self) -> str:
        return nip19.npub_encode(self.pubkey)

    def show(self, view: str) -> None:
        self.page.click(f".tab[data-view={view}]")

    def submit(self, result_id: str, fill: dict[str, str], button: str, expect: str) -> str:
        """Fill inputs, press a button, wait until the result line contains `expect`; returns that line."""
        for selector, value in fill.items():
            self.page.fill(selector, value)
        self.page.eval_on_selector(f"#{result_id}", "node => { node.textContent = '' }")  # no stale answer
        self.page.click(button)
        locator = self.page.locator(f"#{result_id}")
        try:
            locator.filter(has_text=expect).wait_for(timeout=20_000)
        except PlaywrightTimeout:
            raise AssertionError(f"#{result_id} says {locator.inner_text()!r}, not {expect!r}") from None
        return locator.inner_text()

    def post(self, text: str, media_url: str = "") -> str:
        self.show("feed")
        return self.submit(
            "composer-result",
            {"#composer-text": text, "#composer-media": media_url},
            "#post-button",
            "published",
        )

    def set_name(self, name: str) -> str:
        self.show("settings")
        return self.submit("profile-result", {"#profile-name": name}, "#profile-save", "published")

    def follow(self, who: str) -> str:
        self.show("following")
        return self.submit("follow-result", {"#follow-input": who}, "#follow-button", "following")

    def add_relay(self, url: str) -> str:
        self.show("settings")
        return self.submit("relay-result", {"#relay-input": url}, "#relay-add", "relay added")

    def post_locator(self, text: str) -> Any:
        return self.page.locator("#feed .post", has_text=text)

    def close(self) -> None:
        self.context.close()


UserFactory = Callable[..., AppUser]


async def _relay_exchange(url: str, messages: list[list[Any]], until: Callable[[list[Any]], bool]) -> list[Any]:
    received: list[Any] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(10)) as ws,
    ):
        for message in messages:
            await ws.send_str(json.dumps(message))
        while not until(received):
            msg = await asyncio.wait_for(ws.receive(), 10)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            received.append(json.loads(msg.data))
    return received


def relay_publish(url: str, event: dict[str, Any]) -> tuple[bool, str]:
    """Send one event with a fresh socket (the relay slows sockets after a rejection); its OK answer."""
    replies = run(_relay_exchange(url, [["EVENT", event]], lambda got: any(r[0] == "OK" for r in got)))
    ok = next(r for r in replies if r[0] == "OK")
    return bool(ok[2]), str(ok[3])


def relay_query(url: str, flt: dict[str, Any]) -> list[dict[str, Any]]:
    replies = run(_relay_exchange(url, [["REQ", "q", flt]], lambda got: any(r[0] == "EOSE" for r in got)))
    return [r[2] for r in replies if r[0] == "EVENT"]


@contextmanager
def module_page(browser: Browser, stack: Stack, path: str, name: str, helpers: str = "") -> Iterator[Page]:
    """A page of the app's origin (an empty one: its config.json) with the app's JS module at `path` imported as
    `window[name]`, and `helpers` (a script) run: for tests of a JS module on its own."""
    page = browser.new_context().new_page()
    page.goto(stack.bridge.url + "/config.json")
    page.evaluate(
        "async ([path, name, helpers]) => { window[name] = await import(path); (0, eval)(helpers) }",
        [path, name, helpers],
    )
    try:
        yield page
    finally:
        page.context.close()


@contextmanager
def home_browsers(
    playwright: Playwright, internet: Internet, data_dir: Path, flags: list[str]
) -> Iterator[dict[str, Browser]]:
    """One Chromium in each home of the simulated internet (devstack.internet), by user; closed at the end."""
    browsers: dict[str, Browser] = {}
    try:
        for user in internet.homes:
            launcher = internet.launcher(user, chromium_path(), data_dir)
            browsers[user] = playwright.chromium.launch(executable_path=str(launcher), args=[*CHROMIUM_FLAGS, *flags])
        yield browsers
    finally:
        for browser in browsers.values():
            browser.close()


def chromium_path() -> str:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError("no Chromium found: `make test` installs Debian's chromium (tools/setup.sh --browser)")


WEBTORRENT_DOWNLOAD = """async (magnet) => {
  const { default: WebTorrent } = await import('/static/vendor/webtorrent.min.js')
  const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } } })
  const t0 = performance.now()
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no download in 60 s')), window.DOWNLOAD_TIMEOUT ?? 60000)
    const t = client.add(magnet)
    const wires = []
    let first = null
    t.on('wire', (wire) => wires.push(wire.type))
    t.on('download', () => { if (first === null) first = performance.now() - t0 })
    t.on('done', async () => {
      clearTimeout(timer)
      const bytes = new Uint8Array(await t.files[0].arrayBuffer())
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
      client.destroy()
      resolve({ sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), first,
        total: performance.now() - t0, peers: wires })
    })
  })
}"""
"""In a page of the app's origin: WebTorrent downloads `magnet` alone (no app), as any peer would; its SHA-256,
the time to the first byte and in all, and the kinds of peers it had."""


def download_in_browser(browser: Browser, app_url: str, magnet: str) -> dict[str, Any]:
    page = browser.new_context().new_page()
    try:
        page.goto(app_url + "/config.json")
        return dict(page.evaluate(WEBTORRENT_DOWNLOAD, magnet))
    finally:
        page.context.close()
