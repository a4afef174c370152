"""Who a torrent's peers are: the Bridge, or people (a browser, or any other BitTorrent client), told apart by the
start of their peer ids, and the words the viewer's caption uses for them ("the Bridge + 2 people").

The Bridge's peer ids start with the `peer_fingerprint` of its libtorrent sessions: `PEER_FINGERPRINT` of
bridge/seeder.py (its seeder) and `PossessionVerifier.fingerprint` of bridge/possession.py (the check that a browser
holds what it claims to seed). They are kept here as constants rather than read from the Bridge's /config.json: they
are fixed in the Bridge's code (every deployment's Bridge uses them, so a Bridge met in a swarm of another
deployment's post is named too), and tests/unit/test_peer_kinds.py checks that they are the Bridge's own. WebTorrent
in a browser starts its ids with `-WW` and its version; every id that is not the Bridge's is a person's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BRIDGE_PREFIXES = ("-AS0001-", "-AV0001-")
"""bridge/seeder.py's PEER_FINGERPRINT and bridge/possession.py's PossessionVerifier.fingerprint."""


def is_bridge(peer_id: str) -> bool:
    """`peer_id`: a peer id, or its start (8 characters at least), as text."""
    return peer_id.startswith(BRIDGE_PREFIXES)


@dataclass(frozen=True)
class PeerKinds:
    """A torrent's connected peers by kind; and over the torrent's life (peers gone since too), the peers that sent
    it bytes by kind, and the bytes each kind sent. The Bridge's two sessions (its seeder, its possession check) count
    as one: the Bridge."""

    bridge: bool = False
    people: int = 0
    from_bridge: int = 0
    from_people: int = 0
    people_sent: int = 0  # how many people sent bytes

    def __post_init__(self) -> None:
        if min(self.people, self.from_bridge, self.from_people, self.people_sent) < 0:
            raise ValueError(f"no negative count of peers or bytes: {self}")

    @classmethod
    def of(cls, peer_ids: Iterable[str], received_from: Mapping[str, int] | None = None) -> PeerKinds:
        """`peer_ids`: the connected peers' ids (or their starts); `received_from`: the bytes received by peer id."""
        ids = list(peer_ids)
        sent = {peer_id: int(n) for peer_id, n in (received_from or {}).items() if int(n) > 0}
        return cls(
            bridge=any(map(is_bridge, ids)),
            people=sum(not is_bridge(peer_id) for peer_id in ids),
            from_bridge=sum(n for peer_id, n in sent.items() if is_bridge(peer_id)),
            from_people=sum(n for peer_id, n in sent.items() if not is_bridge(peer_id)),
            people_sent=sum(not is_bridge(peer_id) for peer_id in sent),
        )

    @property
    def count(self) -> int:
        """Peers connected (the Bridge as one)."""
        return int(self.bridge) + self.people

    @property
    def received(self) -> int:
        return self.from_bridge + self.from_people


def people_text(people: int) -> str:
    return "1 person" if people == 1 else f"{people} people"


def names_text(bridge: bool, people: int) -> str:
    """ "the Bridge", "2 people", "the Bridge + 1 person", "no peers"."""
    names = (["the Bridge"] if bridge else []) + ([people_text(people)] if people else [])
    return " + ".join(names) or "no peers"


def who_text(kinds: PeerKinds) -> str:
    """The connected peers in words."""
    return names_text(kinds.bridge, kinds.people)


def share_text(kinds: PeerKinds) -> str:
    """The part of the bytes people sent, when both the Bridge and people sent some: "40% from people" (never 0% nor
    100%: both did send); "" otherwise."""
    if not (kinds.from_bridge and kinds.from_people):
        return ""
    return f"{min(99, max(1, round(100 * kinds.from_people / kinds.received)))}% from people"


def sent_text(kinds: PeerKinds) -> str:
    """Who sent the bytes, when the peers connected do not already say it: "all from the Bridge", "all from
    people", "40% from people"; "" when nothing came, or only from the one kind connected."""
    if not kinds.received:
        return ""
    if kinds.from_bridge and kinds.from_people:
        return share_text(kinds)
    if kinds.from_bridge:
        return "" if kinds.bridge and not kinds.people else "all from the Bridge"
    return "" if kinds.people and not kinds.bridge else "all from people"


def peers_text(kinds: PeerKinds) -> str:
    """The caption's part on peers while bytes come: who is connected, and who sent the bytes when that is not
    plain ("the Bridge + 2 people (40% from people)")."""
    sent = sent_text(kinds)
    return who_text(kinds) + (f" ({sent})" if sent else "")


def senders_text(kinds: PeerKinds, *, all_p2p: bool = True) -> str:
    """Who sent the file, once it is here (its peers may have left: seeds part when both have everything): "from the
    Bridge", "from 2 people", "from the Bridge + 1 person (75% from people)"; "" when no peer sent any. Without
    `all_p2p` (HTTP gave the rest) the people's part is left out: "75%" would read as 75% of the file."""
    if not kinds.received:
        return ""
    share = share_text(kinds) if all_p2p else ""
    return f"from {names_text(kinds.from_bridge > 0, kinds.people_sent)}" + (f" ({share})" if share else "")
