"""DNS rebinding against the bootstrap ping: a media name that answers a public address to one lookup and 127.0.0.1
to the next must never get the Bridge to connect to loopback. The real Bridge in this process, pinged over HTTP
with NIP-98; its DNS is a scripted resolver (not the machine's). The "public" media server listens on a public
address added to `lo` of the private network namespace, so no packet leaves the namespace."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bridge.bootstrap import BOOTSTRAP_KEY
from bridge.config import BridgeConfig
from devstack.services import free_port
from tests.bridge.client import Reply, auth_header, call, ping_payload
from tests.bridge.inprocess import InProcessBridge
from tests.unit.nostr_keys import keypair, sign_event

pytestmark = pytest.mark.skipif(
    os.environ.get("ASKNOSTR_NETNS") != "1",
    reason="adds an address to lo: only inside the private network namespace (tools/netns.sh)",
)

PUBLIC = "93.184.216.34"  # public for ipaddress; reachable here only because the fixture puts it on lo
LOOPBACK = "127.0.0.1"
PINGER = keypair(900)
NO_TRACKER = "ws://127.0.0.1:9/announce"  # a literal the guard refuses: no lookup, nothing to announce to


def media(n: int) -> bytes:
    """A different file for every ping: a torrent already seeded is not fetched again."""
    return f"rebind media {n}\n".encode() * (1000 + n)


@dataclass
class Server:
    """A tiny HTTP server on (address, port): /<n>.bin is media(n), /hop/... redirects to `redirects`; counts hits."""

    address: str
    port: int
    redirects: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                if self.path in outer.redirects:
                    self.send_response(302)
                    self.send_header("Location", outer.redirects[self.path].encode().decode("latin-1"))  # UTF-8 bytes
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = media(int(self.path.strip("/").split(".")[0]))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((self.address, self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RebindingDns(AbstractResolver):
    """media.rebind.test answers PUBLIC, then LOOPBACK, then PUBLIC...; hop.rebind.test always PUBLIC;
    internal.rebind.test always LOOPBACK. Every lookup is logged as (name, answer)."""

    def __init__(self) -> None:
        self.lookups: list[tuple[str, str]] = []
        self.asked = 0
        """Every lookup, of any name."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked += 1
        if host == "media.rebind.test":
            turn = sum(name == host for name, _ in self.lookups)
            address = PUBLIC if turn % 2 == 0 else LOOPBACK
        elif host == "hop.rebind.test":
            address = PUBLIC
        elif host == "internal.rebind.test":
            address = LOOPBACK
        else:
            raise socket.gaierror(socket.EAI_NONAME, "no such name in the test's DNS")
        self.lookups.append((host, address))
        return [ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=0)]

    async def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Server, Server]]:
    """The media server on PUBLIC and an "internal service" on 127.0.0.1, on the same port number."""
    subprocess.run(["ip", "addr", "add", f"{PUBLIC}/32", "dev", "lo"], check=True)
    try:
        for _ in range(5):  # a port free on both addresses
            port = free_port(PUBLIC)
            public, internal = Server(PUBLIC, port), Server(LOOPBACK, port)
            try:
                internal.start()
            except OSError:
                continue
            break
        public.redirects = {
            "/hop/name": f"http://internal.rebind.test:{port}/1.bin",  # a name answering loopback
            "/hop/literal": f"http://127.0.0.1:{port}/2.bin",
            "/hop/6to4": f"http://[2002:7f00:1::1]:{port}/3.bin",
            "/hop/ideographic": f"http://127\u30020\u30020\u30021:{port}/4.bin",  # yarl reads 127.0.0.1
        }
        public.start()
        try:
            yield public, internal
        finally:
            public.stop()
            internal.stop()
    finally:
        subprocess.run(["ip", "addr", "del", f"{PUBLIC}/32", "dev", "lo"], check=True)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessBridge, RebindingDns]]:
    config = BridgeConfig(port=free_port(), data_dir=Path(tmp_path_factory.mktemp("bridge")), retention_interval=0)
    with InProcessBridge(config) as running:
        dns = RebindingDns()
        assert running.app is not None
        running.app[BOOTSTRAP_KEY].resolver = dns
        yield running, dns


def ping(bridge: InProcessBridge, url: str, data: bytes, trackers: tuple[str, ...] = ()) -> Reply:
    """POST /api/ping for `data` at `url` (more `trackers` in its magnet), NIP-98 signed; the raw answer (status,
    X-Reason)."""
    payload = ping_payload(url, data, NO_TRACKER)
    payload["magnet"] += "".join(f"&tr={tracker}" for tracker in trackers)
    body = json.dumps(payload).encode()
    endpoint = f"{bridge.url}/api/ping"
    tags = [["u", endpoint], ["method", "POST"], ["payload", hashlib.sha256(body).hexdigest()]]
    event = sign_event({"kind": 27235, "content": "", "tags": tags, "created_at": int(bridge.clock())}, PINGER[0])
    headers = {"Authorization": auth_header(event), "Content-Type": "application/json"}
    return call(bridge.url, "POST", "/api/ping", body, headers)


def test_a_rebinding_name_never_gets_the_bridge_to_loopback(
    bridge: tuple[InProcessBridge, RebindingDns], servers: tuple[Server, Server]
) -> None:
    running, dns = bridge
    public, internal = servers
    started = time.monotonic()
    outcomes: list[tuple[str, int]] = []
    for n in range(100):
        before = len(dns.lookups)
        reply = ping(running, f"http://media.rebind.test:{public.port}/{n}.bin", media(n))
        answers = [address for name, address in dns.lookups[before:] if name == "media.rebind.test"]
        assert len(answers) == 1, f"ping {n}: one lookup per fetch, not {answers}"  # checked = connected
        outcomes.append((answers[0], reply.status))
        if answers[0] == PUBLIC:
            assert reply.status == 200, (n, reply.status, reply.body)
            assert reply.json()["state"] == "seeding"
            assert f"/{n}.bin" in public.hits
        else:
            assert reply.status == 403, (n, reply.status, reply.body)
            assert "media.rebind.test resolves to 127.0.0.1, not a public address" in reply.reason
    assert internal.hits == []  # the point: the "internal service" was never reached
    assert sorted(set(outcomes)) == [(LOOPBACK, 403), (PUBLIC, 200)]
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("hop", "reason"),
    [
        ("name", "internal.rebind.test resolves to 127.0.0.1, not a public address"),
        ("literal", "127.0.0.1 is not a public address"),
        ("6to4", "2002:7f00:1::1 is a 6to4 address wrapping 127.0.0.1"),
        ("ideographic", "127.0.0.1 is not a public address"),
    ],
)
def test_a_redirect_into_loopback_is_refused(
    bridge: tuple[InProcessBridge, RebindingDns], servers: tuple[Server, Server], hop: str, reason: str
) -> None:
    running, _dns = bridge
    public, internal = servers
    reply = ping(running, f"http://hop.rebind.test:{public.port}/hop/{hop}", hop.encode() * 1000)
    assert reply.status == 403 and reason in reply.reason, (reply.status, reply.reason)
    assert f"/hop/{hop}" in public.hits  # the first hop was fetched, the second refused before connecting
    assert internal.hits == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("[2002:7f00:1::1]", "6to4 address wrapping 127.0.0.1"),
        ("[2002:a00:1::1]", "6to4 address wrapping 10.0.0.1"),
        ("[fec0::1]", "site-local address (fec0::/10)"),
        ("[64:ff9b::7f00:1]", "NAT64 address wrapping 127.0.0.1"),
        ("[64:ff9b::a00:1]", "NAT64 address wrapping 10.0.0.1"),
        ("[64:ff9b:1::808:808]", "local-use NAT64 address"),
        ("[2001:0:4136:e378:8000:63bf:80ff:fffe]", "Teredo address whose client 127.0.0.1"),
        ("[2001:0:4136:e378:8000:63bf:f5ff:fffe]", "Teredo address whose client 10.0.0.1"),
        ("[::ffff:127.0.0.1]", "IPv4-mapped address wrapping 127.0.0.1"),
    ],
)
def test_addresses_that_wrap_private_ones_are_refused_with_the_reason(
    bridge: tuple[InProcessBridge, RebindingDns], host: str, reason: str
) -> None:
    running, _dns = bridge
    reply = ping(running, f"http://{host}:80/x", host.encode() * 1000)
    assert 400 <= reply.status < 500 and reason in reply.reason, (reply.status, reply.reason)


def test_a_magnet_with_thousands_of_trackers_costs_a_few_lookups(
    bridge: tuple[InProcessBridge, RebindingDns], servers: tuple[Server, Server]
) -> None:
    """Each tracker of a magnet is looked up before libtorrent is told of it: a pinger's list is tried only so far
    (20,000 names made 20,000 lookups of the pinger's choosing)."""
    running, dns = bridge
    public, _internal = servers
    before = dns.asked
    trackers = tuple(f"wss://t{n}.nowhere.test/announce" for n in range(2000))
    reply = ping(running, f"http://hop.rebind.test:{public.port}/900.bin", media(900), trackers)
    assert reply.status == 200, reply.reason
    assert dns.asked - before <= 11  # the url's host, then at most twice the trackers kept (5)
