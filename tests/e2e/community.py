"""A creator's community on the simulated internet (devstack.internet), and who carries a post's bytes to it: the
scenario of `bench/offload.py` and `tests/e2e/test_community_offload.py` (issue 25: followers' browsers, not the
Bridge, should carry a post).

A creator in a home (cone) NAT; followers online and following before the post, so that their browsers join its
swarm by themselves (the orchestrator); the creator posts a real video (tests.e2e.clips: a WebM of Chromium's own,
played over and over to the size asked) with the Bridge pinged as usual, so the Bridge seeds it too; then viewers
open the app one after another, follow the creator and press play. Every user's Chromium runs in a home of its kind
(several contexts may share one Chromium and home: `Mix.per_home`).

How bytes are counted, by source, at the receiving browsers:
- WebRTC, per connection, by getStats: each page's RTCPeerConnections are wrapped (an init script) and their
  candidate pairs' `bytesReceived` kept as a running maximum per pair, read every second and once more just before a
  connection closes (its stats are gone after `close()`). A connection is the Bridge's when its remote description
  has a host candidate on the internet's address (198.18.0.1): only the Bridge listens there, browsers' host
  candidates are private. Any other connection is a browser's, through TURN when either selected candidate is a
  relay (over UDP, TCP or TLS), or when the remote address is 198.18.0.1 (a remote relay candidate learnt as
  peer-reflexive). Not router counters for this: the Bridge's libtorrent and coturn's relays both send from
  198.18.0.1 from ephemeral ports, and coturn's relay range (49152-49999) lies inside Linux's ephemeral range, so a
  router cannot tell them apart by port. The routers' counters of UDP and of TURN over TCP and TLS are kept as a
  check of the totals (homes of one person only: two contexts in one home talk over its LAN, past the router).
- HTTP from the blob origin (the Bridge's media port): iptables accounting rules in each home router's FORWARD
  chain, TCP from 198.18.0.1 with that source port, established flows towards the LAN: the bytes the server really
  sent, aborted requests included (IP and TCP headers too, a few %).
- the Bridge's own figure: `uploaded` of `/api/torrents/<infoHash>` (libtorrent's payload upload), before and after.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Playwright

from devstack.internet import INTERNET, TURN_PORT, TURNS_PORT, Internet, InternetServices, start_services
from devstack.services import stop_all
from tests.e2e.clips import NOISE, record_clip, write_film
from tests.e2e.harness import AppUser, Stack, eventually, home_browsers
from tests.e2e.test_composer import LIST, published

TURN_SECRET = "community-offload-turn-secret"
WEBRTC_RULES = ("udp-internet", "udp-homes", "turn-tcp", "turn-tls")  # what carries WebRTC into a home
SOURCES = ("direct", "turn", "bridge", "http")
SOURCE_NAMES = {
    "direct": "browsers direct",
    "turn": "browsers through TURN",
    "bridge": "the Bridge over WebRTC",
    "http": "HTTP from the blob origin",
}
# heartbeats every 2 s (the default is 60 s): within one run the Bridge hears who seeds the post
BRIDGE_ARGS = ("--heartbeat-interval", "2", "--heartbeats-per-key", "120")


@dataclass(frozen=True)
class Mix:
    """Who is in the community: the NAT kind of each follower and each viewer (devstack.internet.KINDS), in order."""

    followers: tuple[str, ...]
    viewers: tuple[str, ...]
    size: int
    """Bytes of the posted video."""
    creator: str = "cone"
    per_home: int = 1
    """Users of one kind and role sharing a home (one Chromium, a context each): a crowd on two cores."""
    follower_wait: float = 120.0
    """Seconds from the post that viewers wait for the followers that can (those with UDP) to hold the file."""
    bridge_args: tuple[str, ...] = ()
    """The Bridge's options beyond BRIDGE_ARGS (a baseline: `--step-back-holders 0`, a plain seed)."""


DEFAULT_MIX = Mix(
    followers=("cone", "cone", "cone", "symmetric", "symmetric", "no-udp"),
    viewers=("cone", "cone", "symmetric", "no-udp"),
    size=20_000_000,
)
CROWD_MIX = Mix(
    followers=("cone",) * 7 + ("symmetric",) * 5 + ("no-udp",) * 2,
    viewers=("cone", "cone", "cone", "symmetric", "symmetric", "no-udp"),
    size=5_000_000,
    per_home=3,
)


def kinds(spec: str) -> tuple[str, ...]:
    """`cone:3,symmetric:2,no-udp:1` as kinds in order."""
    out: list[str] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, _, count = part.partition(":")
        out += [kind] * int(count or 1)
    return tuple(out)


# In every page before its scripts: its RTCPeerConnections' bytes by source, kept past close() (see the docstring),
# and when the app was ready (ms from navigation).
TRACK = """(() => {
  const Native = window.RTCPeerConnection
  const open = new Set()
  const pairs = new Map()
  let made = 0
  const hostOnInternet = /^a=candidate:\\S+ \\d+ udp \\d+ 198\\.18\\.0\\.1 \\d+ typ host/im
  const snap = async (pc) => {
    let stats
    try { stats = await Native.prototype.getStats.call(pc) } catch { return }
    const byId = new Map()
    stats.forEach((s) => byId.set(s.id, s))
    const bridge = hostOnInternet.test(pc.remoteDescription?.sdp ?? '')
    stats.forEach((s) => {
      if (s.type !== 'candidate-pair' || !(s.bytesReceived + s.bytesSent)) return
      const local = byId.get(s.localCandidateId)
      const remote = byId.get(s.remoteCandidateId)
      const relayed = local?.candidateType === 'relay' || remote?.candidateType === 'relay' ||
        remote?.address === '198.18.0.1'
      const key = `${pc.offloadId}/${s.id}`
      const old = pairs.get(key) ?? { received: 0, sent: 0 }
      pairs.set(key, { source: bridge ? 'bridge' : relayed ? 'turn' : 'direct',
        received: Math.max(old.received, s.bytesReceived), sent: Math.max(old.sent, s.bytesSent) })
    })
  }
  window.RTCPeerConnection = class extends Native {
    constructor (...args) { super(...args); this.offloadId = made++; open.add(this) }
    close () {
      open.delete(this)
      snap(this).finally(() => super.close())
    }
  }
  const live = (pc) => pc.connectionState === 'connected' || pc.connectionState === 'disconnected'
  setInterval(() => { for (const pc of open) if (live(pc)) snap(pc) }, 1000)
  window.offloadBytes = async () => {
    await Promise.all([...open].filter(live).map(snap))
    const out = { direct: [0, 0], turn: [0, 0], bridge: [0, 0] }
    for (const p of pairs.values()) { out[p.source][0] += p.received; out[p.source][1] += p.sent }
    return out
  }
  const ready = setInterval(() => {
    if (document.body?.classList.contains('ready')) { window.offloadReadyMs = performance.now(); clearInterval(ready) }
  }, 100)
})()"""

# when each torrent of the page became complete (ms since the epoch, the machine's clock as Python's time.time)
RECORD_DONE = """() => {
  window.offloadDone = {}
  setInterval(async () => {
    const list = await (await import('/static/js/torrent_client.js')).list()
    for (const t of list) if (t.done && !(t.infoHash in window.offloadDone)) window.offloadDone[t.infoHash] = Date.now()
  }, 500)
}"""

# ms from play() to the first video frame presented; -1 if none within `limit` ms
FIRST_FRAME = """async ([selector, limit]) => {
  const video = document.querySelector(selector)
  video.muted = true
  const t0 = performance.now()
  const frame = new Promise((resolve) => video.requestVideoFrameCallback(() => resolve(performance.now() - t0)))
  video.play().catch(() => {})
  return await Promise.race([frame, new Promise((resolve) => setTimeout(() => resolve(-1), limit))])
}"""

FIGURE = """(ih) => {
  const figure = document.querySelector(`#feed figure.torrent-media[data-infohash='${ih}']`)
  return { ...figure.dataset, caption: figure.querySelector('figcaption')?.textContent ?? '' }
}"""


@dataclass
class Bytes:
    """Bytes received by source (SOURCES)."""

    direct: int = 0
    turn: int = 0
    bridge: int = 0
    http: int = 0

    def __add__(self, other: Bytes) -> Bytes:
        return Bytes(*(getattr(self, s) + getattr(other, s) for s in SOURCES))

    def __sub__(self, other: Bytes) -> Bytes:
        return Bytes(*(getattr(self, s) - getattr(other, s) for s in SOURCES))

    @property
    def total(self) -> int:
        return self.direct + self.turn + self.bridge + self.http

    @property
    def browsers(self) -> int:
        return self.direct + self.turn

    @property
    def browser_share(self) -> float:
        return self.browsers / self.total if self.total else 0.0


@dataclass
class Person:
    name: str
    role: str
    """creator, follower or viewer"""
    kind: str
    home: str
    user: AppUser | None = None


@dataclass
class Follower:
    name: str
    kind: str
    whole_after: float | None
    """Seconds from the post until the browser held the whole file; None: never."""
    received: Bytes


@dataclass
class Viewer:
    name: str
    kind: str
    ready_s: float
    first_frame_ms: float
    """From play() to the first frame presented; -1: none."""
    complete_s: float
    """From play() until the whole file is here and seeded."""
    figure: dict[str, str]
    """The figure's data attributes (source, reason, decidedMs, shared, p2pShare) and its caption."""
    received: Bytes
    bridge_uploaded: int
    """What the Bridge's counter grew by while this viewer played (to anyone)."""
    payload: int
    """WebTorrent's own count of the bytes peers sent (blocks, twice-received ones included, without the transport's
    DTLS, SCTP and message headers); less when the file came over HTTP (its torrent is made again from the file)."""


@dataclass
class Run:
    size: int
    info_hash: str
    delivered: Bytes
    """To every browser, from the post to the end."""
    bridge_uploaded: int
    """The Bridge's own counter over the run."""
    followers: list[Follower]
    viewers: list[Viewer]
    ready_s: dict[str, float]
    """Seconds each person's app took to start."""
    router_udp: int
    """WebRTC's bytes (UDP, TURN over TCP and TLS) the routers passed to homes holding one person: the check of
    getStats' figures."""
    stats_udp: int
    """getStats' WebRTC bytes received by those same persons."""
    posted_s: float
    """From pressing Post to "published" (hashing, upload to the blob origin)."""

    def duplicate(self, viewer: Viewer) -> int:
        return viewer.received.total - self.size


@dataclass
class World:
    internet: Internet
    services: InternetServices
    browsers: dict[str, Browser]
    """One Chromium per home, by home."""
    mix: Mix
    people: list[Person]
    data_dir: Path

    @property
    def stack(self) -> Stack:
        s = self.services
        return Stack(s.relay, s.relay, s.tracker, s.bridge)

    @property
    def media_port(self) -> int:
        port = urlsplit(self.services.bridge.extra["media_url"]).port
        assert port is not None
        return port

    def open(self, person: Person) -> AppUser:
        """`person`'s app in a fresh context of their home's Chromium (not waiting for it to start)."""
        context = self.browsers[person.home].new_context()
        context.add_init_script(TRACK)
        person.user = AppUser.in_context(context, self.stack.app_url, wait=False)
        return person.user

    def alone(self, person: Person) -> bool:
        return sum(p.home == person.home for p in self.people) == 1


def people(mix: Mix) -> list[Person]:
    """The creator, the followers and the viewers, each given a home: alone, or `per_home` of one kind and role."""
    out = [Person("creator", "creator", mix.creator, "creator")]
    for role, mix_kinds in (("follower", mix.followers), ("viewer", mix.viewers)):
        count: dict[str, int] = {}
        for n, kind in enumerate(mix_kinds, 1):
            index = count.get(kind, 0)
            count[kind] = index + 1
            out.append(Person(f"{role} {n}", role, kind, f"{role[0]}-{kind}-{index // mix.per_home + 1}"))
    return out


@contextmanager
def community(playwright: Playwright, data_dir: Path, mix: Mix) -> Iterator[World]:
    """The simulated internet with its services, a home per group of people and a Chromium in each, and counters on
    every router; everything deleted at the end."""
    everyone = people(mix)
    with Internet() as internet:
        internet.add_homes({p.home: p.kind for p in everyone})
        services = start_services(
            internet, data_dir, turn_secret=TURN_SECRET, bridge_args=(*BRIDGE_ARGS, *mix.bridge_args)
        )
        try:
            with home_browsers(playwright, internet, data_dir, services.browser_flags()) as browsers:
                world = World(internet, services, browsers, mix, everyone, data_dir)
                add_counters(world)
                yield world
        finally:
            stop_all(services.all())


def _router(world: World, home: str, *args: str) -> str:
    argv = ["ip", "netns", "exec", world.internet.homes[home].router, "iptables", "-w", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def add_counters(world: World) -> None:
    """Accounting rules (no target: they count and pass) for what each router forwards into its home."""
    rules = {
        "http": ["-p", "tcp", "-s", INTERNET, "--sport", str(world.media_port)],
        "udp-internet": ["-p", "udp", "-s", INTERNET],
        "udp-homes": ["-p", "udp", "!", "-s", INTERNET],
        # TURN over TCP and TLS: how a network without UDP reaches peers
        "turn-tcp": ["-p", "tcp", "-s", INTERNET, "--sport", str(TURN_PORT)],
        "turn-tls": ["-p", "tcp", "-s", INTERNET, "--sport", str(TURNS_PORT)],
    }
    for home in world.internet.homes:
        _router(world, home, "-N", "offload")
        for name, match in rules.items():
            _router(world, home, "-A", "offload", *match, "-m", "comment", "--comment", name)
        # established flows only: what the router's own rules let through to the LAN
        established = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED"]
        _router(world, home, "-I", "FORWARD", "1", "-i", "wan", "-o", "lan", *established, "-j", "offload")


def counters(world: World) -> dict[str, dict[str, int]]:
    """Bytes each home's router let in, by rule (http, udp-internet, udp-homes, turn-tcp, turn-tls), by home."""
    out: dict[str, dict[str, int]] = {}
    for home in world.internet.homes:
        listing = _router(world, home, "-L", "offload", "-v", "-x", "-n")
        out[home] = {m[3]: int(m[2]) for m in re.finditer(r"^\s*(\d+)\s+(\d+)\s.*/\* (\S+) \*/", listing, re.M)}
    return out


def bridge_uploaded(world: World, info_hash: str) -> int:
    """The Bridge's upload counter for the torrent (0 while it does not know it)."""
    try:
        with urllib.request.urlopen(f"{world.services.bridge.url}/api/torrents/{info_hash}") as response:
            return int(json.loads(response.read())["uploaded"])
    except urllib.error.HTTPError:
        return 0


def webrtc_bytes(user: AppUser) -> Bytes:
    got = user.page.evaluate("window.offloadBytes()")
    return Bytes(direct=got["direct"][0], turn=got["turn"][0], bridge=got["bridge"][0])


def ready_s(user: AppUser) -> float:
    user.wait_ready()
    eventually(user.page, "window.offloadReadyMs !== undefined", 5_000)  # TRACK looks every 100 ms
    return float(user.page.evaluate("window.offloadReadyMs")) / 1000


def wait_turn(users: list[AppUser], timeout_ms: float = 30_000) -> None:
    """A TURN credential from the Bridge in every page: connections made from now on may relay."""
    for user in users:
        eventually(user.page, "document.body.dataset.turn === 'ready'", timeout_ms)


def post_video(world: World, creator: AppUser, run: int) -> tuple[str, float, float]:
    """The creator posts a fresh film of `mix.size` bytes from its home feed (the Bridge pinged, as the app does):
    its infoHash, when it was published (time.time) and the seconds it took."""
    path = world.data_dir / f"film-{run}.webm"
    clip = record_clip(creator.page, NOISE, 640, 360, 2000, bitrate=8_000_000)  # each run's its own bytes
    write_film(path, clip, world.mix.size)
    creator.show("feed")
    creator.page.set_input_files("#composer-files", str(path))
    creator.page.fill("#composer-text", f"my film, part {run}")
    started = time.monotonic()
    creator.page.click("#post-button")
    creator.page.locator("#composer-result", has_text="published").wait_for(timeout=300_000)
    at, took = time.time(), time.monotonic() - started
    (note,) = [e for e in published(world.stack, creator.pubkey) if e["kind"] == 1]  # a new key each run
    return str(note["imeta"][0]["i"]), at, took


def done_at(user: AppUser, info_hash: str) -> float | None:
    value = user.page.evaluate("(ih) => window.offloadDone?.[ih] ?? null", info_hash)
    return None if value is None else float(value) / 1000


def wait_followers(world: World, followers: list[Person], info_hash: str, posted_at: float) -> None:
    """Until every follower with UDP holds the file (those without cannot, over P2P alone), at most
    `mix.follower_wait` s from the post."""
    able = [p.user for p in followers if p.user is not None and p.kind != "no-udp"]
    deadline = posted_at + world.mix.follower_wait
    while able and time.time() < deadline:
        able = [u for u in able if done_at(u, info_hash) is None]
        if able:
            able[0].page.wait_for_timeout(500)  # not time.sleep: the pages' requests pass through this process


def play(world: World, viewer: Person, creator: AppUser, info_hash: str, log: Callable[[str], None]) -> Viewer:
    """`viewer` opens the app, follows the creator and presses play on the post as soon as the feed shows it."""
    user = world.open(viewer)
    ready = ready_s(user)
    wait_turn([user])
    before_bridge = bridge_uploaded(world, info_hash)
    before_http = counters(world)[viewer.home]["http"]
    user.follow(creator.npub)
    user.show("feed")
    selector = f'#feed figure.torrent-media[data-infohash="{info_hash}"] video'
    user.page.locator(selector).first.wait_for(timeout=60_000)
    started = time.monotonic()
    first = float(user.page.evaluate(FIRST_FRAME, [selector, 120_000]))
    figure = f"document.querySelector(`#feed figure.torrent-media[data-infohash='{info_hash}']`)"
    with contextlib.suppress(Exception):  # never complete: the figures below say how far it got
        eventually(user.page, f"{figure}.dataset.shared !== undefined", 300_000)
    complete = time.monotonic() - started
    data: dict[str, str] = user.page.evaluate(FIGURE, info_hash)
    entries = [t for t in user.page.evaluate(LIST) if t["infoHash"] == info_hash]
    received = webrtc_bytes(user)
    received.http = counters(world)[viewer.home]["http"] - before_http
    payload = int(entries[0]["received"]) if entries else 0
    result = Viewer(viewer.name, viewer.kind, ready, first, complete, data, received,
                    bridge_uploaded(world, info_hash) - before_bridge, payload)  # fmt: skip
    log(f"  {viewer.name} ({viewer.kind}): first frame {first:.0f} ms, {data.get('caption', '')!r}")
    return result


def run_scenario(world: World, run: int = 1, log: Callable[[str], None] = print) -> Run:
    """One run on `world`: fresh people (new contexts and keys), a fresh film; all contexts closed at the end."""
    persons = world.people
    creator_person = persons[0]
    followers = [p for p in persons if p.role == "follower"]
    viewers = [p for p in persons if p.role == "viewer"]
    try:
        for person in [creator_person, *followers]:
            world.open(person)
        ready = {p.name: ready_s(p.user) for p in [creator_person, *followers] if p.user is not None}
        creator = creator_person.user
        assert creator is not None
        follower_users = [p.user for p in followers if p.user is not None]
        wait_turn([creator, *follower_users])
        for user in follower_users:
            user.follow(creator.npub)
            user.page.evaluate(RECORD_DONE)
        log(f"run {run}: {len(followers)} followers online and following; the creator posts")
        start_counts = counters(world)
        info_hash, posted_at, posted_s = post_video(world, creator, run)
        log(f"  published {info_hash} in {posted_s:.1f} s")
        wait_followers(world, followers, info_hash, posted_at)
        played = [play(world, viewer, creator, info_hash, log) for viewer in viewers]
        ready.update({v.name: v.ready_s for v in played})

        end_counts = counters(world)
        delivered = Bytes()
        stats_udp = router_udp = 0
        follower_results = []
        for person in persons:
            assert person.user is not None
            got = webrtc_bytes(person.user)
            delivered += got
            if world.alone(person):
                stats_udp += got.direct + got.turn + got.bridge
                router_udp += sum(end_counts[person.home][k] - start_counts[person.home][k]
                                  for k in WEBRTC_RULES)  # fmt: skip
            if person.role == "follower":
                at = done_at(person.user, info_hash)
                follower_results.append(Follower(person.name, person.kind, None if at is None else at - posted_at, got))
        delivered.http = sum(end_counts[h]["http"] - start_counts[h]["http"] for h in end_counts)
        return Run(world.mix.size, info_hash, delivered, bridge_uploaded(world, info_hash), follower_results, played,
                   ready, router_udp, stats_udp, posted_s)  # fmt: skip
    finally:
        for person in persons:
            if person.user is not None:
                with contextlib.suppress(Exception):
                    person.user.close()
                person.user = None


def mb(n: float) -> str:
    return f"{n / 1e6:.1f}"


def table(result: Run) -> str:
    """The run's figures as text."""
    size = result.size
    d = result.delivered
    lines = [f"{mb(size)} MB video {result.info_hash}, posted in {result.posted_s:.1f} s", ""]
    lines.append("bytes delivered to the browsers, by source       MB")
    for source in SOURCES:
        lines.append(f"  {SOURCE_NAMES[source]:<45} {mb(getattr(d, source)):>6}")
    lines.append(f"  {'all':<45} {mb(d.total):>6}  ({d.total / size:.1f}x the file)")
    lines.append(f"browsers' share of the bytes delivered: {d.browser_share * 100:.0f} %")
    lines.append(f"the Bridge's upload counter: {mb(result.bridge_uploaded)} MB = {result.bridge_uploaded / size:.2f}x "
                 "the file")  # fmt: skip
    lines.append("")
    lines.append(f"{'follower':<12} {'NAT':<10} {'whole file after':>16} {'direct':>7} {'TURN':>6} {'Bridge':>7}")
    for f in result.followers:
        after = "never" if f.whole_after is None else f"{f.whole_after:.1f} s"
        r = f.received
        lines.append(f"{f.name:<12} {f.kind:<10} {after:>16} {mb(r.direct):>7} {mb(r.turn):>6} {mb(r.bridge):>7}")
    never = [f.name for f in result.followers if f.whole_after is None]
    lines.append(f"never got the file: {', '.join(never) or 'none'}")
    lines.append("")
    lines.append(f"{'viewer':<10} {'NAT':<10} {'1st frame':>9} {'complete':>8} {'browsers':>8} {'Bridge +':>8} "
                 f"{'dup.':>6}  caption")  # fmt: skip
    for v in result.viewers:
        first = "none" if v.first_frame_ms < 0 else f"{v.first_frame_ms / 1000:.2f} s"
        lines.append(f"{v.name:<10} {v.kind:<10} {first:>9} {v.complete_s:>7.1f}s "
                     f"{v.received.browser_share * 100:>7.0f}% {mb(v.bridge_uploaded):>7}M "
                     f"{mb(result.duplicate(v)):>5}M  {v.figure.get('caption', '')}")  # fmt: skip
    lines.append(
        "(dup.: all bytes received minus the file, the transport's headers included; P2P payload below is "
        "WebTorrent's count, without them)"
    )
    lines.append(f"{'':<10} {'':<10} (MB: direct/TURN/Bridge/HTTP received per viewer)")
    for v in result.viewers:
        r = v.received
        lines.append(f"{v.name:<10} {v.kind:<10} {mb(r.direct)}/{mb(r.turn)}/{mb(r.bridge)}/{mb(r.http)} "
                     f"(P2P payload {mb(v.payload)}) source={v.figure.get('source', '?')} "
                     f"reason={v.figure.get('reason', '?')!r} decided={v.figure.get('decidedMs', '?')} ms")  # fmt: skip
    lines.append("")
    lines.append("app started in: " + ", ".join(f"{name} {s:.1f} s" for name, s in result.ready_s.items()))
    check = result.stats_udp / result.router_udp if result.router_udp else 0
    lines.append(f"check: WebRTC into single-person homes at their routers {mb(result.router_udp)} MB, getStats "
                 f"{mb(result.stats_udp)} MB ({check:.2f}; headers and ICE: the routers' a few % more)")  # fmt: skip
    return "\n".join(lines)
