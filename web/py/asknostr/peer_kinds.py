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
    """A torrent's connected peers by kind, and the bytes received from each kind over the torrent's life (also from
    peers gone since)."""

    bridges: int = 0
    people: int = 0
    from_bridge: int = 0
    from_people: int = 0

    def __post_init__(self) -> None:
        if min(self.bridges, self.people, self.from_bridge, self.from_people) < 0:
            raise ValueError(f"no negative count of peers or bytes: {self}")

    @classmethod
    def of(cls, peer_ids: Iterable[str], received_from: Mapping[str, int] | None = None) -> PeerKinds:
        """`peer_ids`: the start of each connected peer's id; `received_from`: bytes received by peer id start."""
        kinds = [is_bridge(peer_id) for peer_id in peer_ids]
        received = dict(received_from or {})
        return cls(
            bridges=sum(kinds),
            people=len(kinds) - sum(kinds),
            from_bridge=sum(int(n) for peer_id, n in received.items() if is_bridge(peer_id)),
            from_people=sum(int(n) for peer_id, n in received.items() if not is_bridge(peer_id)),
        )

    @property
    def count(self) -> int:
        return self.bridges + self.people

    @property
    def received(self) -> int:
        return self.from_bridge + self.from_people


def people_text(people: int) -> str:
    return "1 person" if people == 1 else f"{people} people"


def who_text(kinds: PeerKinds) -> str:
    """The connected peers in words: "the Bridge", "2 people", "the Bridge + 1 person", "no peers"."""
    names = []
    if kinds.bridges:
        names.append("the Bridge" if kinds.bridges == 1 else f"{kinds.bridges} Bridges")
    if kinds.people:
        names.append(people_text(kinds.people))
    return " + ".join(names) or "no peers"


def sent_text(kinds: PeerKinds) -> str:
    """Who sent the bytes received, when the peers named do not already say it: "all from the Bridge", "all from
    people", "40% from people"; "" when nothing came, or only from the one kind connected."""
    if not kinds.received:
        return ""
    if kinds.from_bridge and kinds.from_people:
        share = min(99, max(1, round(100 * kinds.from_people / kinds.received)))  # both sent: never 0% nor 100%
        return f"{share}% from people"
    if kinds.from_bridge:
        return "" if kinds.bridges and not kinds.people else "all from the Bridge"
    return "" if kinds.people and not kinds.bridges else "all from people"


def peers_text(kinds: PeerKinds) -> str:
    """The caption's part on peers: who is connected, and who sent the bytes when that is not plain."""
    sent = sent_text(kinds)
    return who_text(kinds) + (f" ({sent})" if sent else "")
