import json
from typing import Any

import pytest

from asknostr import nip01
from asknostr.nip01 import EventError
from tests.unit.nostr_keys import keypair, sign_event, verify_event

PK = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
TAGS = [["t", 'ünï\n"x"'], ["p", PK, "", "pet\tname"]]

# Ids computed by nostr-tools 2.25.2 getEventHash (JSON.stringify) for kind 1, created_at 1700000000, TAGS.
NOSTR_TOOLS_IDS = [
    ("hello", "cde66be5ea29b388fafc4f00a4aaf7736f3ffaa6c2e22238c935a735cc42c695"),
    (
        "emoji 🤙🏽 and 😀, CJK 日本語, accents é",
        "004d629f17d57a5502a2e77f3b418fe470fe65c09554ace33639a1bfbbb3a75f",
    ),
    (
        'line1\nline2\r\n"quoted" back\\slash\ttab\bbs\fff',
        "ef394ef1ca74272e578bc666a4ee38b68761044adffb98e8c0fa48609a153e72",
    ),
    (
        "ctrl \x00 \x01 \x1f \x7f del, sep \u2028 \u2029, nbsp \u00a0, bom \ufeff",
        "19d502fffa3d0988578fa542e27a8393db93f6b772cc899a90498dbcaca0474b",
    ),
    (
        "non-BMP \U0001d11e \U00010348 \U0010ffff",
        "1de8c83be3257764f6de9f99d62ba8f7d7cadf80fb4a8c34d75924a19fca40b3",
    ),
    ("</script><!-- & ' /", "ba1095ecdd8747733a4ec860ad3721c5e25701a2f0b5dedce76363a0f0a75e2a"),
]

# An event signed by nostr-tools 2.25.2 finalizeEvent.
NOSTR_TOOLS_EVENT = {
    "kind": 1,
    "created_at": 1700000000,
    "tags": [["imeta", "url https://x.example/a.png"], ["e", "ab" * 32]],
    "content": 'signed by nostr-tools: "q" \\ \n\t\x07 🦩 \U0001d11e',
    "pubkey": "4ff1297eb3ca1339971ca37c1bb1f1eab24bf0b89a963eb3d2c800f3f4fb7633",
    "id": "37c569893c2b9030c24a3bd323c7f894864c09cc0b5eac9a1eb52d2cd50c0cc5",
    "sig": "43b4aee8b2d17edf58822b2d022a0153db120c86814f10ea3be46b5de7ebe629"
    "7e2ac1d541e190d2e45d937c92c4a812e125bd5da7a3a5248ff81c14b0bf4e66",
}


def signed(seed: int = 1, **template: Any) -> dict[str, Any]:
    template = {"kind": 1, "content": "hi", "created_at": 1_700_000_000, **template}
    return sign_event(template, keypair(seed)[0])


@pytest.mark.parametrize(("content", "expected"), NOSTR_TOOLS_IDS)
def test_event_id_matches_nostr_tools(content: str, expected: str) -> None:
    assert nip01.event_id(PK, 1_700_000_000, 1, TAGS, content) == expected


def test_serialize_escapes_like_json_stringify() -> None:
    text = nip01.serialize(PK, 1, 7, [["a", "b"]], 'n\n q" b\\ r\r t\t b\b f\f c\x01 é 😀')
    assert text == f'[0,"{PK}",1,7,[["a","b"]],"n\\n q\\" b\\\\ r\\r t\\t b\\b f\\f c\\u0001 é 😀"]'


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(EventError, match="lone surrogate"):
        nip01.event_id(PK, 1, 1, [], "broken \ud83d")


def test_event_signed_by_nostr_tools_is_valid() -> None:
    assert nip01.check_event(NOSTR_TOOLS_EVENT) == NOSTR_TOOLS_EVENT
    assert verify_event(NOSTR_TOOLS_EVENT)


def test_build_unsigned_then_sign() -> None:
    secret, pubkey = keypair(2)
    unsigned = nip01.build_unsigned(pubkey, 1, "post\n😀", [["t", "nostr"]], 1_700_000_123)
    assert "sig" not in unsigned
    assert unsigned["id"] == nip01.event_id(pubkey, 1_700_000_123, 1, [["t", "nostr"]], "post\n😀")
    event = sign_event(unsigned, secret)
    assert event["id"] == unsigned["id"]
    assert nip01.check_event(event) == event


def test_build_unsigned_rejects_bad_fields() -> None:
    with pytest.raises(EventError, match="pubkey must be 64 lowercase hex"):
        nip01.build_unsigned(PK.upper(), 1, "", [], 0)
    with pytest.raises(EventError, match="kind"):
        nip01.build_unsigned(PK, 70_000, "", [], 0)


def test_check_event_returns_copy_with_exactly_the_event_fields() -> None:
    event = signed()
    checked = nip01.check_event({**event, "extra": 1})
    assert checked == event
    checked["tags"].append(["x"])
    assert event["tags"] == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"content": "tampered"}, "id does not match content"),
        ({"created_at": 1_700_000_001}, "id does not match content"),
        ({"tags": [["t", "added"]]}, "id does not match content"),
        ({"id": "A" * 64}, "id must be 64 lowercase hex"),
        ({"id": "ab" * 31}, "id must be 64 lowercase hex"),
        ({"pubkey": PK.upper()}, "pubkey must be 64 lowercase hex"),
        ({"pubkey": 7}, "pubkey must be 64 lowercase hex"),
        ({"sig": "00" * 63}, "sig must be 128 lowercase hex"),
        ({"sig": None}, "sig must be 128 lowercase hex"),
        ({"created_at": True}, "created_at must be an integer"),
        ({"created_at": -1}, "created_at must be an integer"),
        ({"created_at": 1.5e9}, "created_at must be an integer"),
        ({"created_at": 2**53}, "created_at must be an integer"),
        ({"kind": 65_536}, "kind must be an integer from 0 to 65535"),
        ({"kind": "1"}, "kind must be an integer from 0 to 65535"),
        ({"kind": False}, "kind must be an integer from 0 to 65535"),
        ({"tags": {}}, "tags must be a list"),
        ({"tags": [[]]}, "tags must be a list of non-empty lists of strings"),
        ({"tags": [["e", 1]]}, "tags must be a list of non-empty lists of strings"),
        ({"tags": ["e"]}, "tags must be a list of non-empty lists of strings"),
        ({"content": None}, "content must be a string"),
    ],
)
def test_check_event_rejects_forged_or_malformed(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(EventError, match=reason):
        nip01.check_event({**signed(), **change})


def test_check_event_rejects_missing_field_and_non_object() -> None:
    event = signed()
    del event["sig"]
    with pytest.raises(EventError, match="no 'sig' field"):
        nip01.check_event(event)
    with pytest.raises(EventError, match="must be a JSON object"):
        nip01.check_event([1, 2])


def test_check_event_does_not_verify_signature() -> None:
    forged = {**signed(seed=1), "sig": signed(seed=2)["sig"]}
    assert nip01.check_event(forged) == forged
    assert not verify_event(forged)


def test_parse_relay_messages() -> None:
    event = signed()
    parse = nip01.parse_relay_message
    assert parse(json.dumps(["EVENT", "sub1", event])) == nip01.EventMessage("sub1", event)
    assert parse('["EOSE","sub1"]') == nip01.EoseMessage("sub1")
    assert parse(f'["OK","{PK}",false,"blocked: spam"]') == nip01.OkMessage(PK, False, "blocked: spam")
    assert parse('["NOTICE","hello"]') == nip01.NoticeMessage("hello")
    assert parse('["CLOSED","sub1","error: shutting down"]') == nip01.ClosedMessage("sub1", "error: shutting down")
    assert parse('["AUTH","challenge-1"]') == nip01.AuthMessage("challenge-1")
    assert parse('["EVENT","s",{"not":"checked"}]') == nip01.EventMessage("s", {"not": "checked"})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not valid JSON"),
        ('["EOSE","sub1"', "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ('{"EOSE":"sub1"}', "must be a JSON array"),
        ("[]", "must be a JSON array"),
        ("[1]", "must be a JSON array"),
        ('["COUNT","s",{"count":1}]', "unknown relay message type 'COUNT'"),
        ('["EVENT","sub1"]', "EVENT message must have 3 elements, got 2"),
        ('["EOSE","sub1","extra"]', "EOSE message must have 2 elements, got 3"),
        ('["OK","id",true]', "OK message must have 4 elements, got 3"),
        ('["OK","id","true",""]', "OK status must be true or false"),
        ('["EOSE",1]', "subscription id must be a string"),
        ('["NOTICE",null]', "message must be a string"),
        ('["CLOSED","s",{}]', "message must be a string"),
    ],
)
def test_parse_relay_message_rejects_malformed(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        nip01.parse_relay_message(text)


def test_client_messages() -> None:
    event = signed(content="é 😀")
    filters: list[dict[str, Any]] = [{"kinds": [1], "authors": [PK]}, {"#p": [PK], "limit": 10}]
    assert json.loads(nip01.req_message("feed", filters)) == ["REQ", "feed", *filters]
    assert nip01.close_message("feed") == '["CLOSE","feed"]'
    text = nip01.event_message(event)
    assert "é 😀" in text
    assert json.loads(text) == ["EVENT", event]


def test_client_messages_reject_bad_subscription() -> None:
    with pytest.raises(ValueError, match="1 to 64 characters"):
        nip01.req_message("", [{}])
    with pytest.raises(ValueError, match="1 to 64 characters"):
        nip01.close_message("x" * 65)
    with pytest.raises(ValueError, match="at least one filter"):
        nip01.req_message("feed", [])


def test_matches_filter() -> None:
    event = signed(kind=1, created_at=1000, tags=[["e", "ab" * 32], ["t", "nostr"], ["p"]])
    match = nip01.matches_filter
    assert match(event, {})
    assert match(event, {"ids": [event["id"]], "authors": [event["pubkey"]], "kinds": [0, 1]})
    assert not match(event, {"ids": ["00" * 32]})
    assert not match(event, {"authors": [PK]})
    assert not match(event, {"kinds": [0]})
    assert match(event, {"since": 1000, "until": 1000})
    assert not match(event, {"since": 1001})
    assert not match(event, {"until": 999})
    assert match(event, {"#e": ["00" * 32, "ab" * 32], "#t": ["nostr"]})
    assert not match(event, {"#t": ["bitcoin"]})
    assert not match(event, {"#p": [""]})
    assert not match(event, {"#nostr": ["t"]})
    assert match(event, {"limit": 1, "search": "ignored"})
    assert not match(event, {"kinds": [1], "#t": ["bitcoin"]})


def test_replaceable_kinds_and_their_timestamps() -> None:
    assert [k for k in (0, 1, 3, 7, 10002, 19999, 20000, 30023) if nip01.is_replaceable(k)] == [0, 3, 10002, 19999]
    assert nip01.next_created_at(1000, None) == 1000
    assert nip01.next_created_at(1000, 990) == 1000
    assert nip01.next_created_at(1000, 1000) == 1001  # an edit in the same second still supersedes
    assert nip01.next_created_at(1000, 1005) == 1006  # a clock behind the last version
