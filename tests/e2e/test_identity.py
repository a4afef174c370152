"""Identity: a NIP-07 extension is used when present; otherwise a key kept in IndexedDB, which can be imported."""

from __future__ import annotations

from asknostr import nip19
from tests.e2e.harness import Stack, UserFactory, relay_query
from tests.unit.nostr_keys import keypair


def test_a_nip07_extension_signs_when_present(new_user: UserFactory, stack: Stack) -> None:
    secret, pubkey = keypair(7001)
    user = new_user(extension_secret=secret)
    assert user.pubkey == pubkey
    assert user.page.inner_text("#npub-full") == nip19.npub_encode(pubkey)
    assert "extension" in user.page.inner_text("#identity-kind")
    user.post("signed by the extension")
    assert user.page.evaluate("window.extensionCalls") >= 2  # the public key, then the post
    posts = relay_query(stack.relay.url, {"kinds": [1], "authors": [pubkey]})
    assert [p["content"] for p in posts] == ["signed by the extension"]


def test_an_imported_nsec_becomes_the_identity_and_survives_a_reload(new_user: UserFactory) -> None:
    secret, pubkey = keypair(7002)
    user = new_user()
    generated = user.pubkey
    assert generated != pubkey
    user.show("settings")
    user.page.fill("#nsec-input", "nsec1qqqq")
    user.page.click("#import-key")
    user.page.locator("#key-result.error").wait_for()
    assert user.pubkey == generated  # a bad key changes nothing

    # the current key can be shown (to save it) before it is replaced
    user.page.click("#reveal-key")
    shown = user.page.locator("#key-result", has_text="keep it secret")
    shown.wait_for()
    old_nsec = shown.inner_text().split()[-1]
    assert nip19.decode(old_nsec)[0] == "nsec", shown.inner_text()

    user.page.fill("#nsec-input", nip19.nsec_encode(secret))
    user.page.once("dialog", lambda dialog: dialog.dismiss())  # "replace the key?" No: nothing changes
    user.page.click("#import-key")
    user.page.locator("#key-result", has_text="kept the current key").wait_for()
    assert user.pubkey == generated

    user.page.once("dialog", lambda dialog: dialog.accept())
    with user.page.expect_navigation():
        user.page.click("#import-key")
    user.wait_ready()
    assert user.pubkey == pubkey
    user.page.reload()
    user.wait_ready()
    assert user.pubkey == pubkey


def test_your_npub_is_shown_whole_and_copied_with_one_press(new_user: UserFactory) -> None:
    user = new_user()
    user.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=user.page.url.split("/#")[0])
    user.show("settings")
    said = user.submit("profile-result", {}, "#copy-npub", "copied")
    assert "npub is copied" in said
    assert user.page.evaluate("navigator.clipboard.readText()") == nip19.npub_encode(user.pubkey)
    assert user.page.inner_text("#npub-full") == nip19.npub_encode(user.pubkey)
