"""The swarm orchestrator's pure core: the quota pruner (property-based), auto-seed decisions, zap receipts."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asknostr.auto_seed import torrents_to_join
from asknostr.nip57 import zapped_creator
from asknostr.quota_pruner import DoesNotFit, Kept, Ranks, plan_prune, resume_order
from tests.unit.nostr_keys import keypair, sign_event

CREATORS = ["fav", "zap", "fol", "other"]
RANKS = Ranks(favourites=frozenset({"fav"}), zapped=frozenset({"zap"}), followed=frozenset({"fol"}))

kept_items = st.lists(
    st.builds(
        Kept,
        info_hash=st.text("0123456789abcdef", min_size=40, max_size=40),
        size=st.integers(1, 1000),
        added=st.floats(0, 1e6),
        last_access=st.floats(0, 1e6),
        creator=st.sampled_from(CREATORS),
        pinned=st.booleans(),
    ),
    max_size=60,
    unique_by=lambda k: k.info_hash,
)


@given(kept=kept_items, incoming=st.integers(0, 3000), quota=st.integers(1, 20_000))
@settings(max_examples=300)
def test_pruning_makes_room_or_says_it_cannot(kept: list[Kept], incoming: int, quota: int) -> None:
    by_hash = {k.info_hash: k for k in kept}
    used = sum(k.size for k in kept)
    try:
        plan = plan_prune(kept, incoming, quota, RANKS)
    except DoesNotFit:
        unpinned = sum(k.size for k in kept if not k.pinned)
        assert incoming > quota or used - unpinned + incoming > quota
        return
    assert len(set(plan)) == len(plan)
    assert not any(by_hash[h].pinned for h in plan)  # own uploads are never pruned
    freed = sum(by_hash[h].size for h in plan)
    assert used - freed + incoming <= quota
    if plan:  # no more than needed: without the last one it would not fit
        assert used - (freed - by_hash[plan[-1]].size) + incoming > quota
    # a favourite's torrent goes only when every non-favourite one that could go is gone
    if any(by_hash[h].creator == "fav" for h in plan):
        assert all(h in plan for h, k in by_hash.items() if not k.pinned and k.creator != "fav")


def test_least_relevant_go_first() -> None:
    kept = [
        Kept("a" * 40, 100, added=1, last_access=50, creator="fav"),
        Kept("b" * 40, 100, added=2, last_access=10, creator="other"),
        Kept("c" * 40, 100, added=3, last_access=5, creator="fol"),
        Kept("d" * 40, 100, added=0, last_access=1, creator="zap"),
        Kept("e" * 40, 100, added=0, last_access=0, creator="other", pinned=True),
    ]
    assert plan_prune(kept, 100, 500, RANKS) == ["b" * 40]
    assert plan_prune(kept, 250, 500, RANKS) == ["b" * 40, "c" * 40, "d" * 40]
    assert plan_prune(kept, 0, 500, RANKS) == []
    with pytest.raises(DoesNotFit):
        plan_prune(kept, 450, 500, RANKS)  # only the pinned one would be left, and it is 100
    with pytest.raises(DoesNotFit):
        plan_prune([], 501, 500, RANKS)
    assert resume_order(kept, RANKS)[0] == "a" * 40 and resume_order(kept, RANKS)[-1] in ("b" * 40, "e" * 40)


def test_ten_thousand_torrents_are_decided_in_one_pass() -> None:
    kept = [Kept(f"{n:040x}", 1000, n, n % 977, CREATORS[n % 4]) for n in range(10_000)]
    plan = plan_prune(kept, 5000, 10_000 * 1000, RANKS)
    assert len(plan) == 5 and all(h in {k.info_hash for k in kept if k.creator == "other"} for h in plan)


ALICE, BOB = keypair(1)[1], keypair(2)[1]
IH = "ab" * 20


def note(author: str, tags: list[list[str]], content: str = "") -> dict[str, object]:
    return {"id": "9" * 64, "pubkey": author, "kind": 1, "tags": tags, "content": content, "created_at": 1}


def test_posts_of_followed_creators_are_joined_once_and_within_the_cap() -> None:
    event = note(ALICE, [["imeta", "url https://m/a.mp4", f"i {IH}", "size 1000"]])
    (join,) = torrents_to_join(event, {ALICE}, set(), size_cap=5000)
    assert (join.info_hash, join.creator, join.url, join.size) == (IH, ALICE, "https://m/a.mp4", 1000)
    assert join.magnet == f"magnet:?xt=urn:btih:{IH}"
    assert torrents_to_join(event, {BOB}, set(), 5000) == []  # not followed (or unfollowed since)
    assert torrents_to_join(event, {ALICE}, {IH}, 5000) == []  # joined before
    assert torrents_to_join(event, {ALICE}, set(), 999) == []  # over the cap
    text = note(ALICE, [], f"see magnet:?xt=urn:btih:{'cd' * 20}&dn=x")
    assert [j.info_hash for j in torrents_to_join(text, {ALICE}, set(), 5000)] == ["cd" * 20]


def test_zaps_count_only_from_the_users_own_signed_request() -> None:
    secret, me = keypair(7)
    request = sign_event({"kind": 9734, "tags": [["p", BOB], ["amount", "1000"]], "content": ""}, secret)
    receipt = {"kind": 9735, "tags": [["p", BOB], ["description", json.dumps(request)]]}
    assert zapped_creator(receipt, me, lambda e: True) == BOB
    assert zapped_creator(receipt, ALICE, lambda e: True) is None  # someone else's zap
    assert zapped_creator(receipt, me, lambda e: False) is None  # forged signature
    forged = dict(request, content="changed")
    bad = {"kind": 9735, "tags": [["description", json.dumps(forged)]]}
    assert zapped_creator(bad, me, lambda e: True) is None  # id no longer matches
    assert zapped_creator({"kind": 9735, "tags": [["description", "{"]]}, me, lambda e: True) is None
