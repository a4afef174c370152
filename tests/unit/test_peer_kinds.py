import pytest
from hypothesis import given
from hypothesis import strategies as st

from asknostr.media_race import Race, progress_text
from asknostr.peer_kinds import BRIDGE_PREFIXES, PeerKinds, is_bridge, peers_text, senders_text, sent_text, who_text
from bridge.possession import PossessionVerifier
from bridge.seeder import PEER_FINGERPRINT

WEBTORRENT = "-WW0208-"  # a browser's WebTorrent 2.8
BRIDGE = PEER_FINGERPRINT + "a1b2c3d4e5f6a1b2c3d4e5f6"  # whole ids: the prefix as text, the rest in hex
ANN, BEN = WEBTORRENT + "11" * 12, WEBTORRENT + "22" * 12


def test_the_bridge_is_told_by_the_prefixes_its_own_code_gives_its_peer_ids() -> None:
    # the core's copy of the Bridge's fingerprints is the Bridge's: its seeder and its possession check
    assert PEER_FINGERPRINT in BRIDGE_PREFIXES
    assert PossessionVerifier.__dataclass_fields__["fingerprint"].default in BRIDGE_PREFIXES
    assert is_bridge(PEER_FINGERPRINT) and is_bridge(BRIDGE)
    assert not is_bridge(WEBTORRENT) and not is_bridge("") and not is_bridge("-qB4620-") and not is_bridge("-AS00")


def test_peers_are_counted_by_kind_and_bytes_by_who_sent_them() -> None:
    kinds = PeerKinds.of([PEER_FINGERPRINT, WEBTORRENT, WEBTORRENT, "-qB4620-"], {BRIDGE: 300, ANN: 60, BEN: 40})
    assert kinds == PeerKinds(bridge=True, people=3, from_bridge=300, from_people=100, people_sent=2)
    assert kinds.count == 4 and kinds.received == 400
    # the Bridge's seeder and its possession check are one Bridge
    assert PeerKinds.of(BRIDGE_PREFIXES).count == 1
    # bytes from a peer gone since still count: who sent them is known by its id; a peer that sent none is no sender
    assert PeerKinds.of([], {ANN: 5, BEN: 0}) == PeerKinds(from_people=5, people_sent=1)
    assert PeerKinds.of([]) == PeerKinds()
    with pytest.raises(ValueError):
        PeerKinds(people=-1)


@pytest.mark.parametrize(
    ("kinds", "words"),
    [
        (PeerKinds(), "no peers"),
        (PeerKinds(bridge=True), "the Bridge"),
        (PeerKinds(people=1), "1 person"),
        (PeerKinds(people=2), "2 people"),
        (PeerKinds(bridge=True, people=1), "the Bridge + 1 person"),
        (PeerKinds(bridge=True, people=2), "the Bridge + 2 people"),
    ],
)
def test_the_peers_in_words(kinds: PeerKinds, words: str) -> None:
    assert who_text(kinds) == words


@pytest.mark.parametrize(
    ("kinds", "words"),
    [
        (PeerKinds(bridge=True, from_bridge=10), "the Bridge"),  # the only one connected sent all: plain already
        (PeerKinds(people=2, from_people=10, people_sent=2), "2 people"),
        (PeerKinds(bridge=True, people=1), "the Bridge + 1 person"),  # nothing received yet
        (PeerKinds(bridge=True, people=1, from_bridge=10), "the Bridge + 1 person (all from the Bridge)"),
        (PeerKinds(bridge=True, people=1, from_people=10, people_sent=1), "the Bridge + 1 person (all from people)"),
        (PeerKinds(True, 2, from_bridge=60, from_people=40, people_sent=1), "the Bridge + 2 people (40% from people)"),
        (PeerKinds(bridge=True, from_people=10, people_sent=1), "the Bridge (all from people)"),  # they left
        (PeerKinds(people=1, from_bridge=1, from_people=999, people_sent=1), "1 person (99% from people)"),  # not 100%
        (PeerKinds(people=1, from_bridge=999, from_people=1, people_sent=1), "1 person (1% from people)"),
    ],
)
def test_while_bytes_come_the_caption_says_who_sent_them_when_it_is_not_plain(kinds: PeerKinds, words: str) -> None:
    assert peers_text(kinds) == words


@pytest.mark.parametrize(
    ("kinds", "words"),
    [
        (PeerKinds(), ""),
        (PeerKinds(bridge=True), ""),  # connected, sent nothing
        (PeerKinds(from_bridge=10), "from the Bridge"),  # gone since: seeds part once both have every piece
        (PeerKinds(from_people=10, people_sent=2), "from 2 people"),
        (PeerKinds(from_bridge=25, from_people=75, people_sent=1), "from the Bridge + 1 person (75% from people)"),
    ],
)
def test_once_here_the_caption_says_who_sent_the_file(kinds: PeerKinds, words: str) -> None:
    assert senders_text(kinds) == words


@given(st.booleans(), st.integers(0, 3), st.integers(0, 10**9), st.integers(0, 10**9))
def test_the_share_from_people_is_a_percentage_strictly_between_none_and_all(
    bridge: bool, people: int, from_bridge: int, from_people: int
) -> None:
    sent = sent_text(PeerKinds(bridge, people, from_bridge, from_people))
    if from_bridge and from_people:
        assert sent.endswith("% from people") and 1 <= int(sent.split("%")[0]) <= 99
    elif not from_bridge and not from_people:
        assert sent == ""


def test_the_viewer_caption_names_the_bridge_and_people() -> None:
    p2p = Race(started=0.0).peers_changed(2, 1).data(10, 1)
    bridge = PeerKinds.of([PEER_FINGERPRINT], {BRIDGE: 10})
    assert progress_text(p2p, speed=1e6, fraction=0.5, peers=bridge) == "P2P · the Bridge · 1.0 MB/s · 50%"
    crowd = PeerKinds.of([PEER_FINGERPRINT, WEBTORRENT, WEBTORRENT], {BRIDGE: 10, ANN: 30})
    assert (
        progress_text(p2p, speed=1e6, fraction=0.5, peers=crowd)
        == "P2P · the Bridge + 2 people (75% from people) · 1.0 MB/s · 50%"
    )
    # once complete, its seeders have left (seeds part): the caption says who sent it
    gone = PeerKinds.of([], {BRIDGE: 10, ANN: 30})
    assert (
        progress_text(p2p, speed=0, fraction=1, peers=gone, done=True)
        == "P2P · from the Bridge + 1 person (75% from people) · complete"
    )
    assert progress_text(p2p, speed=0, fraction=1, peers=PeerKinds(), done=True) == "P2P · no peers · complete"
    trying = Race(started=0.0)
    assert (
        progress_text(trying, speed=0, fraction=0, peers=PeerKinds(bridge=True))
        == "P2P · looking for peers (the Bridge connected)"
    )
    assert progress_text(Race(started=0.0, has_url=False), speed=0, fraction=0, peers=PeerKinds(people=1)) == (
        "P2P only · 1 person"
    )
    stalled = Race(started=0.0, size=100).data(25, 1).tick(6)
    assert (
        progress_text(stalled, speed=0, fraction=1, peers=PeerKinds.of([], {ANN: 25}), done=True, p2p_share=0.25)
        == "P2P 25% + HTTP (P2P stalled after 5 s) · from 1 person · complete"
    )
    # the Bridge and a person gave P2P's quarter: their split is not said, it would read as a share of the file
    both = PeerKinds.of([], {BRIDGE: 10, ANN: 15})
    assert (
        progress_text(stalled, speed=0, fraction=1, peers=both, done=True, p2p_share=0.25)
        == "P2P 25% + HTTP (P2P stalled after 5 s) · from the Bridge + 1 person · complete"
    )
