"""What sharing one PostgreSQL costs a fleet of Bridges: heartbeats/s and pings/s through 1 and 3 instances, the
time another instance takes over the torrents of one SIGKILLed, and a retention pass over 10,000 torrents.

    .venv/bin/python bench/fleet.py [--seconds 8] [--torrents 10000] [--lease 30]

Real PostgreSQL and SeaweedFS (S3), real Bridge processes, started here on loopback. On a 2-core machine the load
generator, the Bridges and PostgreSQL share the cores: 3 instances against 1 shows the cost of sharing the database,
not the gain of more machines (printed as a ratio, both measured in this run).
- heartbeats: signed POST /api/heartbeat, 50 known torrents each (one vote row per torrent), from 200 keys;
- pings: signed POST /api/ping of a torrent another instance seeds (a second follower's ping: checked, answered,
  nothing downloaded);
- failover: 10 torrents seeded by one instance, which is SIGKILLed: seconds until the others seed all 10 (at most
  a lease and a lease round);
- retention: one pass over N seeded torrents with a live vote each (none claimed enough to be checked: the pass's
  own cost), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from bridge.db import Database  # noqa: E402
from bridge.leases import Member  # noqa: E402
from bridge.possession import PossessionVerifier  # noqa: E402
from bridge.seeder import Seeder  # noqa: E402
from bridge.storage import Storage  # noqa: E402
from bridge.swarm import SwarmKeeper  # noqa: E402
from bridge.swarm_health import HandoffPolicy, ProofBook  # noqa: E402
from bridge.torrent import build_info  # noqa: E402
from devstack.services import (  # noqa: E402
    LOCAL_S3_CREDENTIALS,
    Service,
    free_port,
    start_bridge,
    start_postgres,
    start_seaweedfs,
    start_tracker,
)
from tests.bridge.client import auth_header, blossom_auth, info_hash_of, ping_payload, signed_post  # noqa: E402
from tests.unit.nostr_keys import keypair, sign_event  # noqa: E402

KEYS = [keypair(9000 + n) for n in range(200)]
TORRENTS = 500
PER_HEARTBEAT = 50
CONCURRENCY = 16


def nip98(url: str, body: bytes, secret: str) -> str:
    tags = [["u", url], ["method", "POST"], ["payload", hashlib.sha256(body).hexdigest()]]
    return auth_header(sign_event({"kind": 27235, "content": "", "tags": tags, "created_at": int(time.time())}, secret))


async def create_database(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def fill_torrents(url: str, data_dir: Path) -> list[tuple[str, bytes]]:
    """TORRENTS torrents seeded "elsewhere" (an instance that is not running holds a lease far in the future, so
    no Bridge claims them): known to heartbeats, answered at once to pings. Their (infoHash, ping body)."""
    db = await Database.open(data_dir, url)
    pings: list[tuple[str, bytes]] = []
    try:
        for n in range(TORRENTS):
            data = n.to_bytes(4, "big") * 1000
            info = build_info([data], f"clip{n}.mp4", len(data))
            sha = hashlib.sha256(data).hexdigest()
            await db.record_torrent(info.info_hash, sha, f"clip{n}.mp4", len(data), info.info_bytes, [], "x", 0)
            await db.sql.execute(
                "UPDATE torrents SET owner = 'elsewhere', lease_until = ? WHERE info_hash = ?",
                (int(time.time()) + 86400, info.info_hash),
            )
            magnet = f"magnet:?xt=urn:btih:{info.info_hash}&dn=clip{n}.mp4"
            body = {"url": f"https://media.example.com/{sha}.mp4", "magnet": magnet}
            body["torrent"] = base64.b64encode(info.info_bytes).decode()
            pings.append((info.info_hash, json.dumps(body).encode()))
    finally:
        await db.close()
    return pings


async def rate(urls: list[str], public: str, path: str, bodies: list[bytes], seconds: float) -> float:
    """Signed POSTs of `bodies` (each signed by the next key) to `path`, spread over `urls`; answers 200 a second."""
    signed = [(body, nip98(public + path, body, KEYS[n % len(KEYS)][0])) for n, body in enumerate(bodies)]
    ok = 0
    failed: dict[int, int] = {}
    stop = time.monotonic() + seconds
    counter = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok, counter
        while time.monotonic() < stop:
            counter += 1
            body, authorization = signed[counter % len(signed)]
            headers = {"Authorization": authorization, "Content-Type": "application/json"}
            async with session.post(urls[counter % len(urls)] + path, data=body, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    ok += 1
                else:
                    failed[response.status] = failed.get(response.status, 0) + 1

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
    if failed:
        print(f"    (answers other than 200: {failed})")
    return ok / (time.monotonic() - started)


def start_instances(
    count: int, work: Path, backend: tuple[str, ...], tracker: str, public_port: int, lease: float
) -> list[Service]:
    """`count` Bridges on one database and bucket; every NIP-98 URL is the first one's (one public address)."""
    public = f"http://127.0.0.1:{public_port}"
    bridges = []
    for n in range(count):
        extra = (
            *backend,
            "--public-url",
            public,
            "--heartbeats-per-key",
            "0",
            "--heartbeats-per-address",
            "0",
            "--lease-seconds",
            str(lease),
            "--retention-interval",
            "0",
        )
        port = public_port if n == 0 else free_port()
        bridges.append(
            start_bridge(
                work, port, relays=[], trackers=[tracker], extra_args=extra, env=LOCAL_S3_CREDENTIALS, name=f"b{n}"
            )
        )
    return bridges


def throughput(work: Path, postgres: Service, store: Service, tracker: Service, seconds: float) -> None:
    url = asyncio.run(create_database(postgres.url, "throughput"))
    pings = asyncio.run(fill_torrents(url, work / "fill"))
    asyncio.run(fill_torrents("", work / "sqlite" / "b0"))  # the same torrents, for one Bridge on SQLite
    hashes = [info_hash for info_hash, _ in pings]
    beats = []
    for n in range(len(KEYS)):
        reports = [{"info_hash": hashes[(n * 7 + k) % len(hashes)], "seeders": 3} for k in range(PER_HEARTBEAT)]
        beats.append(json.dumps({"torrents": reports}).encode())
    fleet = ("--database-url", url, "--s3-endpoint", store.url, "--s3-bucket", "throughput")
    runs = {
        "1 on SQLite": (1, (), "sqlite"),
        "1 on PostgreSQL": (1, fleet, "pg1"),
        "3 on PostgreSQL": (3, fleet, "pg3"),
    }
    results: dict[str, tuple[float, float]] = {}
    for label, (count, backend, folder) in runs.items():
        bridges = start_instances(count, work / folder, backend, tracker.url, free_port(), 30)
        try:
            urls = [bridge.url for bridge in bridges]
            public = bridges[0].url
            asyncio.run(rate(urls, public, "/api/heartbeat", beats, 1))  # warm up
            heartbeats = asyncio.run(rate(urls, public, "/api/heartbeat", beats, seconds))
            pinged = asyncio.run(rate(urls, public, "/api/ping", [body for _, body in pings], seconds))
            results[label] = (heartbeats, pinged)
            print(
                f"  {label:<16} {heartbeats:7.1f} heartbeats/s ({PER_HEARTBEAT} torrents each), {pinged:7.1f} pings/s"
            )
        finally:
            for bridge in bridges:
                bridge.stop()
    (hs, ps), (h1, p1), (h3, p3) = results.values()
    print(f"  PostgreSQL / SQLite (1 instance): heartbeats {h1 / hs:.2f}x, pings {p1 / ps:.2f}x")
    print(f"  3 instances / 1 (one PostgreSQL, the same 2 cores): heartbeats {h3 / h1:.2f}x, pings {p3 / p1:.2f}x")


def failover(work: Path, postgres: Service, store: Service, tracker: Service, lease: float) -> None:
    url = asyncio.run(create_database(postgres.url, "failover"))
    backend = ("--database-url", url, "--s3-endpoint", store.url, "--s3-bucket", "failover")
    bridges = start_instances(3, work / "failover", backend, tracker.url, free_port(), lease)
    try:
        first = bridges[0]
        hashes = []
        secret = KEYS[0][0]
        for n in range(10):
            data = os.urandom(200_000 + n)
            status, descriptor = _put(first.extra["media_url"], data, secret)
            assert status == 201, descriptor
            payload = ping_payload(str(descriptor["url"]), data, tracker.url, f"f{n}.mp4")
            code, answer = signed_post(f"{first.url}/api/ping", payload, secret)
            assert code == 200, answer
            hashes.append(info_hash_of(payload))
        names = {(work / "failover" / b.name / "instance").read_text().strip(): b for b in bridges}
        owners = asyncio.run(_owners(url, hashes))
        victim_name = owners[hashes[0]]
        held = [h for h, owner in owners.items() if owner == victim_name]
        names[victim_name].kill()
        t0 = time.monotonic()
        while True:
            now_owners = asyncio.run(_owners(url, held))
            if all(owner != victim_name for owner in now_owners.values()):
                break
            if time.monotonic() - t0 > 4 * lease + 30:
                raise SystemExit("failover did not happen")
            time.sleep(0.2)
        took = time.monotonic() - t0
        print(f"  {len(held)} torrents claimed by the others {took:.1f} s after a SIGKILL (lease {lease:.0f} s)")
    finally:
        for bridge in bridges:
            bridge.stop()


def _put(media: str, data: bytes, secret: str) -> tuple[int, dict[str, object]]:
    x = hashlib.sha256(data).hexdigest()
    request = urllib.request.Request(
        f"{media}/upload", data=data, method="PUT", headers={"Authorization": blossom_auth(secret, "upload", [x])}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return error.code, {"error": error.read().decode(errors="replace")}


async def _owners(url: str, hashes: list[str]) -> dict[str, str]:
    db = await Database.open(Path(tempfile.gettempdir()), url)
    try:
        rows = [await db.get_torrent(h) for h in hashes]
        return {row.info_hash: row.owner or "" for row in rows if row is not None}
    finally:
        await db.close()


async def retention_pass(data_dir: Path, url: str, count: int) -> float:
    """Seconds of one pass over `count` torrents this instance seeds, each with a live vote (none checked)."""
    storage = Storage(data_dir, "http://127.0.0.1:1", "http://127.0.0.1:2", 1, database_url=url)
    await storage.open()
    try:
        db, now = storage.db, int(time.time())
        rows = []
        for n in range(count):
            info_hash = f"{n:040x}"
            old = now - 3 * 86400
            rows.append((info_hash, "f" * 64, f"{n}.mp4", 1, b"i", "", "x", old, "seeding", "bench", now + 3600))
        await db.sql.executemany(
            """INSERT INTO torrents (info_hash, sha256, name, size, info, trackers, pinged_by, created, state, owner,
               lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        await db.sql.executemany(
            "INSERT INTO votes (info_hash, pubkey, at, claimed) VALUES (?, ?, ?, ?)",
            [(f"{n:040x}", "k", now, 5) for n in range(count)],
        )

        async def no_scrape(_torrents: dict[str, list[str]]) -> dict[str, int]:
            return {}

        keeper = SwarmKeeper(
            storage,
            Seeder(data_dir / "seeding"),
            PossessionVerifier(data_dir / "verifying"),
            ProofBook(3600),
            policy=HandoffPolicy(10, 86400),
            scraper=no_scrape,
            member=Member("bench"),
        )
        started = time.perf_counter()
        await keeper.retention_pass()
        return time.perf_counter() - started
    finally:
        await storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of each throughput run")
    parser.add_argument("--torrents", type=int, default=10_000, help="torrents in the retention pass")
    parser.add_argument("--lease", type=float, default=30.0, help="the lease of the failover run, in seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = Path(tmp)
        services = [start_postgres(work, free_port()), start_seaweedfs(work), start_tracker(work, free_port())]
        postgres, store, tracker = services
        try:
            print("throughput (one PostgreSQL):")
            throughput(work, postgres, store, tracker, args.seconds)
            print("failover:")
            failover(work, postgres, store, tracker, args.lease)
            print(f"retention pass over {args.torrents} torrents:")
            lite = asyncio.run(retention_pass(work / "lite", "", args.torrents))
            pg_url = asyncio.run(create_database(postgres.url, "retention"))
            pg = asyncio.run(retention_pass(work / "pg", pg_url, args.torrents))
            print(f"  SQLite {lite:.2f} s, PostgreSQL {pg:.2f} s ({pg / lite:.2f}x)")
        finally:
            for service in reversed(services):
                service.kill()


if __name__ == "__main__":
    main()
