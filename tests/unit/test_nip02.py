import pytest

from asknostr.nip01 import check_event
from asknostr.nip02 import Follow, FollowList, newer, parse_follow_list
from tests.unit.nostr_keys import keypair, sign_event

ME = keypair(1)
ALICE, BOB, CAROL = (keypair(seed)[1] for seed in (2, 3, 4))


def test_parse_keeps_everything_for_republishing() -> None:
    tags = [
        ["p", ALICE, "wss://alice.example", "alice"],
        ["t", "hashtag", "extra"],
        ["p", BOB],
        ["p", "not-hex"],
        ["p"],
        ["p", ALICE.upper()],
        ["p", ALICE, "wss://dup.example"],
        ["p", CAROL, "", "carol"],
    ]
    event = check_event(sign_event({"kind": 3, "tags": tags, "content": '{"legacy":1}', "created_at": 50}, ME[0]))
    follows = parse_follow_list(event)
    assert follows.follows == (
        Follow(ALICE, "wss://alice.example", "alice"),
        Follow(BOB),
        Follow(CAROL, "", "carol"),
    )
    assert follows.pubkeys() == [ALICE, BOB, CAROL]
    assert follows.content == '{"legacy":1}'
    assert follows.created_at == 50
    assert follows.to_tags() == [
        ["p", ALICE, "wss://alice.example", "alice"],
        ["p", BOB],
        ["p", CAROL, "", "carol"],
        ["t", "hashtag", "extra"],
    ]


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
    old, new, same_time = (
        FollowList((), created_at=1),
        FollowList((), created_at=2),
        FollowList((), created_at=2),
    )
    assert newer(None, old) is old
    assert newer(old, new) is new
    assert newer(new, old) is new
    assert newer(new, same_time) is new
