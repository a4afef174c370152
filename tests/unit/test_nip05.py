"""NIP-05 (asknostr.nip05): name@domain read, the URL asked, the answer read, each refusal in the app's words."""

from __future__ import annotations

import json

import pytest

from asknostr.nip05 import Identifier, looks_like_identifier, parse_identifier, pubkey_in

KEY = "ab" * 32


def test_an_identifier_names_its_domain_s_nostr_json_over_https() -> None:
    bob = parse_identifier(" Bob@Example.COM ")
    assert bob == Identifier("bob", "example.com")
    assert bob.url == "https://example.com/.well-known/nostr.json?name=bob"
    assert parse_identifier("@example.com").url == "https://example.com/.well-known/nostr.json?name=_"
    assert looks_like_identifier("bob@example.com") and not looks_like_identifier("npub1xyz")


def test_a_domain_on_this_machine_is_asked_over_http() -> None:
    assert parse_identifier("a@127.0.0.1:8080").url == "http://127.0.0.1:8080/.well-known/nostr.json?name=a"
    assert parse_identifier("a@localhost").url.startswith("http://localhost/")


@pytest.mark.parametrize(
    "text", ["b ob@example.com", "bob@", "bob@nodot", "bob@example.com/x", "bob@a:b@c.com", "é@x.com"]
)
def test_what_is_not_an_identifier_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_identifier(text)


def test_the_answer_gives_the_key_of_the_name() -> None:
    bob = parse_identifier("bob@example.com")
    assert pubkey_in(json.dumps({"names": {"bob": KEY, "x": "y"}}), bob) == KEY


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("<html>", "did not answer with a nostr.json"),
        ("[]", "did not answer with a nostr.json"),
        ('{"names": []}', "did not answer with a nostr.json"),
        ('{"names": {}}', "knows no 'bob'"),
        ('{"names": {"bob": "npub1abc"}}', "not a public key"),
        ('{"names": {"bob": "' + "AB" * 32 + '"}}', "not a public key"),
        (" " * (1 << 20) + "{}", "more than a list of names"),
    ],
)
def test_a_wrong_answer_is_said_in_the_apps_words(answer: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        pubkey_in(answer, parse_identifier("bob@example.com"))


def test_the_status_line_says_what_the_check_found() -> None:
    from asknostr.nip05 import CONFIRMED, REFUSED, UNCHECKED, status_text

    assert status_text("_@example.com", CONFIRMED) == "✓ example.com"
    assert status_text("bob@example.com", REFUSED) == "bob@example.com · not confirmed by its domain"
    assert status_text("bob@example.com", UNCHECKED) == "bob@example.com · could not be checked"
    assert status_text("bob@example.com", None) == "bob@example.com · checking…"


def test_a_strangers_profile_never_makes_the_browser_ask_the_users_own_network() -> None:
    from asknostr.nip05 import checks_on_its_own, parse_identifier

    public = "app.example.org"
    for identifier in ("x@127.0.0.1:8700", "x@192.168.1.1", "x@10.0.0.8", "x@localhost", "x@printer.local",
                       "x@169.254.169.254", "x@100.64.0.1"):  # fmt: skip
        assert not checks_on_its_own(parse_identifier(identifier), public), identifier
    assert checks_on_its_own(parse_identifier("bob@example.com"), public)
    assert checks_on_its_own(parse_identifier("bob@8.8.8.8"), public)
    # an app served from this machine (a local stack): its own addresses are fair game
    assert checks_on_its_own(parse_identifier("x@127.0.0.1:8700"), "127.0.0.1")
    assert checks_on_its_own(parse_identifier("x@localhost"), "localhost")
