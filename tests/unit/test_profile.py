import json
from typing import Any

import pytest

from asknostr.nip01 import check_event
from asknostr.nip19 import short_npub
from asknostr.profile import Profile, label, parse_profile
from tests.unit.nostr_keys import keypair, sign_event

SECRET, PUBKEY = keypair(1)


def metadata(content: str, created_at: int = 10) -> dict[str, Any]:
    return check_event(sign_event({"kind": 0, "content": content, "created_at": created_at}, SECRET))


def test_parse_profile() -> None:
    content = {
        "name": " alice ",
        "display_name": "Alice 🦩",
        "picture": "https://img.example/a.png",
        "about": "hello\nworld",
        "nip05": "alice@example.com",
        "lud16": "ignored@example.com",
    }
    assert parse_profile(metadata(json.dumps(content))) == Profile(
        pubkey=PUBKEY,
        name="alice",
        display_name="Alice 🦩",
        picture="https://img.example/a.png",
        about="hello\nworld",
        nip05="alice@example.com",
        created_at=10,
    )


def test_legacy_display_name_and_unsafe_picture() -> None:
    content = {"displayName": "Legacy", "picture": "javascript:alert(1)", "name": 42, "about": None}
    assert parse_profile(metadata(json.dumps(content))) == Profile(PUBKEY, display_name="Legacy", created_at=10)
    both = {"display_name": "New", "displayName": "Legacy"}
    assert parse_profile(metadata(json.dumps(both))).display_name == "New"


@pytest.mark.parametrize("content", ["", "not json", "[1,2]", '"text"', "null", "[" * 100_000])
def test_bad_content_gives_empty_profile(content: str) -> None:
    assert parse_profile(metadata(content)) == Profile(PUBKEY, created_at=10)


def test_other_kinds_are_rejected() -> None:
    with pytest.raises(ValueError, match="not a profile"):
        parse_profile(sign_event({"kind": 1, "created_at": 1}, SECRET))


def test_label() -> None:
    assert label(Profile(PUBKEY, name="alice", display_name="  Alice \n A. "), PUBKEY) == "Alice A."
    assert label(Profile(PUBKEY, name="alice", display_name="   "), PUBKEY) == "alice"
    assert label(Profile(PUBKEY, name="x" * 100), PUBKEY) == "x" * 64
    assert label(Profile(PUBKEY), PUBKEY) == short_npub(PUBKEY)
    assert label(None, PUBKEY) == short_npub(PUBKEY)
