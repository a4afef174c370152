"""HTTP never fetches a byte twice, and P2P does not fetch what HTTP fetches (issue 25, items 3b and 4), in real
browsers talking WebRTC: a 20 MB video played with no seeder at all comes over HTTP as little more than the file
(before, 4 MiB Range answers were stopped half way and asked again: 31-33 MB for a 20 MB file), and one whose only
seeder stalls after part of it gets the rest over HTTP with next to no byte coming both ways. The bytes are counted
where the media server sends them (a proxy in front of it), answers the viewer stopped included."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.blossom import start_blossom
from devstack.services import Service, free_port, start_bridge, start_relay, stop_all
from tests.e2e.clips import NOISE, record_clip, write_film
from tests.e2e.harness import AppUser, Stack, UserFactory
from tests.e2e.test_composer import add_server, post_files, published
from tests.e2e.test_stalled_peers import ranges_asked
from tests.e2e.test_viewer import play, wait_shared

pytestmark = [pytest.mark.slow, pytest.mark.webrtc]

SIZE = 20_000_000
MOST_HTTP = 1.02  # bytes the server sends, for the file's
MOST_TWICE = 0.02  # bytes that came both ways (P2P's for pieces HTTP fetched too, HTTP's P2P had), for the file's
RATE = 4_000_000  # bytes a second the media server sends at most: a viewer's line, not loopback's gigabytes
DELAY = 0.05  # seconds from the media server to the viewer
P2P_RATE = 150_000  # bytes a second the only seeder sends: slower than the film plays, HTTP takes over


class CountingProxy:
    """A TCP proxy on loopback in front of `upstream_port`, counting the bytes the server sends through it (as they
    leave it: what an answer the client stopped had sent is counted too), at `rate` bytes a second at most in all,
    each chunk reaching the client `delay` s later (bytes on their way when the client stops an answer are lost, as
    on the internet)."""

    def __init__(self, upstream_port: int, rate: int, delay: float) -> None:
        self.upstream_port, self.rate, self.delay = upstream_port, rate, delay
        self.sent = 0
        self._lock = threading.Lock()
        self._line_free = 0.0  # when the line is free again (the rate's clock)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                return
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            line: queue.Queue[tuple[float, bytes]] = queue.Queue(maxsize=max(4, int(self.rate * self.delay) // 16384))
            threading.Thread(target=self._down, args=(upstream, line), daemon=True).start()
            threading.Thread(target=self._deliver, args=(line, client, upstream), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(16384):
                upstream.sendall(data)
        _close(client, upstream)

    def _down(self, upstream: socket.socket, line: queue.Queue[tuple[float, bytes]]) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(16384):
                with self._lock:
                    now = time.monotonic()
                    self._line_free = max(self._line_free, now) + len(data) / self.rate
                    due = self._line_free
                    self.sent += len(data)  # the server sent it: on its way now
                time.sleep(max(0.0, due - now))
                line.put((due + self.delay, data))
        line.put((0.0, b""))

    def _deliver(self, line: queue.Queue[tuple[float, bytes]], client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                due, data = line.get()
                if not data:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                client.sendall(data)
        _close(client, upstream)
        while True:  # the server's bytes still on their way are lost; its side is not held up
            with contextlib.suppress(queue.Empty):
                if not line.get(timeout=5)[1]:
                    return

    def reset(self) -> None:
        with self._lock:
            self.sent = 0

    def close(self) -> None:
        self._server.close()


def _close(*sockets: socket.socket) -> None:
    for one in sockets:
        with contextlib.suppress(OSError):
            one.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def stack(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A relay and a Bridge of this module's own (the session's tracker): its community posts, whose media server is
    gone once a test ends, never reach the feeds that later tests' pages show (their posters' loads would fail)."""
    data_dir = tmp_path_factory.mktemp("fill-stack")
    services: list[Service] = []
    try:
        services.append(start_relay(data_dir, free_port()))
        args = ("--fetch-allow-host", "127.0.0.1", "--heartbeat-interval", "2", "--heartbeats-per-key", "120")
        services.append(
            start_bridge(data_dir, free_port(), relays=[services[0].url], trackers=[stack.tracker.url], extra_args=args)
        )
        yield Stack(services[0], stack.hostile_relay, stack.tracker, services[1])
    finally:
        stop_all(services)


@pytest.fixture
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountingProxy]:
    """A Blossom server reached through a CountingProxy (its blobs' URLs name the proxy)."""
    port = free_port()
    proxy = CountingProxy(port, RATE, DELAY)
    service: Service = start_blossom(tmp_path_factory.mktemp("fill-blossom"), port, public_url=proxy.url)
    yield proxy
    service.stop()
    proxy.close()


def make_film(user: AppUser, directory: Path) -> bytes:
    """A WebM of SIZE bytes, about 2 Mbit/s: it lasts minutes, so the element reads as it plays while HTTP fills."""
    clip = record_clip(user.page, NOISE, 640, 360, 2000, bitrate=8_000_000)
    write_film(directory / "film.webm", clip, SIZE)
    return (directory / "film.webm").read_bytes()


def post_video(user: AppUser, stack: Stack, server_url: str, text: str, data: bytes) -> dict[str, str]:
    """`user` posts the video to the community with `server_url` as media server and the Bridge not pinged: the
    poster's browser alone seeds it. The note's imeta entry."""
    add_server(user, server_url)
    user.page.route("**/api/ping", lambda route: route.abort())
    post_files(user, text, [("film.webm", "video/webm", data)], community=True)
    (note,) = [e for e in published(stack, user.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    return dict(meta)


def test_a_video_with_no_seeder_comes_over_http_once(
    new_user: UserFactory, stack: Stack, counted: CountingProxy, tmp_path: Path
) -> None:
    alice = new_user()
    film = make_film(alice, tmp_path)
    meta = post_video(alice, stack, counted.url, "no seeder", film)
    alice.close()  # the uploader's tab is gone: the tracker knows no seeder, HTTP takes over at once

    bob = new_user()
    asked = ranges_asked(bob, meta["url"])
    counted.reset()
    play(bob, meta["i"])
    done = wait_shared(bob, meta["i"], timeout_s=180)
    sent = counted.sent
    print(f"\n{len(film)} bytes: the media server sent {sent} ({sent / len(film):.3f}x) in {len(asked)} answers")
    print(asked)
    assert done.get("source") == "http" and done.get("shared") == "yes", done  # whole and right: seeded
    assert sent <= MOST_HTTP * len(film), (sent, asked)
    assert not overlapping(asked), asked  # no byte asked for twice


def overlapping(asked: list[str]) -> list[tuple[int, int]]:
    """The Range headers `asked` (bytes=a-b) that ask for a byte an earlier one asked for."""
    seen: list[tuple[int, int]] = []
    twice = []
    for header in asked:
        first, last = header.removeprefix("bytes=").split("-")
        span = (int(first), int(last) + 1)
        if any(span[0] < end and start < span[1] for start, end in seen):
            twice.append(span)
        seen.append(span)
    return twice


# This page's data-channel messages leave at `rate` bytes a second at most, in order (a slow seeder). Counts what
# left in window.sentBytes.
SLOW_SENDS = """(rate) => {
  const send = RTCDataChannel.prototype.send
  const queues = new Map()
  let credit = 0
  let last = performance.now()
  window.sentBytes = 0
  RTCDataChannel.prototype.send = function (data) {
    if (!queues.has(this)) queues.set(this, [])
    queues.get(this).push(data)
  }
  setInterval(() => {
    const now = performance.now()
    credit = Math.min(rate / 10, credit + (now - last) / 1000 * rate)
    last = now
    for (const [channel, waiting] of queues) {
      while (waiting.length && credit > 0) {
        const data = waiting.shift()
        const size = data.byteLength ?? data.size ?? data.length
        credit -= size
        try { send.call(channel, data); window.sentBytes += size } catch (err) { waiting.length = 0 }
      }
      if (channel.readyState === 'closed') queues.delete(channel)
    }
  }, 20)
}"""


@pytest.mark.xfail(reason="issue 25 3b: 3.6-4.2% came twice here (2026 measure), the goal is 2%: not found yet where")
def test_what_p2p_brings_is_not_fetched_over_http_nor_what_http_fetches_over_p2p(
    new_user: UserFactory, stack: Stack, counted: CountingProxy, tmp_path: Path
) -> None:
    alice = new_user()
    film = make_film(alice, tmp_path)
    meta = post_video(alice, stack, counted.url, "slow seeder", film)
    alice.page.evaluate(SLOW_SENDS, P2P_RATE)  # Alice alone seeds, slower than the film plays

    bob = new_user()
    counted.reset()
    play(bob, meta["i"])
    done = wait_shared(bob, meta["i"], timeout_s=180)
    http = counted.sent
    p2p = int(alice.page.evaluate("window.sentBytes"))  # all Alice sent Bob (messages, headers and all)
    twice = p2p + http - len(film)
    print(f"\n{len(film)} bytes: {p2p} over P2P, {http} over HTTP, {twice} came twice ({twice / len(film):.4f})")
    print(done.get("caption"))
    assert done.get("source") == "http" and done.get("shared") == "yes", done
    assert p2p > 250_000, p2p  # P2P did bring part of it
    assert twice <= MOST_TWICE * len(film), (p2p, http)
