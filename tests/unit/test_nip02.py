import pytest

from asknostr.nip01 import check_event
from asknostr.nip02 import Follow, FollowList, newer, parse_follow_list, supersedes
from tests.unit.nostr_keys import keypair, sign_event

ME = keypair(1)
ALICE, BOB, CAROL = (keypair(seed)[1] for seed in (2, 3, 4))


def test_parse_keeps_everything_for_republishing() -> None:
    dave = keypair(5)[1]
    tags = [
        ["p", ALICE, "wss://alice.example", "alice"],
        ["t", "hashtag", "extra"],
        ["p", BOB],
        ["p", "not-hex"],
        ["p"],
        ["p", ALICE.upper()],
        ["p", ALICE, "wss://dup.example"],
        ["p", dave.upper(), "wss://dave.example"],
        ["p", CAROL[:-1], "wss://short.example"],
        ["p", CAROL + "0"],
        ["p", "g" * 64],
        ["p", CAROL, "", "carol"],
    ]
    event = check_event(sign_event({"kind": 3, "tags": tags, "content": '{"legacy":1}', "created_at": 50}, ME[0]))
    follows = parse_follow_list(event)
    assert follows.follows == (
        Follow(ALICE, "wss://alice.example", "alice"),
        Follow(BOB),
        Follow(dave, "wss://dave.example"),
        Follow(CAROL, "", "carol"),
    )
    assert follows.pubkeys() == [ALICE, BOB, dave, CAROL]
    assert follows.is_following(dave)
    assert not follows.is_following(CAROL[:-1])
    assert follows.content == '{"legacy":1}'
    assert (follows.created_at, follows.event_id) == (50, event["id"])
    unparsed = [
        ["t", "hashtag", "extra"],
        ["p", "not-hex"],
        ["p"],
        ["p", CAROL[:-1], "wss://short.example"],
        ["p", CAROL + "0"],
        ["p", "g" * 64],
    ]
    assert follows.to_tags() == [
        ["p", ALICE, "wss://alice.example", "alice"],
        ["p", BOB],
        ["p", dave, "wss://dave.example"],
        ["p", CAROL, "", "carol"],
        *unparsed,
    ]
    # Following and unfollowing re-publish the unparsed `p` tags unchanged.
    assert follows.unfollow(BOB).follow(keypair(6)[1]).to_tags()[-len(unparsed) :] == unparsed


def test_reparsing_published_tags_is_stable() -> None:
    tags = [["p", ALICE.upper(), "wss://a.example"], ["p", "short"], ["e", "x"], ["p", BOB]]
    first = parse_follow_list(check_event(sign_event({"kind": 3, "tags": tags, "created_at": 1}, ME[0])))
    republished = sign_event({"kind": 3, "tags": first.to_tags(), "created_at": 2}, ME[0])
    second = parse_follow_list(check_event(republished))
    assert (second.follows, second.other_tags) == (first.follows, first.other_tags)
    assert second.to_tags() == first.to_tags()


def test_parse_rejects_other_kinds() -> None:
    event = sign_event({"kind": 1, "created_at": 1}, ME[0])
    with pytest.raises(ValueError, match="not a follow list"):
        parse_follow_list(event)


def test_follow_and_unfollow() -> None:
    empty = FollowList(())
    one = empty.follow(ALICE)
    two = one.follow(BOB)
    assert two.pubkeys() == [ALICE, BOB]
    assert two.follow(ALICE) is two
    assert two.is_following(BOB)
    assert not empty.is_following(ALICE)
    assert two.unfollow(ALICE).pubkeys() == [BOB]
    assert two.unfollow(CAROL) == two
    assert empty.pubkeys() == []
    with pytest.raises(ValueError, match="64 lowercase hex"):
        empty.follow("npub1xyz")


def test_follow_keeps_other_fields() -> None:
    original = FollowList((Follow(ALICE),), content="c", other_tags=(("t", "x"),), created_at=9)
    changed = original.follow(BOB).unfollow(ALICE)
    assert (changed.content, changed.other_tags, changed.created_at) == ("c", (("t", "x"),), 9)
    assert changed.to_tags() == [["p", BOB], ["t", "x"]]


def test_newer_is_the_replaceable_event_rule() -> None:
    old, new = FollowList((), created_at=1, event_id="f" * 64), FollowList((), created_at=2, event_id="e" * 64)
    assert newer(None, old) is old
    assert newer(old, new) is new
    assert newer(new, old) is new


def test_newer_on_a_tie_keeps_the_lowest_id() -> None:
    low, high = FollowList((), created_at=2, event_id="0a" * 32), FollowList((), created_at=2, event_id="0b" * 32)
    assert newer(low, high) is low
    assert newer(high, low) is low
    same = FollowList((Follow(ALICE),), created_at=2, event_id="0a" * 32)
    assert newer(low, same) is low  # the same event again: the one held stays


def test_supersedes() -> None:
    assert supersedes(2, "b", 1, "a")
    assert not supersedes(1, "a", 2, "b")
    assert supersedes(5, "a", 5, "b")
    assert not supersedes(5, "b", 5, "a")
    assert not supersedes(5, "a", 5, "a")
