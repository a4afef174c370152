"""Two people on the same relay: follows, posts, names, and forged events that must never show."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from asknostr import nip01, nip19
from devstack.services import free_port
from tests.e2e.harness import Stack, UserFactory, relay_publish, relay_query
from tests.unit.nostr_keys import keypair, sign_event


class NostrJson:
    """A domain's /.well-known/nostr.json (NIP-05) on loopback, with the names it is given."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.asked: list[str] = []
        names, asked = self.names, self.asked

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked.append(self.path)
                if not self.path.startswith("/.well-known/nostr.json"):
                    self.send_error(404)
                    return
                body = json.dumps({"names": names}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Access-Control-Allow-Origin", "*")  # as NIP-05 asks of a domain
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.domain = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def nostr_json() -> Iterator[NostrJson]:
    served = NostrJson()
    yield served
    served.server.shutdown()


PHONE: dict[str, object] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SIZES = pytest.mark.parametrize("size", [{}, PHONE], ids=["desktop", "phone"])


@SIZES
def test_follow_by_name_at_domain(
    new_user: UserFactory, stack: Stack, nostr_json: NostrJson, size: dict[str, object]
) -> None:
    alice, bob = new_user(), new_user(**size)
    nostr_json.names["alice"] = alice.pubkey
    said = bob.follow(f"Alice@{nostr_json.domain}")  # NIP-05 names are read in lower case
    assert said.startswith("following npub1"), said
    assert nostr_json.asked == ["/.well-known/nostr.json?name=alice"]
    follows = relay_query(stack.relay.url, {"kinds": [3], "authors": [bob.pubkey]})
    assert [t[1] for t in follows[0]["tags"] if t[0] == "p"] == [alice.pubkey]
    said = bob.submit("follow-result", {"#follow-input": f"carol@{nostr_json.domain}"}, "#follow-button", "carol")
    assert said == f"{nostr_json.domain} knows no 'carol'", said
    assert "error" in str(bob.page.get_attribute("#follow-result", "class"))


def test_b_follows_a_and_sees_a_post_with_a_name(new_user: UserFactory, stack: Stack) -> None:
    alice, bob = new_user(), new_user()
    marker = uuid.uuid4().hex[:8]
    alice.set_name(f"Alice {marker}")
    alice.page.locator("#npub", has_text=f"Alice {marker}").wait_for(timeout=10_000)  # the header's chip names her
    alice.post(f"hello from alice {marker}", media_url=f"{stack.bridge.url}/static/icons/icon-192.png")
    # Alice sees her own post at once
    alice.post_locator(marker).wait_for(timeout=10_000)

    bob.follow(alice.npub)
    bob.show("feed")
    post = bob.post_locator(f"hello from alice {marker}")
    post.wait_for(timeout=20_000)
    post.locator(".author", has_text=f"Alice {marker}").wait_for(timeout=20_000)
    image = post.locator(".media img")
    assert image.get_attribute("src") == f"{stack.bridge.url}/static/icons/icon-192.png"
    bob.page.wait_for_function("document.querySelector('#feed .post .media img')?.naturalWidth === 192", timeout=10_000)
    # the follow list was published (kind 3) and lists Alice
    follows = relay_query(stack.relay.url, {"kinds": [3], "authors": [bob.pubkey]})
    assert [t[1] for t in follows[0]["tags"] if t[0] == "p"] == [alice.pubkey]
    bob.show("following")
    bob.page.locator("#following-list li", has_text=f"Alice {marker}").wait_for()

    # unfollow: her posts leave Bob's feed
    bob.page.click(f"#following-list button[data-pubkey='{alice.pubkey}']")
    bob.page.locator("#follow-result", has_text="unfollowed").wait_for(timeout=20_000)
    bob.page.locator("#following-list li").first.wait_for(state="detached")
    post.wait_for(state="detached", timeout=10_000)


def test_bad_follow_input_is_refused_clearly(new_user: UserFactory) -> None:
    bob = new_user()
    bob.show("following")
    bob.page.fill("#follow-input", "npub1notavalidkey")
    bob.page.click("#follow-button")
    result = bob.page.locator("#follow-result.error")
    result.wait_for(timeout=10_000)
    assert "public key" in result.inner_text() or "npub" in result.inner_text()
    assert bob.page.locator("#following-list li").count() == 0


def test_forged_events_from_a_relay_are_dropped_and_counted(new_user: UserFactory, stack: Stack) -> None:
    alice, bob = new_user(), new_user()
    marker = uuid.uuid4().hex[:8]
    alice.post(f"genuine {marker}")
    genuine = relay_query(stack.relay.url, {"kinds": [1], "authors": [alice.pubkey]})[0]

    # a relay that checks nothing serves two forgeries in Alice's name
    bad_sig = dict(genuine, content=f"forged signature {marker}", created_at=genuine["created_at"] + 1)
    bad_sig["id"] = nip01.event_id(
        bad_sig["pubkey"], bad_sig["created_at"], bad_sig["kind"], bad_sig["tags"], bad_sig["content"]
    )
    bad_id = dict(genuine, content=f"forged content {marker}", created_at=genuine["created_at"] + 2)
    for forged in (bad_sig, bad_id):
        accepted, message = relay_publish(stack.hostile_relay.url, forged)
        assert accepted, message
    # the honest relay refuses them
    assert relay_publish(stack.relay.url, bad_sig)[0] is False

    bob.add_relay(stack.hostile_relay.url)
    bob.follow(alice.npub)
    bob.show("feed")
    bob.post_locator(f"genuine {marker}").wait_for(timeout=20_000)
    bob.show("settings")
    bob.page.wait_for_function("Number(document.getElementById('dropped-count').textContent) >= 2", timeout=20_000)
    bob.show("feed")
    assert bob.post_locator(f"forged signature {marker}").count() == 0
    assert bob.post_locator(f"forged content {marker}").count() == 0


@SIZES
def test_the_feed_shows_each_author_s_picture(new_user: UserFactory, stack: Stack, size: dict[str, object]) -> None:
    secret, carol = keypair(1616)
    picture = f"{stack.bridge.url}/static/icons/icon-192.png"
    now = int(time.time())
    profile = {"kind": 0, "created_at": now, "tags": [], "content": json.dumps({"name": "Carol", "picture": picture})}
    note = {"kind": 1, "created_at": now, "tags": [], "content": f"carol's picture {uuid.uuid4().hex[:8]}"}
    for template in (profile, note):
        assert relay_publish(stack.relay.url, sign_event(template, secret))[0]
    bob = new_user(**size)
    bob.follow(nip19.npub_encode(carol))
    bob.show("feed")
    post = bob.post_locator(str(note["content"]))
    post.locator(".author", has_text="Carol").wait_for(timeout=20_000)
    avatar = post.locator("img.avatar")
    assert avatar.get_attribute("src") == picture and avatar.get_attribute("referrerpolicy") == "no-referrer"
    bob.page.wait_for_function(
        "(id) => document.querySelector(`.post[data-id='${id}'] img.avatar`)?.naturalWidth === 192",
        arg=sign_event(note, secret)["id"],
        timeout=10_000,
    )


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_profile_opens_from_a_name_with_their_media_and_a_follow_button(
    new_user: UserFactory, stack: Stack, nostr_json: NostrJson, phone: bool
) -> None:
    """Dave is not followed; his post shows in #asknostr. A press on his name opens his profile: picture, name,
    about, a NIP-05 his domain confirms, his npub (copied with one press), only his media posts; Follow follows
    him, and Back (the app's or the browser's) returns where the user was."""
    secret, dave = keypair(1717 + phone)
    marker = uuid.uuid4().hex[:8]
    nostr_json.names["dave"] = dave
    picture = f"{stack.bridge.url}/static/icons/icon-192.png"
    now = int(time.time())
    about = f"I film birds {marker}"
    fields = {"name": f"Dave {marker}", "picture": picture, "about": about, "nip05": f"dave@{nostr_json.domain}"}
    media_tags = [["imeta", f"url {picture}", "m image/png"], ["t", "asknostr"]]
    templates = [
        {"kind": 0, "created_at": now, "tags": [], "content": json.dumps(fields)},
        {"kind": 1, "created_at": now, "tags": media_tags, "content": f"a bird {marker}"},
        {"kind": 1, "created_at": now + 1, "tags": [["t", "asknostr"]], "content": f"just words {marker}"},
    ]
    for template in templates:
        assert relay_publish(stack.relay.url, sign_event(template, secret))[0]
    bob = new_user(**(PHONE if phone else {}))
    bob.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=bob.page.url.split("/#")[0])
    bob.show("community")
    post = bob.page.locator("#community-feed .post", has_text=f"a bird {marker}")
    post.locator(".author", has_text=f"Dave {marker}").wait_for(timeout=20_000)
    if phone:
        post.locator(".who").tap()
    else:
        post.locator(".who").click()

    page = bob.page
    page.locator("#view-profile.active").wait_for(timeout=5_000)
    assert nip19.npub_encode(dave) in page.url  # an address of its own: shared, and closed by Back
    page.locator("#person-display-name", has_text=f"Dave {marker}").wait_for(timeout=10_000)
    assert page.get_attribute("#person-picture", "src") == picture
    assert page.inner_text("#person-about") == about
    page.locator("#person-nip05[data-state='confirmed']", has_text=f"dave@{nostr_json.domain}").wait_for()
    assert page.inner_text("#person-npub") == nip19.npub_encode(dave)
    mine = page.locator("#person-posts .post")
    mine.filter(has_text=f"a bird {marker}").wait_for(timeout=10_000)
    assert mine.count() == 1  # his media posts only: the words-only note is not one
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing overflows

    said = bob.submit("person-result", {}, "#person-copy", "copied")
    assert page.evaluate("navigator.clipboard.readText()") == nip19.npub_encode(dave), said
    assert page.inner_text("#person-follow") == "Follow"
    said = bob.submit("person-result", {}, "#person-follow", "following")
    assert said.startswith(f"following Dave {marker}"), said
    page.locator("#person-follow", has_text="Unfollow").wait_for()
    follows = relay_query(stack.relay.url, {"kinds": [3], "authors": [bob.pubkey]})
    assert [t[1] for t in follows[0]["tags"] if t[0] == "p"] == [dave]

    page.click("#person-back")
    page.locator("#view-community.active").wait_for()
    assert nip19.npub_encode(dave) not in page.url
    # from the Following list, and closed by the browser's back button
    bob.show("following")
    page.click(f"#following-list a[href*='{nip19.npub_encode(dave)}']")
    page.locator("#view-profile.active").wait_for()
    page.go_back()
    page.locator("#view-following.active").wait_for()
    # a tab pressed while a profile is open shows that tab, and the same profile opens again afterwards
    page.click(f"#following-list a[href*='{nip19.npub_encode(dave)}']")
    page.locator("#view-profile.active").wait_for()
    bob.show("feed")
    assert nip19.npub_encode(dave) not in page.url
    page.locator("#feed .post .who", has_text=f"Dave {marker}").first.click()
    page.locator("#view-profile.active").wait_for()
    # Eve claims Dave's name@domain, and has no picture: her profile says the domain does not confirm it, and
    # nothing of Dave's shows under her name
    eve_secret, eve = keypair(1919 + phone)
    claim = {"name": f"Eve {marker}", "nip05": f"dave@{nostr_json.domain}"}
    template = {"kind": 0, "created_at": now, "tags": [], "content": json.dumps(claim)}
    assert relay_publish(stack.relay.url, sign_event(template, eve_secret))[0]
    page.evaluate(f"location.hash = '#profile={nip19.npub_encode(eve)}'")
    page.locator("#person-display-name", has_text=f"Eve {marker}").wait_for(timeout=10_000)
    page.locator("#person-nip05[data-state='refused']", has_text="not confirmed by its domain").wait_for()
    assert page.get_attribute("#person-picture", "src") is None
    assert page.locator("#person-posts .post").count() == 0
    assert page.inner_text("#person-follow") == "Follow"
