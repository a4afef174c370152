import pytest

from asknostr.nip01 import check_event
from asknostr.nip65 import RelayEntry, merge_relays, normalize_relay_url, parse_relay_list, relay_list_tags
from tests.unit.nostr_keys import keypair, sign_event


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("wss://relay.damus.io", "wss://relay.damus.io"),
        ("  WSS://Relay.Damus.IO/ ", "wss://relay.damus.io"),
        ("wss://relay.example:443/", "wss://relay.example"),
        ("ws://relay.example:80", "ws://relay.example"),
        ("ws://relay.example:443", "ws://relay.example:443"),
        ("ws://127.0.0.1:7447", "ws://127.0.0.1:7447"),
        ("wss://relay.example/nostr/", "wss://relay.example/nostr"),
        ("wss://relay.example/Path?x=1#frag", "wss://relay.example/Path?x=1"),
        ("ws://[::1]:7447/", "ws://[::1]:7447"),
        ("wss://[2001:DB8::1]", "wss://[2001:db8::1]"),
    ],
)
def test_normalize_relay_url(url: str, expected: str) -> None:
    assert normalize_relay_url(url) == expected


@pytest.mark.parametrize("url", ["https://relay.example", "relay.example", "", "wss:relay.example", "nostr:x"])
def test_normalize_rejects_other_schemes(url: str) -> None:
    with pytest.raises(ValueError, match="relay URL must start with wss:// or ws://"):
        normalize_relay_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("wss://", "invalid host"),
        ("wss://bad_host!", "invalid host"),
        ("wss://relay.example:99999", "invalid host or port"),
        ("wss://relay.example:abc", "invalid host or port"),
        ("wss://user:pw@relay.example", "user name or password"),
        ("wss://relay.exa mple", "spaces or control characters"),
        ("wss://relay\n.example", "spaces or control characters"),
        ("wss://[::g]", "invalid host or port"),
        ("wss://[::1", "invalid host or port"),
    ],
)
def test_normalize_rejects_malformed(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_relay_url(url)


def test_parse_relay_list() -> None:
    tags = [
        ["r", "wss://both.example/"],
        ["r", "wss://read.example", "read"],
        ["r", "wss://write.example", "write"],
        ["r", "https://not-a-relay.example"],
        ["r"],
        ["r", "WSS://READ.example", "write"],
        ["r", "wss://both.example", "read"],
        ["p", "wss://ignored.example"],
    ]
    event = check_event(sign_event({"kind": 10002, "tags": tags, "created_at": 5}, keypair(1)[0]))
    assert parse_relay_list(event) == [
        RelayEntry("wss://both.example"),
        RelayEntry("wss://read.example", read=True, write=True),
        RelayEntry("wss://write.example", read=False, write=True),
    ]


def test_parse_relay_list_rejects_other_kinds() -> None:
    with pytest.raises(ValueError, match="not a relay list"):
        parse_relay_list(sign_event({"kind": 3, "created_at": 1}, keypair(1)[0]))


def test_relay_list_tags_round_trip() -> None:
    entries = [
        RelayEntry("wss://a.example"),
        RelayEntry("wss://r.example", write=False),
        RelayEntry("wss://w.example", read=False),
        RelayEntry("wss://none.example", read=False, write=False),
    ]
    tags = relay_list_tags(entries)
    assert tags == [
        ["r", "wss://a.example"],
        ["r", "wss://r.example", "read"],
        ["r", "wss://w.example", "write"],
    ]
    event = sign_event({"kind": 10002, "tags": tags, "created_at": 1}, keypair(1)[0])
    assert parse_relay_list(event) == entries[:3]


def test_merge_relays() -> None:
    entries = [
        RelayEntry("wss://mine-read.example", write=False),
        RelayEntry("wss://mine-write.example", read=False),
        RelayEntry("wss://default-1.example"),
    ]
    defaults = ["wss://default-1.example/", "not a url", "wss://default-2.example"]
    assert merge_relays(defaults, entries) == [
        "wss://mine-read.example",
        "wss://default-1.example",
        "wss://default-2.example",
    ]
    assert merge_relays(defaults, entries, for_reading=False) == [
        "wss://mine-write.example",
        "wss://default-1.example",
        "wss://default-2.example",
    ]
    assert merge_relays(defaults, entries, limit=2) == ["wss://mine-read.example", "wss://default-1.example"]
    many = [f"wss://r{i}.example" for i in range(20)]
    assert merge_relays(many, []) == many[:8]
