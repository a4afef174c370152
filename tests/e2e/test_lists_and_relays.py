"""The user's lists are never overwritten with less, and relays that go away come back with what was missed."""

from __future__ import annotations

from pathlib import Path

from asknostr import nip19
from devstack.services import free_port, start_relay
from tests.e2e.harness import AppUser, Stack, UserFactory, relay_query
from tests.unit.nostr_keys import keypair


def _latest_follows(stack: Stack, pubkey: str) -> list[str]:
    events = relay_query(stack.relay.url, {"kinds": [3], "authors": [pubkey]})
    newest = max(events, key=lambda e: (e["created_at"], e["id"]))
    return [t[1] for t in newest["tags"] if t[0] == "p"]


def _relay_state(user: AppUser, url: str) -> str:
    return str(user.page.locator(f"#relay-list li[data-url='{url}'] .state").inner_text())


def test_a_second_device_extends_the_follow_list_it_did_not_have(new_user: UserFactory, stack: Stack) -> None:
    secret, me = keypair(8101)
    follows = [keypair(8200 + i)[1] for i in range(3)]
    laptop = new_user(extension_secret=secret)
    laptop.follow(nip19.npub_encode(follows[0]))
    laptop.follow(nip19.npub_encode(follows[1]))
    laptop.close()

    phone = new_user(extension_secret=secret)  # same person, empty storage: knows nothing yet
    phone.follow(nip19.npub_encode(follows[2]))
    assert _latest_follows(stack, me) == follows


def test_quick_successive_edits_each_build_on_the_last(new_user: UserFactory, stack: Stack) -> None:
    user = new_user()
    others = [keypair(8300 + i)[1] for i in range(3)]
    user.show("following")
    for pubkey in others:  # no waiting between the three
        user.page.fill("#follow-input", nip19.npub_encode(pubkey))
        user.page.click("#follow-button")
    user.page.locator("#following-list li").nth(2).wait_for(timeout=20_000)
    user.page.wait_for_function("document.getElementById('follow-result').textContent.includes('following')")
    user.page.wait_for_timeout(500)
    assert sorted(_latest_follows(stack, user.pubkey)) == sorted(others)


def test_no_edit_while_no_relay_has_answered(new_user: UserFactory, stack: Stack) -> None:
    user = new_user()
    dead = f"ws://127.0.0.1:{free_port()}"
    user.add_relay(dead)
    user.page.click(f"#relay-list button[data-url='{stack.relay.url}']")  # only the dead relay is left
    user.page.locator(f"#relay-list li[data-url='{stack.relay.url}']").wait_for(state="detached")
    user.show("following")
    user.page.fill("#follow-input", nip19.npub_encode(keypair(8400)[1]))
    user.page.click("#follow-button")
    result = user.page.locator("#follow-result.error", has_text="nothing changed")
    result.wait_for(timeout=15_000)
    assert user.page.locator("#following-list li").count() == 0
    assert relay_query(stack.relay.url, {"kinds": [3], "authors": [user.pubkey]}) == []


def test_a_relay_that_restarts_is_reconnected_and_gets_what_it_missed(
    new_user: UserFactory, stack: Stack, tmp_path: Path
) -> None:
    port = free_port()
    relay = start_relay(tmp_path, port, name="flaky-relay")
    try:
        user = new_user()
        user.add_relay(relay.url)
        user.page.wait_for_function(
            f"document.querySelector(\"#relay-list li[data-url='{relay.url}'] .state\")?.textContent === 'open'"
        )
        relay.stop()
        user.page.wait_for_function(
            f"document.querySelector(\"#relay-list li[data-url='{relay.url}'] .state\")?.textContent !== 'open'"
        )
        report = user.post("written while one relay was down")
        assert "published to 1/2 relays" in report
        relay = start_relay(tmp_path, port, name="flaky-relay")  # same port, same database
        user.show("settings")
        user.page.wait_for_function(
            f"document.querySelector(\"#relay-list li[data-url='{relay.url}'] .state\")?.textContent === 'open'",
            timeout=20_000,
        )
        assert _relay_state(user, relay.url) == "open"
        user.page.wait_for_timeout(1000)
        posts = relay_query(relay.url, {"kinds": [1], "authors": [user.pubkey]})
        assert [p["content"] for p in posts] == ["written while one relay was down"]
    finally:
        relay.stop()


def test_settings_that_cannot_work_are_refused_in_the_apps_words(new_user: UserFactory) -> None:
    user = new_user()
    user.show("settings")
    page = user.page
    relays_before = page.locator("#relay-list li").count()
    cases = [
        ("relay-result", "#relay-input", "ws://127.0.0.1:9", "#relay-form button[type=submit]", "port 9"),
        ("relay-result", "#relay-input", "not a relay", "#relay-form button[type=submit]", "wss://"),
        ("server-result", "#server-input", "https://localhost:1/", "#servers-form button[type=submit]", "port 1"),
        ("server-result", "#server-input", "https://", "#servers-form button[type=submit]", "https://"),
    ]
    for result, field, value, button, said in cases:
        # no browser bubble in the way (the forms do not validate): the app answers, as an error
        text = user.submit(result, {field: value}, button, said)
        assert "error" in str(page.get_attribute(f"#{result}", "class")), (value, text)
    text = user.submit("storage-result", {"#quota-input": "5", "#cap-input": "5"}, "#storage-save", "at least 10 MB")
    assert "error" in str(page.get_attribute("#storage-result", "class")), text
    assert page.locator("#relay-list li").count() == relays_before
