"""The Bridge's database on both engines, SQLite and a real PostgreSQL: one schema, the same answers, and
PostgreSQL's connection lost and found again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.db import MIGRATIONS, BlobRow, CursorNotFound, Database, Handoff, UploadRow
from bridge.sql import DatabaseUnavailable, PostgreSQL, Tx, to_postgresql
from devstack.services import Service, free_port, start_postgres
from tests.async_runner import run
from tests.backends import PostgresServer


@dataclass
class Place:
    """Where a test's database lives: a data dir (SQLite) or a PostgreSQL URL."""

    data_dir: Path
    url: str

    async def open(self) -> Database:
        return await Database.open(self.data_dir, self.url)


@pytest.fixture(params=["sqlite", "postgresql"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "sqlite":
        return Place(tmp_path, "")
    server: PostgresServer = request.getfixturevalue("postgres")
    return Place(tmp_path, server.new_database())


def with_db(place: Place, body: Callable[[Database], Awaitable[None]]) -> None:
    async def main() -> None:
        db = await place.open()
        try:
            await body(db)
        finally:
            await db.close()

    run(main())


def test_placeholders_and_types_in_postgresql_words() -> None:
    assert to_postgresql("SELECT a FROM t WHERE b = ? AND c = ?") == "SELECT a FROM t WHERE b = $1 AND c = $2"
    assert to_postgresql("CREATE TABLE t (info BLOB NOT NULL, blobs TEXT)") == (
        "CREATE TABLE t (info BYTEA NOT NULL, blobs TEXT)"
    )


def test_bridges_starting_together_migrate_once(place: Place) -> None:
    async def main() -> None:
        dbs = await asyncio.gather(*(place.open() for _ in range(3)))
        try:
            rows = await dbs[0].sql.fetch("SELECT version FROM schema_version ORDER BY version")
            assert [int(r[0]) for r in rows] == list(range(1, len(MIGRATIONS) + 1))
        finally:
            for db in dbs:
                await db.close()
        again = await place.open()  # and a restart finds nothing to do
        try:
            assert len(await again.sql.fetch("SELECT version FROM schema_version")) == len(MIGRATIONS)
        finally:
            await again.close()

    run(main())


def test_blobs_owners_and_lists(place: Place) -> None:
    async def body(db: Database) -> None:
        a, b, c = (BlobRow(ch * 64, 10 + i, "image/png", 1000 + i) for i, ch in enumerate("abc"))
        assert await db.add_blob(a, "alice", 1) is True
        assert await db.add_blob(a, "bob", 2) is False  # one blob, two owners
        assert await db.add_blob(b, "alice", 3) is True
        assert await db.add_blob(c, "alice", 4) is True
        assert await db.get_blob(a.sha256) == a
        assert await db.is_owner(a.sha256, "bob") and not await db.is_owner(b.sha256, "bob")
        assert [r.sha256 for r in await db.list_blobs("alice")] == [c.sha256, b.sha256, a.sha256]
        assert [r.sha256 for r in await db.list_blobs("alice", cursor=c.sha256, limit=1)] == [b.sha256]
        assert [r.sha256 for r in await db.list_blobs("alice", since=1001, until=1001)] == [b.sha256]
        with pytest.raises(CursorNotFound):
            await db.list_blobs("alice", cursor="f" * 64)
        assert await db.remove_owner(a.sha256, "alice", 5) is False  # bob still owns it
        assert await db.deletions_due(before=100) == []
        assert await db.remove_owner(a.sha256, "bob", 6) is True  # its file goes: owed until done
        assert await db.get_blob(a.sha256) is None
        assert await db.deletions_due(before=100) == [a.sha256] and await db.deletions_due(before=6) == []
        assert await db.blob_in_use(a.sha256) is False
        await db.deletion_done(a.sha256)
        assert await db.deletions_due(before=100) == []
        assert await db.blob_totals() == (2, 11 + 12)

    with_db(place, body)


def test_torrents_hand_off_and_come_back(place: Place) -> None:
    async def body(db: Database) -> None:
        blob = BlobRow("d" * 64, 5, "video/mp4", 1)
        await db.add_blob(blob, "alice", 1)
        info = bytes(range(256))  # any bytes, NUL included, come back as they went in
        await db.record_torrent("1" * 40, blob.sha256, "a.mp4", 5, info, ["wss://t/1", "wss://t/2"], "alice", 10)
        await db.record_torrent("1" * 40, "e" * 64, "b.mp4", 6, b"x", [], "bob", 11)  # a second ping keeps the first
        await db.record_torrent("2" * 40, blob.sha256, "a.mp4", 5, b"y", [], "alice", 12)
        row = await db.get_torrent("1" * 40)
        assert row is not None
        assert (row.sha256, row.name, row.info, row.trackers, row.state) == (
            blob.sha256,
            "a.mp4",
            info,
            ["wss://t/1", "wss://t/2"],
            "seeding",
        )
        assert await db.hand_off("1" * 40, 100, 11, "a") == Handoff(True, False)  # 2 still seeds the same blob
        assert await db.get_blob(blob.sha256) is not None
        assert await db.hand_off("2" * 40, 101, 12, "a") == Handoff(True, True)
        assert await db.deletions_due(before=200) == [blob.sha256]  # owed with the rows' deletion
        assert await db.hand_off("2" * 40, 102, 12, "b") == Handoff(False, False)  # once
        assert await db.handoffs("2" * 40) == [(101, 12, "a")]
        assert await db.get_blob(blob.sha256) is None
        assert [t.info_hash for t in await db.torrents("handed_off")] == ["1" * 40, "2" * 40]
        assert await db.torrent_totals() == {"handed_off": (2, 10)}
        assert await db.take_lease("1" * 40, "b", now=300, until=330) is True  # brought back, by b
        assert await db.take_lease("1" * 40, "c", now=301, until=331) is False  # b's lease runs
        back = await db.get_torrent("1" * 40)
        assert back is not None and (back.state, back.handed_off, back.handoff_seeders) == ("seeding", None, None)
        assert (back.owner, back.created) == ("b", 10)

    with_db(place, body)


def test_one_vote_per_pubkey_and_torrent_alive_for_its_ttl(place: Place) -> None:
    async def body(db: Database) -> None:
        h1, h2 = "1" * 40, "2" * 40
        for _ in range(5):
            await db.record_votes("alice", [(h1, 100)], 1000)
        await db.record_votes("bob", [(h1, 2), (h2, 2)], 1100)
        assert sorted(await db.live_votes(h1, since=1100 - 180)) == [2, 100]
        assert await db.live_votes(h1, since=1180 - 180) == [2]  # alice's vote is 180 s old: expired
        await db.record_votes("alice", [(h1, 1)], 1300)  # a new heartbeat is a new vote, the same one
        assert sorted(await db.live_votes(h1, since=0)) == [1, 2]
        await db.expire_votes(before=1100)
        assert await db.live_votes(h2, since=0) == [] and await db.live_votes(h1, since=0) == [1]
        await db.record_votes("carol", [], 1400)  # a heartbeat about nothing known

    with_db(place, body)


def test_leases_one_seeder_per_torrent(place: Place) -> None:
    async def body(db: Database) -> None:
        hashes = [f"{n:040d}" for n in range(5)]
        for n, info_hash in enumerate(hashes):
            await db.record_torrent(info_hash, "f" * 64, f"{n}.mp4", 1, b"i", [], "alice", 10 + n)
        assert await db.take_lease(hashes[0], "a", now=100, until=130) is True
        assert await db.take_lease(hashes[0], "b", now=110, until=140) is False  # a's lease runs
        assert await db.take_lease(hashes[0], "a", now=120, until=150) is True  # renewing one's own
        first = await db.claim_torrents("b", now=120, until=150, limit=2)
        assert [t.info_hash for t in first] == hashes[1:3] and {t.owner for t in first} == {"b"}
        rest = await db.claim_torrents("c", now=120, until=150, limit=10)
        assert [t.info_hash for t in rest] == hashes[3:]
        assert await db.claim_torrents("c", now=120, until=150, limit=10) == []  # all held
        assert await db.renew_leases("b", until=200) == dict.fromkeys(hashes[1:3], "seeding")
        assert await db.renew_leases("c", until=200) == dict.fromkeys(hashes[3:], "seeding")
        # a dies; its lease runs out at 150: the next claim takes its torrent
        assert [t.info_hash for t in await db.claim_torrents("c", now=151, until=181, limit=10)] == [hashes[0]]
        assert await db.renew_leases("a", until=210) == {}  # a, back, finds it lost
        await db.release_leases("b")  # a clean shutdown
        again = await db.claim_torrents("a", now=152, until=182, limit=10)
        assert [t.info_hash for t in again] == hashes[1:3]
        assert await db.claim_torrents("c", now=153, until=190, limit=10) == []  # all held
        # a restart of c finds its own leases by its name: renewing them is taking them back
        assert set(await db.renew_leases("c", until=210)) == {hashes[0], *hashes[3:]}
        await db.hand_off(hashes[4], 160, 11, "c")
        assert (await db.renew_leases("c", until=200))[hashes[4]] == "handed_off"  # still c's: c watches it
        assert await db.known_torrents([hashes[4], "e" * 40]) == {hashes[4]}

    with_db(place, body)


def test_a_blob_lock_is_held_by_one_at_a_time(place: Place) -> None:
    """Across processes on PostgreSQL (two pools here), within the one process on SQLite."""

    async def main() -> list[str]:
        one = await place.open()
        two = await place.open() if place.url else one
        order: list[str] = []

        async def hold(db: Database, name: str, key: str) -> None:
            async with db.sql.lock(key):
                order.append(f"{name} in")
                await asyncio.sleep(0.3)
                order.append(f"{name} out")

        try:
            await asyncio.gather(hold(one, "1", "blob:x"), hold(two, "2", "blob:x"))
            await asyncio.gather(hold(one, "3", "blob:x"), hold(two, "4", "blob:y"))  # another key: not held
        finally:
            await one.close()
            if two is not one:
                await two.close()
        return order

    order = run(main())
    assert order[:4] in (["1 in", "1 out", "2 in", "2 out"], ["2 in", "2 out", "1 in", "1 out"])
    assert sorted(order[4:6]) == ["3 in", "4 in"]


def test_resumable_upload_sessions(place: Place) -> None:
    async def body(db: Database) -> None:
        upload = UploadRow("u1", "alice", "f" * 64, 100, "video/mp4", 0, False, 1, 50, "a")
        await db.add_upload(upload)
        await db.add_upload(UploadRow("u2", "alice", "f" * 64, 100, "video/mp4", 0, False, 2, 10, "a"))
        await db.add_upload(UploadRow("u3", "bob", "e" * 64, 100, "video/mp4", 0, False, 3, 50, "b"))
        assert await db.open_uploads("alice", 5) == 2
        await db.ack_upload("u1", 40, 60)
        assert await db.get_upload("u1") == UploadRow("u1", "alice", "f" * 64, 100, "video/mp4", 40, False, 1, 60, "a")
        assert await db.expired_uploads(10) == ["u2"]
        await db.complete_upload("u1", 70)
        done = await db.get_upload("u1")
        assert done is not None and (done.acked, done.complete) == (100, True)
        await db.delete_upload("u2")
        assert [u.id for u in await db.uploads("a")] == ["u1"]  # b's is on b's disk
        assert [u.id for u in await db.uploads("b")] == ["u3"]
        await db.saw_instance("a", 100)
        await db.saw_instance("a", 130)
        assert await db.instance_seen("a") == 130 and await db.instance_seen("c") is None
        assert await db.open_uploads("alice", 5) == 0

    with_db(place, body)


def test_a_transaction_that_fails_leaves_nothing(place: Place) -> None:
    async def body(db: Database) -> None:
        async def failing(tx: Tx) -> None:
            await tx.execute("INSERT INTO blobs (sha256, size, type, uploaded) VALUES (?, 1, 't', 1)", ("z" * 64,))
            raise RuntimeError("midway")

        with pytest.raises(RuntimeError):
            await db.sql.atomic(failing)
        assert await db.get_blob("z" * 64) is None

    with_db(place, body)


def test_postgresql_restarted_under_load_loses_no_request(tmp_path: Path) -> None:
    """Statements running while the server restarts wait for it and succeed; none fails."""
    server = start_postgres(tmp_path, free_port())
    try:
        url = server.url

        async def main() -> tuple[int, list[BaseException]]:
            db = await Database.open(tmp_path, url)
            done, errors = 0, list[BaseException]()
            stop = time.monotonic() + 6

            async def client(n: int) -> None:
                nonlocal done
                i = 0
                while time.monotonic() < stop:
                    i += 1
                    try:
                        await db.add_blob(BlobRow(f"{n:02d}{i:062d}", i, "t", i), f"key{n}", i)
                        done += 1
                    except Exception as exc:
                        errors.append(exc)
                    await asyncio.sleep(0.01)

            async def restart() -> None:
                await asyncio.sleep(1.5)
                await asyncio.to_thread(server.stop, 30)
                await asyncio.sleep(1.0)  # the outage
                started = await asyncio.to_thread(start_postgres, tmp_path, int(url.rsplit(":", 1)[1].split("/")[0]))
                servers.append(started)

            servers: list[Service] = []
            await asyncio.gather(*(client(n) for n in range(8)), restart())
            total = (await db.blob_totals())[0]
            await db.close()
            for started in servers:
                started.stop(30)
            assert total == done  # every write that succeeded is there
            return done, errors

        done, errors = run(main())
        assert errors == [] and done > 100
    finally:
        server.stop(30)


def test_a_long_outage_is_a_503_then_it_works_again(tmp_path: Path) -> None:
    port = free_port()
    server = start_postgres(tmp_path, port)
    url = server.url

    async def main() -> None:
        sql = await PostgreSQL.open(url, retry_for=1.0)
        try:
            await asyncio.to_thread(server.stop, 30)
            with pytest.raises(DatabaseUnavailable) as caught:
                await sql.fetchrow("SELECT 1")
            assert caught.value.status == 503 and caught.value.headers["Retry-After"]
            again = await asyncio.to_thread(start_postgres, tmp_path, port)
            try:
                row = await sql.fetchrow("SELECT 41 + 1")
                assert row is not None and row[0] == 42
            finally:
                await asyncio.to_thread(again.stop, 30)
        finally:
            await sql.close()

    try:
        run(main())
    finally:
        server.stop(30)
