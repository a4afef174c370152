"""Swarm health: who says they seed what, who proved it, and when the Bridge may let go of its copy.

Pure functions and plain data (no I/O, no clock of its own): the heartbeat endpoint parses votes (kept as
database rows, one per pubkey and infoHash: bridge.db), the possession check (bridge.possession) feeds `ProofBook`,
the retention job asks `claimed_seeders`, `proven_seeders` and `HandoffPolicy`.

Claims: a heartbeat is a vote, "pubkey P seeds infoHash H and sees N seeders", counted once per pubkey per infoHash
and alive for a TTL; the tracker's scrape counts announces. Keys and announces are free, so claims only decide
whether a swarm is worth checking (`claimed_seeders`: distinct live voters, capped by what the Bridge observes).

Proofs decide: a seeder counts toward a handoff only when it served the Bridge blocks of pieces the Bridge chose at
random, which then passed their SHA-1 check, recently; counted by network address (an IPv6 /64 is one), so one
machine with many keys, or many browsers behind one router, counts once.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_TORRENTS_PER_HEARTBEAT = 1000
MAX_CLAIMED_SEEDERS = 1_000_000

_INFO_HASH = re.compile(r"[0-9a-f]{40}")


class HeartbeatError(ValueError):
    """A heartbeat body that does not follow the format; the message says what is wrong."""


@dataclass(frozen=True)
class Report:
    """One line of a heartbeat: the browser seeds `info_hash` and sees `seeders` seeders (itself included)."""

    info_hash: str
    seeders: int


def parse_heartbeat(payload: object) -> list[Report]:
    """`{"torrents": [{"info_hash": "<40 hex>", "seeders": <int ≥ 0>}, …]}` → reports, duplicates merged."""
    if not isinstance(payload, dict) or not isinstance(payload.get("torrents"), list):
        raise HeartbeatError('body must be JSON {"torrents": [{"info_hash": "<40 hex>", "seeders": <count>}, …]}')
    entries: list[object] = payload["torrents"]
    if len(entries) > MAX_TORRENTS_PER_HEARTBEAT:
        raise HeartbeatError(f"at most {MAX_TORRENTS_PER_HEARTBEAT} torrents per heartbeat")
    reports: dict[str, Report] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise HeartbeatError(f"torrents[{index}] must be an object")
        info_hash, seeders = entry.get("info_hash"), entry.get("seeders", 0)
        if not isinstance(info_hash, str) or not _INFO_HASH.fullmatch(info_hash.lower()):
            raise HeartbeatError(f"torrents[{index}].info_hash must be 40 hex digits")
        if isinstance(seeders, bool) or not isinstance(seeders, int) or not 0 <= seeders <= MAX_CLAIMED_SEEDERS:
            raise HeartbeatError(f"torrents[{index}].seeders must be an integer from 0 to {MAX_CLAIMED_SEEDERS}")
        reports[info_hash.lower()] = Report(info_hash.lower(), seeders)
    return list(reports.values())


def asks_held(payload: object) -> bool:
    """Whether a heartbeat (checked by parse_heartbeat) asks which of its torrents the Bridge holds: `"ask_held":
    true`, answered with `"held": [<infoHash>, …]` (opt-in: an older client gets the answer it knows, and no list of
    up to 1,000 infoHashes it does not read)."""
    ask = payload.get("ask_held", False) if isinstance(payload, dict) else False
    if not isinstance(ask, bool):
        raise HeartbeatError("ask_held must be true or false")
    return ask


@dataclass(frozen=True)
class Observed:
    """What the Bridge sees of a swarm by itself."""

    connected_seeds: int = 0
    """Peers with the whole file connected to the Bridge's libtorrent session."""
    tracker_seeders: int | None = None
    """The tracker scrape's `complete`, the Bridge's own announce taken off; None when no tracker answered."""

    @property
    def seeders(self) -> int:
        return max(self.connected_seeds, self.tracker_seeders or 0)


def claimed_seeders(voters: int, observed: Observed) -> int:
    """The seeders claimed: distinct live voters, but no more than the Bridge can see itself. Enough claims make a
    swarm worth checking; they never make a handoff."""
    return min(voters, observed.seeders)


@dataclass(frozen=True)
class Proof:
    """The peer at `address` (`peer_id`, hex) sent blocks of piece `piece`, which then passed its SHA-1 check."""

    address: str
    peer_id: str
    piece: int
    at: float


@dataclass(frozen=True)
class Failure:
    """The peer sent blocks of `piece` and the piece failed its check; `sole`: it sent every block (so it lied)."""

    address: str
    peer_id: str
    piece: int
    at: float
    sole: bool


def _network(address: str, ipv6_prefix: int) -> str:
    """The unit counted: an IPv4 address, or the IPv6 /`ipv6_prefix` it belongs to (one subscriber gets a /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)


def proven_seeders(
    proofs: Iterable[Proof],
    failures: Iterable[Failure],
    *,
    now: float,
    window: float,
    per_peer: bool = False,
    ipv6_prefix: int = 64,
    ignore: Iterable[str] = (),
) -> int:
    """The seeders proven within `window` seconds before `now`: distinct network addresses with a proof.

    A peer (address and peer id) that alone sent a piece failing its check within the window counts for nothing.
    `per_peer` counts (address, peer id) pairs instead of addresses: for tests, where every peer shares one address,
    never in production (a peer id is the peer's own choice). `ignore`: addresses that are the Bridge's own."""
    ignored = {_network(address, ipv6_prefix) for address in ignore}
    liars = {(f.address, f.peer_id) for f in failures if f.sole and now - window < f.at <= now}
    counted: set[tuple[str, str]] = set()
    for proof in proofs:
        if not now - window < proof.at <= now or (proof.address, proof.peer_id) in liars:
            continue
        network = _network(proof.address, ipv6_prefix)
        if network not in ignored:
            counted.add((network, proof.peer_id if per_peer else ""))
    return len(counted)


@dataclass
class ProofBook:
    """The proofs and failures of possession per infoHash, kept for `window` seconds."""

    window: float
    per_peer: bool = False
    """Count (address, peer id) pairs, not addresses: tests only (every peer of a test network shares an address)."""
    _proofs: dict[str, list[Proof]] = field(default_factory=dict)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)

    def record(self, info_hash: str, proofs: Iterable[Proof], failures: Iterable[Failure], now: float) -> None:
        fresh = [p for p in (*self._proofs.get(info_hash, ()), *proofs) if now - p.at < self.window]
        failed = [f for f in (*self._failures.get(info_hash, ()), *failures) if now - f.at < self.window]
        self._proofs[info_hash], self._failures[info_hash] = fresh, failed

    def proven(self, info_hash: str, now: float) -> int:
        return proven_seeders(
            self._proofs.get(info_hash, ()),
            self._failures.get(info_hash, ()),
            now=now,
            window=self.window,
            per_peer=self.per_peer,
        )

    def forget(self, info_hash: str) -> None:
        self._proofs.pop(info_hash, None)
        self._failures.pop(info_hash, None)


def tracker_seeders_besides_us(complete: int, we_announce: bool) -> int:
    """A scrape's `complete` without the Bridge itself (counted when it announces the torrent as a seed)."""
    return max(0, complete - (1 if we_announce else 0))


@dataclass(frozen=True)
class HandoffPolicy:
    """Let go of a torrent when more than `min_seeders` seeders proved they hold it (`active`, from
    `proven_seeders`) and it is older than `min_age` seconds; take a handed-off torrent back when fewer than
    `take_back_below` seeders prove it in a round (while one still can give it)."""

    min_seeders: int = 10
    min_age: float = 24 * 3600
    take_back_below: int = 3

    def hand_off(self, *, created: float, now: float, active: int) -> bool:
        return active > self.min_seeders and now - created > self.min_age

    def take_back(self, *, active: int) -> bool:
        return active < self.take_back_below
