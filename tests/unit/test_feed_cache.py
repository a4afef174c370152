import json
from typing import Any

import pytest

from asknostr.feed import Feed
from asknostr.feed_cache import FeedCache, dumps, loads
from asknostr.nip01 import Event
from tests.unit.nostr_keys import keypair, sign_event, verify_event

ME, ALICE, BOB, CAROL = (keypair(seed) for seed in (11, 12, 13, 14))


def event(who: tuple[str, str], created_at: int, kind: int = 1, content: str = "", **extra: Any) -> Event:
    return sign_event(
        {"kind": kind, "content": content or f"note {created_at}", "created_at": created_at, **extra}, who[0]
    )


def name(who: tuple[str, str], created_at: int, text: str) -> Event:
    return event(who, created_at, kind=0, content=json.dumps({"name": text}))


def follow_list(created_at: int, *people: tuple[str, str]) -> Event:
    return event(ME, created_at, kind=3, content="", tags=[["p", who[1]] for who in people])


def session(events: list[Event]) -> tuple[Feed, FeedCache]:
    """A feed and its cache that saw `events` from relays, showing the posts of ME's follows and ME."""
    feed, cache = Feed(), FeedCache()
    for raw in events:
        accepted = feed.ingest(raw, verify_event)
        if accepted is not None:
            cache.note(accepted)
    follows = feed.follow_lists.get(ME[1])
    feed.set_authors([ME[1], *(follows.pubkeys() if follows else [])])
    return feed, cache


def restart(text: str) -> Feed:
    """A new session of ME reading the stored text back: every event re-checked by Feed.ingest."""
    feed, _ = session(loads(text, ME[1]))
    return feed


def stored_events(text: str) -> list[Any]:
    events: list[Any] = json.loads(text)["events"]
    return events


def test_the_last_feed_comes_back_with_names_and_follows() -> None:
    events = [
        follow_list(50, ALICE, BOB),
        name(ME, 51, "me"),
        name(ALICE, 52, "alice"),
        name(BOB, 53, "bob"),
        name(CAROL, 54, "carol, not followed"),
        event(ALICE, 100),
        event(BOB, 101),
        event(ME, 102),
        event(CAROL, 103),  # not shown: not followed
    ]
    feed, cache = session(events)
    text = dumps(cache.snapshot(feed.visible_posts(), ME[1]), ME[1])
    again = restart(text)
    assert again.visible_posts() == feed.visible_posts()
    assert [again.label(who[1]) for who in (ME, ALICE, BOB)] == ["me", "alice", "bob"]
    assert again.follow_lists[ME[1]].pubkeys() == [ALICE[1], BOB[1]]
    stored_ids = {raw["id"] for raw in stored_events(text)}
    assert events[4]["id"] not in stored_ids and events[8]["id"] not in stored_ids  # Carol's: not shown


def test_only_the_newest_posts_are_kept() -> None:
    posts = [event(ALICE, 100 + n) for n in range(10)]
    feed, _ = session([follow_list(50, ALICE), *posts])
    cache = FeedCache(max_posts=3)
    for raw in [follow_list(50, ALICE), *posts]:
        cache.note(raw)
    again = restart(dumps(cache.snapshot(feed.visible_posts(), ME[1]), ME[1]))
    assert again.visible_posts() == sorted(posts, key=lambda e: -e["created_at"])[:3]


def test_the_store_stays_within_its_bytes_dropping_the_oldest_posts_with_their_authors() -> None:
    events = [
        follow_list(50, ALICE, BOB),
        name(ALICE, 51, "a" * 300),
        name(BOB, 52, "b" * 300),
        *(event(BOB, 90 + n, content="old " + "x" * 200) for n in range(3)),
        *(event(ALICE, 100 + n, content="new " + "y" * 200) for n in range(5)),
    ]
    feed, _ = session(events)
    unbounded = FeedCache()
    for raw in events:
        unbounded.note(raw)
    full = json.dumps(unbounded.snapshot(feed.visible_posts(), ME[1]), separators=(",", ":"))
    limit = len(full.encode()) - 400  # Bob's posts and profile cannot all fit
    bounded = FeedCache(max_bytes=limit)
    for raw in events:
        bounded.note(raw)
    text = dumps(bounded.snapshot(feed.visible_posts(), ME[1]), ME[1])
    assert len(json.dumps(stored_events(text), separators=(",", ":")).encode()) <= limit
    again = restart(text)
    shown = again.visible_posts()
    assert [e["id"] for e in shown] == [e["id"] for e in feed.visible_posts()[: len(shown)]]  # the newest
    assert 5 <= len(shown) < 8
    for post in shown:  # each kept post has its author's name
        assert again.profile(post["pubkey"]) is not None


def test_a_tampered_store_cannot_add_or_change_an_event() -> None:
    feed, cache = session([follow_list(50, ALICE), name(ALICE, 51, "alice"), event(ALICE, 100), event(ALICE, 101)])
    text = dumps(cache.snapshot(feed.visible_posts(), ME[1]), ME[1])
    stored = stored_events(text)
    edited = next(raw for raw in stored if raw["kind"] == 1)
    edited["content"] = "something Alice never said"
    forged = {**event(ALICE, 102, content="forged"), "sig": edited["sig"]}
    renamed = next(raw for raw in stored if raw["kind"] == 0)
    renamed["content"] = json.dumps({"name": "mallory"})
    again = restart(dumps([*stored, forged], ME[1]))
    assert [e["content"] for e in again.visible_posts()] == ["note 100"]  # 101 was edited
    assert again.dropped == 3
    assert again.label(ALICE[1]) != "mallory"


@pytest.mark.parametrize(
    "text",
    [None, "", "not json", "{}", '"a string"', "[1, null, []]", json.dumps({"format": 1, "me": ME[1], "events": 5})],
)
def test_an_unreadable_store_gives_nothing(text: str | None) -> None:
    assert loads(text, ME[1]) == []


def test_another_identitys_store_gives_nothing() -> None:
    text = dumps([event(ALICE, 100)], ALICE[1])
    assert loads(text, ME[1]) == []
    assert loads(text, ALICE[1]) == [event(ALICE, 100)]


def test_loads_gives_the_replaceable_events_first_and_skips_what_is_not_an_object() -> None:
    post, me = event(ALICE, 100), name(ME, 50, "me")
    assert loads(dumps([post, 7, me, "x"], ME[1]), ME[1]) == [me, post]  # type: ignore[list-item]


def test_note_keeps_the_newest_replaceable_event_per_author_and_ignores_notes() -> None:
    cache = FeedCache()
    newer, older = name(ALICE, 60, "new"), name(ALICE, 50, "old")
    cache.note(newer)
    cache.note(older)
    cache.note(event(ALICE, 100))
    assert cache.latest(0, ALICE[1]) == newer
    assert cache.latest(1, ALICE[1]) is None
    assert cache.snapshot([], None) == []


def test_own_events_come_first_and_followed_profiles_fill_what_room_is_left() -> None:
    mine = [follow_list(50, ALICE, BOB), name(ME, 51, "me"), event(ME, 52, kind=10002, tags=[["r", "wss://r.example"]])]
    alice, bob = name(ALICE, 53, "alice"), name(BOB, 54, "bob")
    cache = FeedCache()
    for raw in [*mine, alice, bob]:
        cache.note(raw)
    snapshot = cache.snapshot([], ME[1])
    assert snapshot[:3] == [mine[1], mine[0], mine[2]]
    assert snapshot[3:] == [alice, bob]
    room = (
        len(json.dumps(snapshot[:4], separators=(",", ":")).encode()) + 4
    )  # own events and Alice's profile, not Bob's
    small = FeedCache(max_bytes=room)
    for raw in [*mine, alice, bob]:
        small.note(raw)
    assert small.snapshot([], ME[1])[3:] == [alice]


def test_limits_must_not_be_negative() -> None:
    with pytest.raises(ValueError):
        FeedCache(max_posts=-1)
