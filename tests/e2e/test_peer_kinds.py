"""Knowing the swarm: the viewer's caption says whether a media's bytes come from the Bridge or from people. The real
Bridge seeds a post's file (the uploader's ping), the uploader leaves, and real browsers play it: the first from the
Bridge alone, the next from the Bridge and the first (a person). A file only its uploader seeds comes from a person."""

from __future__ import annotations

import pytest

from asknostr.peer_kinds import PeerKinds, is_bridge, senders_text
from bridge.seeder import PEER_FINGERPRINT
from tests.e2e.harness import AppUser, Stack, UserFactory, eventually
from tests.e2e.test_composer import LIST, bridge_state, post_files, published
from tests.e2e.test_viewer import play, wait_shared, wav


def peers_of(info_hash: str) -> str:
    """A JS expression: the peer id prefixes this page's torrent `info_hash` is connected to."""
    return f"{LIST}.then((l) => (l.find((t) => t.infoHash === '{info_hash}') || {{ peerIds: [] }}).peerIds)"


def received_from(user: AppUser, info_hash: str) -> dict[str, int]:
    """The bytes `user`'s page received for a torrent, by peer id (torrent_client.js)."""
    (torrent,) = [t for t in user.page.evaluate(LIST) if t["infoHash"] == info_hash]
    return dict(torrent["receivedFrom"])


def post(user: AppUser, stack: Stack, text: str, audio: bytes) -> str:
    post_files(user, text, [("tone.wav", "audio/wav", audio)], community=True)
    (note,) = [e for e in published(stack, user.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    return str(meta["i"])


@pytest.mark.webrtc
def test_the_caption_names_the_bridge_and_people(new_user: UserFactory, stack: Stack) -> None:
    alice = new_user()
    audio = wav(30, tone=550)  # 480 kB
    info_hash = post(alice, stack, "from the Bridge", audio)
    assert bridge_state(stack, info_hash, user=alice) == "seeding"  # the Bridge was pinged and seeds it
    alice.close()  # the uploader's tab is gone: the Bridge alone seeds

    bob = new_user()
    seen = play(bob, info_hash)
    assert seen["source"] == "p2p", seen
    done = wait_shared(bob, info_hash)
    assert done["shared"] == "yes" and done["caption"] == "P2P · from the Bridge · complete", done
    sent = received_from(bob, info_hash)
    assert all(is_bridge(peer) for peer in sent) and sum(sent.values()) >= len(audio), sent

    carol = new_user()  # Bob seeds it now: the Bridge and a person
    carol.show("community")  # in view: the swarm is joined ahead of play, its peers connected before the first piece
    person = "ids.some((i) => i.startsWith('-WW'))"  # WebTorrent's peer ids
    eventually(carol.page, f"{peers_of(info_hash)}.then((ids) => ids.includes('{PEER_FINGERPRINT}') && {person})")
    seen = play(carol, info_hash)
    assert seen["source"] == "p2p", seen
    done = wait_shared(carol, info_hash)
    # which of the two sent which pieces is WebTorrent's choice: the caption says what the page counted
    sent = received_from(carol, info_hash)
    assert sum(sent.values()) >= len(audio), sent
    by_kind = PeerKinds.of([], sent)
    expected = f"P2P · {senders_text(by_kind)} · complete"
    assert done["shared"] == "yes" and done["caption"] == expected, (done, sent)
    if by_kind.from_bridge and by_kind.from_people:
        assert done["caption"].startswith("P2P · from the Bridge + 1 person ("), done


@pytest.mark.webrtc
def test_a_file_only_people_seed_comes_from_people(new_user: UserFactory, stack: Stack) -> None:
    dave = new_user()
    dave.page.route("**/api/ping", lambda route: route.abort())  # the Bridge never hears of it: Dave alone seeds
    info_hash = post(dave, stack, "from a person", wav(20, tone=770))

    erin = new_user()
    seen = play(erin, info_hash)
    assert seen["source"] == "p2p", seen
    done = wait_shared(erin, info_hash)
    assert done["shared"] == "yes" and done["caption"] == "P2P · from 1 person · complete", done
