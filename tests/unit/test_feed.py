import json
from collections import Counter
from typing import Any

import coincurve
import pytest

from asknostr.feed import Feed
from asknostr.nip01 import Event
from asknostr.nip02 import Follow
from asknostr.nip19 import short_npub
from asknostr.nip65 import RelayEntry
from tests.unit.nostr_keys import keypair, sign_event, verify_event

ME, ALICE, BOB = (keypair(seed) for seed in (1, 2, 3))


def event(who: tuple[str, str], created_at: int, kind: int = 1, content: str = "", **extra: Any) -> Event:
    return sign_event(
        {"kind": kind, "content": content or f"note {created_at}", "created_at": created_at, **extra}, who[0]
    )


class CountingVerifier:
    """verify_event that records how often it was called per id."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, event: Event) -> bool:
        self.calls[event["id"]] += 1
        return verify_event(event)


@pytest.fixture
def feed() -> Feed:
    feed = Feed(max_posts=3)
    feed.set_authors([ME[1], ALICE[1]])
    return feed


def test_accepts_valid_post_and_returns_checked_copy(feed: Feed) -> None:
    post = event(ALICE, 100)
    accepted = feed.ingest({**post, "extra": True}, verify_event)
    assert accepted == post
    assert feed.visible_posts() == [post]
    assert feed.dropped == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"content": "tampered"}, "id does not match content"),
        ({"sig": event(BOB, 1)["sig"]}, "bad signature"),
        ({"pubkey": BOB[1]}, "id does not match content"),
        ({"kind": "1"}, "kind must be an integer from 0 to 65535"),
    ],
)
def test_forged_or_malformed_events_are_dropped_with_reason(feed: Feed, change: dict[str, Any], reason: str) -> None:
    version = feed.version
    assert feed.ingest({**event(ALICE, 100), **change}, verify_event) is None
    assert (feed.dropped, feed.last_drop_reason) == (1, reason)
    assert feed.visible_posts() == []
    assert feed.version == version


def test_valid_id_signed_by_another_key_is_dropped(feed: Feed) -> None:
    post = event(ALICE, 100, content="I owe Bob 1 BTC")
    bobs_signature = coincurve.PrivateKey(bytes.fromhex(BOB[0])).sign_schnorr(bytes.fromhex(post["id"]), bytes(32))
    assert feed.ingest({**post, "sig": bobs_signature.hex()}, verify_event) is None
    assert feed.last_drop_reason == "bad signature"


def test_non_objects_and_raising_verifier_are_dropped(feed: Feed) -> None:
    assert feed.ingest("not an event", verify_event) is None
    assert feed.last_drop_reason == "event must be a JSON object"

    def broken(_: Event) -> bool:
        raise RuntimeError("wasm trap")

    assert feed.ingest(event(ALICE, 1), broken) is None
    assert (feed.dropped, feed.last_drop_reason) == (2, "signature check failed: wasm trap")


def test_duplicates_are_verified_once_and_not_counted_as_dropped(feed: Feed) -> None:
    verifier = CountingVerifier()
    post = event(ALICE, 100)
    assert feed.ingest(post, verifier) == post
    version = feed.version
    for _ in range(3):  # the same event from three more relays
        assert feed.ingest(json.loads(json.dumps(post)), verifier) is None
    assert verifier.calls[post["id"]] == 1
    assert feed.dropped == 0
    assert feed.version == version


def test_bad_signature_does_not_block_the_real_event(feed: Feed) -> None:
    verifier = CountingVerifier()
    real = event(ALICE, 100)
    forged = {**real, "sig": event(BOB, 1)["sig"]}
    assert feed.ingest(forged, verifier) is None
    assert feed.ingest(forged, verifier) is None
    assert feed.dropped == 2
    assert verifier.calls[real["id"]] == 1
    assert feed.ingest(real, verifier) == real
    assert verifier.calls[real["id"]] == 2


def test_author_filter_hides_but_keeps_posts(feed: Feed) -> None:
    mine, alices, bobs = event(ME, 1), event(ALICE, 2), event(BOB, 3)
    version = feed.version
    for post in (mine, alices, bobs):
        assert feed.ingest(post, verify_event) == post
    assert feed.visible_posts() == [alices, mine]
    assert feed.version == version + 2  # Bob's post changed nothing visible
    feed.set_authors([BOB[1]])
    assert feed.visible_posts() == [bobs]
    assert feed.version == version + 3
    feed.set_authors([BOB[1]])
    assert feed.version == version + 3


def test_visible_posts_newest_first_ties_by_id_capped(feed: Feed) -> None:
    posts = [event(ALICE, t, content=f"post {i}") for i, t in enumerate([5, 7, 7, 6, 1])]
    for post in posts:
        feed.ingest(post, verify_event)
    tied = sorted(posts[1:3], key=lambda e: e["id"])
    assert feed.visible_posts() == [*tied, posts[3]]


def test_eviction_keeps_twice_max_posts_newest() -> None:
    feed = Feed(max_posts=2)
    feed.set_authors([ALICE[1]])
    alices = [event(ALICE, t) for t in (1, 2)]
    bobs = [event(BOB, t) for t in (10, 11, 12, 13)]
    for post in [*alices, *bobs[:3]]:
        feed.ingest(post, verify_event)
    assert feed.visible_posts() == [alices[1]]  # 5 posts held, capacity 4: Alice's oldest went
    version = feed.version
    feed.ingest(bobs[3], verify_event)
    assert feed.visible_posts() == []
    assert feed.version == version + 1
    feed.set_authors([BOB[1]])
    assert feed.visible_posts() == [bobs[3], bobs[2]]
    assert feed.ingest(alices[0], verify_event) is None  # an evicted post stays seen
    assert feed.dropped == 0


def test_profiles_newest_wins(feed: Feed) -> None:
    assert feed.label(ALICE[1]) == short_npub(ALICE[1])
    older = event(ALICE, 10, kind=0, content=json.dumps({"name": "old"}))
    newer = event(ALICE, 20, kind=0, content=json.dumps({"name": "alice", "display_name": "Alice"}))
    assert feed.ingest(newer, verify_event) == newer
    version = feed.version
    assert feed.ingest(older, verify_event) == older  # valid, accepted, but not newer
    assert feed.version == version
    profile = feed.profile(ALICE[1])
    assert profile is not None
    assert (profile.name, profile.created_at) == ("alice", 20)
    assert feed.label(ALICE[1]) == "Alice"
    assert feed.visible_posts() == []


def test_follow_lists_newest_wins(feed: Feed) -> None:
    first = event(ME, 10, kind=3, tags=[["p", ALICE[1]]])
    second = event(ME, 20, kind=3, tags=[["p", ALICE[1]], ["p", BOB[1], "wss://bob.example"]])
    stale = event(ME, 5, kind=3, tags=[])
    for item in (first, second, stale):
        feed.ingest(item, verify_event)
    follows = feed.follow_lists[ME[1]]
    assert follows.follows == (Follow(ALICE[1]), Follow(BOB[1], "wss://bob.example"))
    assert follows.created_at == 20


def test_relay_lists_newest_wins(feed: Feed) -> None:
    newer = event(BOB, 20, kind=10002, tags=[["r", "wss://new.example", "read"]])
    older = event(BOB, 10, kind=10002, tags=[["r", "wss://old.example"]])
    feed.ingest(newer, verify_event)
    feed.ingest(older, verify_event)
    assert feed.relay_lists[BOB[1]] == [RelayEntry("wss://new.example", write=False)]


def tied(who: tuple[str, str], kind: int, contents: tuple[str, str], **extra: Any) -> tuple[Event, Event]:
    """Two versions of a replaceable event with the same created_at: (lower id, higher id)."""
    low, high = sorted((event(who, 30, kind=kind, content=c, **extra) for c in contents), key=lambda e: e["id"])
    assert low["id"] < high["id"]
    return low, high


@pytest.mark.parametrize("lower_first", [True, False])
def test_profile_tie_keeps_lowest_id(feed: Feed, lower_first: bool) -> None:
    low, high = tied(ALICE, 0, (json.dumps({"name": "one"}), json.dumps({"name": "two"})))
    kept_name = json.loads(low["content"])["name"]
    first, second = (low, high) if lower_first else (high, low)
    feed.ingest(first, verify_event)
    version = feed.version
    assert feed.ingest(second, verify_event) == second
    assert feed.version == (version if lower_first else version + 1)
    profile = feed.profile(ALICE[1])
    assert profile is not None
    assert profile.name == kept_name
    older = event(ALICE, 29, kind=0, content=json.dumps({"name": "older"}))
    feed.ingest(older, verify_event)  # an older version with any id loses
    assert feed.label(ALICE[1]) == kept_name


@pytest.mark.parametrize("lower_first", [True, False])
def test_follow_list_tie_keeps_lowest_id(feed: Feed, lower_first: bool) -> None:
    low, high = tied(ME, 3, ("a", "b"), tags=[["p", ALICE[1]]])
    first, second = (low, high) if lower_first else (high, low)
    feed.ingest(first, verify_event)
    version = feed.version
    feed.ingest(second, verify_event)
    assert feed.version == (version if lower_first else version + 1)
    assert feed.follow_lists[ME[1]].event_id == low["id"]
    assert feed.follow_lists[ME[1]].content == low["content"]


@pytest.mark.parametrize("lower_first", [True, False])
def test_relay_list_tie_keeps_lowest_id(feed: Feed, lower_first: bool) -> None:
    low, high = sorted(
        (event(BOB, 30, kind=10002, tags=[["r", f"wss://{name}.example"]]) for name in ("one", "two")),
        key=lambda e: e["id"],
    )
    first, second = (low, high) if lower_first else (high, low)
    feed.ingest(first, verify_event)
    feed.ingest(second, verify_event)
    expected = [RelayEntry(low["tags"][0][1])]
    assert feed.relay_lists[BOB[1]] == expected
    feed.ingest(event(BOB, 29, kind=10002, tags=[["r", "wss://older.example"]]), verify_event)
    assert feed.relay_lists[BOB[1]] == expected


def test_other_kinds_are_accepted_but_not_shown(feed: Feed) -> None:
    reaction = event(ALICE, 10, kind=7, content="+")
    assert feed.ingest(reaction, verify_event) == reaction
    assert feed.visible_posts() == []


def test_max_posts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Feed(max_posts=0)


def test_an_open_profile_shows_its_authors_media_posts_followed_or_not(feed: Feed) -> None:
    hash_a = "a" * 64
    media = [["imeta", "url https://m.example/" + hash_a + ".mp4", "m video/mp4"]]
    text_only, with_media, newer_media = event(BOB, 1), event(BOB, 2, tags=media), event(BOB, 3, tags=media)
    feed.ingest(text_only, verify_event)
    version = feed.version
    feed.watch(BOB[1])  # Bob is not followed: his profile is opened
    assert feed.version == version + 1
    for post in (with_media, newer_media):
        feed.ingest(post, verify_event)
    assert feed.version == version + 3  # each of his notes is news while his profile is open
    assert feed.posts_by(BOB[1]) == [newer_media, with_media, text_only]
    assert feed.posts_by(BOB[1], media_only=True) == [newer_media, with_media]
    assert bobs_not_in_the_feed(feed)
    feed.watch(None)
    feed.ingest(event(BOB, 4, tags=media), verify_event)
    assert feed.version == version + 4  # closed: his notes change nothing shown


def bobs_not_in_the_feed(feed: Feed) -> bool:
    return all(post["pubkey"] != BOB[1] for post in feed.visible_posts())
