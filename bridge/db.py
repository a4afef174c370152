"""The Bridge's database, with the whole schema as numbered migrations in one place, on SQLite or PostgreSQL.

`MIGRATIONS[n - 1]` holds the SQL statements that take the schema from version n - 1 to version n; the
`schema_version` table records how far a database has come. Both engines run the same statements (bridge.sql
translates placeholders and type names), so no table or query exists on one of them only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.sql import Engine, Row, Tx, open_engine

MIGRATION_LOCK = 0x61736B6E  # PostgreSQL advisory lock key: one Bridge migrates at a time ("askn")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: Blossom blobs, and who uploaded them (a blob can have several owners)
    (
        """CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            size BIGINT NOT NULL,
            type TEXT NOT NULL,
            uploaded BIGINT NOT NULL
        )""",
        """CREATE TABLE blob_owners (
            sha256 TEXT NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
            pubkey TEXT NOT NULL,
            added BIGINT NOT NULL,
            PRIMARY KEY (sha256, pubkey)
        )""",
        "CREATE INDEX blob_owners_pubkey ON blob_owners (pubkey)",
        "CREATE INDEX blobs_uploaded ON blobs (uploaded, sha256)",
    ),
    # 2: torrents the Bridge seeds (bootstrap pings), and their state
    (
        """CREATE TABLE torrents (
            info_hash TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            name TEXT NOT NULL,
            size BIGINT NOT NULL,
            info BLOB NOT NULL,
            trackers TEXT NOT NULL,
            pinged_by TEXT NOT NULL,
            created BIGINT NOT NULL,
            state TEXT NOT NULL
        )""",
    ),
    # 3: handoffs to the swarm (retention): when, and how many seeders were active then
    (
        "ALTER TABLE torrents ADD COLUMN handed_off BIGINT",
        "ALTER TABLE torrents ADD COLUMN handoff_seeders INTEGER",
        "CREATE INDEX torrents_state ON torrents (state, created)",
    ),
    # 4: resumable uploads (bridge.resumable): a session per upload, its bytes in a part file on disk
    (
        """CREATE TABLE uploads (
            id TEXT PRIMARY KEY,
            pubkey TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            length BIGINT NOT NULL,
            type TEXT NOT NULL,
            acked BIGINT NOT NULL,
            complete INTEGER NOT NULL,
            created BIGINT NOT NULL,
            expires BIGINT NOT NULL
        )""",
        "CREATE INDEX uploads_expires ON uploads (expires)",
        "CREATE INDEX uploads_pubkey ON uploads (pubkey, complete)",
    ),
    # 5: a fleet of Bridges on one database: the instance seeding each torrent (its lease), the heartbeats' votes
    # (any instance takes them; one per pubkey and torrent), and one row per handoff
    (
        "ALTER TABLE torrents ADD COLUMN owner TEXT",
        "ALTER TABLE torrents ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0",
        "CREATE INDEX torrents_lease ON torrents (state, lease_until)",
        """CREATE TABLE votes (
            info_hash TEXT NOT NULL,
            pubkey TEXT NOT NULL,
            at BIGINT NOT NULL,
            claimed INTEGER NOT NULL,
            PRIMARY KEY (info_hash, pubkey)
        )""",
        "CREATE INDEX votes_at ON votes (at)",
        """CREATE TABLE handoffs (
            info_hash TEXT NOT NULL,
            at BIGINT NOT NULL,
            seeders INTEGER NOT NULL,
            instance TEXT NOT NULL,
            PRIMARY KEY (info_hash, at)
        )""",
    ),
    # 6: a resumable upload's bytes are on the disk of the instance that took it; which instances are alive
    (
        "ALTER TABLE uploads ADD COLUMN instance TEXT NOT NULL DEFAULT ''",
        "CREATE TABLE instances (name TEXT PRIMARY KEY, seen BIGINT NOT NULL)",
    ),
    # 7: blob files owed a deletion (recorded with the rows' deletion, done when the file is gone: a failure of the
    # object store in between is retried by the lease rounds, never forgotten)
    ("CREATE TABLE blob_deletions (sha256 TEXT PRIMARY KEY, since BIGINT NOT NULL)",),
)

SEEDING, HANDED_OFF, MISSING = "seeding", "handed_off", "missing"
"""A torrent's states: seeded by the Bridge; let go once the swarm was healthy; its file lost (not seeded)."""


@dataclass(frozen=True)
class BlobRow:
    sha256: str
    size: int
    type: str
    uploaded: int


@dataclass(frozen=True)
class UploadRow:
    """A resumable upload: who started it, the blob it declared (sha256, length, type), the bytes acknowledged to
    the client (written and synced), whether it is complete, and when it expires unless appended to."""

    id: str
    pubkey: str
    sha256: str
    length: int
    type: str
    acked: int
    complete: bool
    created: int
    expires: int
    instance: str = ""
    """The fleet's instance whose disk holds its part file."""


_UPLOAD_COLUMNS = "id, pubkey, sha256, length, type, acked, complete, created, expires, instance"


def _upload(row: Row) -> UploadRow:
    return UploadRow(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        int(row[3]),
        str(row[4]),
        int(row[5]),
        bool(row[6]),
        int(row[7]),
        int(row[8]),
        str(row[9]),
    )


@dataclass(frozen=True)
class TorrentRow:
    info_hash: str
    sha256: str
    name: str
    size: int
    info: bytes
    trackers: list[str]
    pinged_by: str
    created: int
    state: str
    handed_off: int | None
    handoff_seeders: int | None
    owner: str | None = None
    """The instance that seeds it (holds its lease), if any."""
    lease_until: int = 0


_TORRENT_COLUMNS = (
    "info_hash, sha256, name, size, info, trackers, pinged_by, created, state, handed_off, handoff_seeders, owner,"
    " lease_until"
)


def _torrent(row: Row) -> TorrentRow:
    return TorrentRow(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        int(row[3]),
        bytes(row[4]),
        [t for t in str(row[5]).split("\n") if t],
        str(row[6]),
        int(row[7]),
        str(row[8]),
        None if row[9] is None else int(row[9]),
        None if row[10] is None else int(row[10]),
        None if row[11] is None else str(row[11]),
        int(row[12]),
    )


@dataclass(frozen=True)
class Handoff:
    done: bool
    """This call made the handoff (False: another instance had, or the torrent was not seeded)."""
    delete_blob: bool
    """No seeded torrent uses the blob any more: its file goes."""


class CursorNotFound(LookupError):
    """A list cursor that names no stored blob."""


async def _migrate(tx: Tx, dialect: str) -> int:
    if dialect == "postgresql":  # Bridges starting together: the others wait here, then find nothing to do
        await tx.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = await tx.fetchrow("SELECT MAX(version) FROM schema_version")
    version = int(row[0]) if row and row[0] is not None else 0
    for number, steps in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in steps:
            await tx.execute(statement)
        await tx.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        version = number
    return version


async def migrate(sql: Engine) -> int:
    """Apply the migrations this database lacks, all in one transaction; the resulting version."""
    return await sql.atomic(lambda tx: _migrate(tx, sql.dialect))


class Database:
    """The Bridge's tables, through plain async methods."""

    def __init__(self, sql: Engine) -> None:
        self.sql = sql

    @classmethod
    async def open(cls, data_dir: Path, database_url: str = "") -> Database:
        """PostgreSQL at `database_url`, else `<data_dir>/bridge.sqlite3` (created if need be); its schema brought
        up to date."""
        sql = await open_engine(data_dir, database_url)
        try:
            await migrate(sql)
        except BaseException:
            await sql.close()
            raise
        return cls(sql)

    async def close(self) -> None:
        await self.sql.close()

    async def get_blob(self, sha256: str) -> BlobRow | None:
        row = await self.sql.fetchrow("SELECT sha256, size, type, uploaded FROM blobs WHERE sha256 = ?", (sha256,))
        return None if row is None else BlobRow(str(row[0]), int(row[1]), str(row[2]), int(row[3]))

    async def add_blob(self, blob: BlobRow, owner: str, now: int) -> bool:
        """Record the blob (if new) and its owner; whether the blob was new."""

        async def body(tx: Tx) -> bool:
            created = await tx.execute(
                "INSERT INTO blobs (sha256, size, type, uploaded) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (blob.sha256, blob.size, blob.type, blob.uploaded),
            )
            await tx.execute(
                "INSERT INTO blob_owners (sha256, pubkey, added) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (blob.sha256, owner, now),
            )
            return created == 1

        return await self.sql.atomic(body)

    async def is_owner(self, sha256: str, pubkey: str) -> bool:
        sql = "SELECT 1 FROM blob_owners WHERE sha256 = ? AND pubkey = ?"
        return await self.sql.fetchrow(sql, (sha256, pubkey)) is not None

    async def remove_owner(self, sha256: str, pubkey: str, now: int) -> bool:
        """Remove one owner; when none is left, the blob's row too (it is no longer served). Whether its file goes
        (then owed: `deletion_done` once it is gone): not while a torrent is seeded from it (its seeder, or the one
        taking over after a failover, needs it; the handoff deletes it)."""

        async def body(tx: Tx) -> bool:
            await tx.execute("DELETE FROM blob_owners WHERE sha256 = ? AND pubkey = ?", (sha256, pubkey))
            if await tx.fetchrow("SELECT 1 FROM blob_owners WHERE sha256 = ?", (sha256,)) is not None:
                return False
            await tx.execute("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
            if await self._seeded_from(tx, sha256):
                return False
            await self._owe_deletion(tx, sha256, now)
            return True

        return await self.sql.atomic(body)

    @staticmethod
    async def _owe_deletion(tx: Tx, sha256: str, now: int) -> None:
        sql = "INSERT INTO blob_deletions (sha256, since) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING"
        await tx.execute(sql, (sha256, now))

    async def deletion_done(self, sha256: str) -> None:
        await self.sql.execute("DELETE FROM blob_deletions WHERE sha256 = ?", (sha256,))

    async def deletions_due(self, before: int) -> list[str]:
        """Blob files owed a deletion since before `before` (the one that owed it failed, or died, meanwhile)."""
        rows = await self.sql.fetch("SELECT sha256 FROM blob_deletions WHERE since < ? ORDER BY since", (before,))
        return [str(row[0]) for row in rows]

    async def blob_in_use(self, sha256: str) -> bool:
        """Whether the blob is stored again (a new upload) or a torrent is seeded from it: its file stays."""

        async def body(tx: Tx) -> bool:
            stored = await tx.fetchrow("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)) is not None
            return stored or await self._seeded_from(tx, sha256)

        return await self.sql.atomic(body)

    @staticmethod
    async def _seeded_from(tx: Tx, sha256: str) -> bool:
        return await tx.fetchrow("SELECT 1 FROM torrents WHERE sha256 = ? AND state = 'seeding'", (sha256,)) is not None

    async def list_blobs(
        self,
        pubkey: str,
        *,
        since: int | None = None,
        until: int | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> list[BlobRow]:
        """The blobs `pubkey` owns, newest first (ties by sha256, descending); after `cursor` if given."""
        where = ["o.pubkey = ?"]
        params: list[object] = [pubkey]
        if since is not None:
            where.append("b.uploaded >= ?")
            params.append(since)
        if until is not None:
            where.append("b.uploaded <= ?")
            params.append(until)
        if cursor is not None:
            at = await self.get_blob(cursor)
            if at is None:
                raise CursorNotFound(cursor)
            where.append("(b.uploaded < ? OR (b.uploaded = ? AND b.sha256 < ?))")
            params += [at.uploaded, at.uploaded, at.sha256]
        sql = (
            "SELECT b.sha256, b.size, b.type, b.uploaded FROM blobs b JOIN blob_owners o ON o.sha256 = b.sha256"
            f" WHERE {' AND '.join(where)} ORDER BY b.uploaded DESC, b.sha256 DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [BlobRow(str(r[0]), int(r[1]), str(r[2]), int(r[3])) for r in await self.sql.fetch(sql, params)]

    async def record_torrent(
        self, info_hash: str, sha256: str, name: str, size: int, info: bytes, trackers: list[str], pubkey: str, now: int
    ) -> None:
        """A torrent the Bridge seeds; a second ping of the same torrent keeps the first record."""
        sql = """INSERT INTO torrents (info_hash, sha256, name, size, info, trackers, pinged_by, created, state)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'seeding') ON CONFLICT (info_hash) DO NOTHING"""
        await self.sql.execute(sql, (info_hash, sha256, name, size, info, "\n".join(trackers), pubkey, now))

    async def take_lease(self, info_hash: str, instance: str, now: int, until: int) -> bool:
        """`instance` seeds `info_hash` until `until` unless another instance's lease on a seeded torrent is still
        running; a torrent handed off or missing is seeded again (a ping or a take-back brought its file back; its
        `created` stays), in the same statement. Whether `instance` now holds the lease."""
        sql = """UPDATE torrents SET state = 'seeding', handed_off = NULL, handoff_seeders = NULL, owner = ?,
                 lease_until = ?
                 WHERE info_hash = ? AND (state != 'seeding' OR owner IS NULL OR owner = ? OR lease_until < ?)"""
        return await self.sql.execute(sql, (instance, until, info_hash, instance, now)) == 1

    async def claim_torrents(self, instance: str, now: int, until: int, limit: int) -> list[TorrentRow]:
        """Up to `limit` torrents seeded or handed off (watched, for a take-back) that no live lease holds (their
        instance died, or never was), oldest first, now leased to `instance` until `until`. Instances claiming
        together get disjoint sets: on PostgreSQL the rows one is claiming are skipped by the others (FOR UPDATE
        SKIP LOCKED); SQLite runs one writer at a time."""
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.sql.dialect == "postgresql" else ""
        sql = f"""UPDATE torrents SET owner = ?, lease_until = ? WHERE info_hash IN (
                     SELECT info_hash FROM torrents
                     WHERE state IN ('seeding', 'handed_off') AND (owner IS NULL OR lease_until < ?)
                     ORDER BY created, info_hash LIMIT ?{skip_locked})
                  RETURNING {_TORRENT_COLUMNS}"""
        rows = await self.sql.fetch(sql, (instance, until, now, limit))
        return sorted((_torrent(row) for row in rows), key=lambda t: (t.created, t.info_hash))

    async def renew_leases(self, instance: str, until: int) -> dict[str, str]:
        """Extend every lease `instance` holds on a torrent seeded or handed off; the state of each it holds."""
        sql = """UPDATE torrents SET lease_until = ? WHERE owner = ? AND state IN ('seeding', 'handed_off')
                 RETURNING info_hash, state"""
        return {str(row[0]): str(row[1]) for row in await self.sql.fetch(sql, (until, instance))}

    async def release_leases(self, instance: str) -> None:
        """`instance` stops (a clean shutdown): its torrents may be claimed at once."""
        await self.sql.execute("UPDATE torrents SET lease_until = 0 WHERE owner = ?", (instance,))

    async def existing_blobs(self, sha256s: list[str]) -> set[str]:
        """Which of `sha256s` are stored blobs (asked 1,000 at a time: both engines cap a statement's parameters)."""
        found: set[str] = set()
        for start in range(0, len(sha256s), 1000):
            batch = sha256s[start : start + 1000]
            marks = ", ".join("?" * len(batch))
            rows = await self.sql.fetch(f"SELECT sha256 FROM blobs WHERE sha256 IN ({marks})", batch)
            found |= {str(row[0]) for row in rows}
        return found

    async def known_torrents(self, info_hashes: list[str]) -> set[str]:
        """Which of `info_hashes` the fleet has a record of."""
        if not info_hashes:
            return set()
        marks = ", ".join("?" * len(info_hashes))
        rows = await self.sql.fetch(f"SELECT info_hash FROM torrents WHERE info_hash IN ({marks})", info_hashes)
        return {str(row[0]) for row in rows}

    async def record_votes(self, pubkey: str, votes: list[tuple[str, int]], now: int) -> None:
        """A heartbeat's votes, (infoHash, seeders claimed): one per pubkey and torrent, the latest."""
        sql = """INSERT INTO votes (info_hash, pubkey, at, claimed) VALUES (?, ?, ?, ?)
                 ON CONFLICT (info_hash, pubkey) DO UPDATE SET at = excluded.at, claimed = excluded.claimed"""
        await self.sql.executemany(sql, [(info_hash, pubkey, now, claimed) for info_hash, claimed in votes])

    async def live_votes(self, info_hash: str, since: int) -> list[int]:
        """The seeder counts claimed by the votes on `info_hash` cast after `since` (one per pubkey)."""
        rows = await self.sql.fetch("SELECT claimed FROM votes WHERE info_hash = ? AND at > ?", (info_hash, since))
        return [int(row[0]) for row in rows]

    async def voter_counts(self, since: int) -> dict[str, int]:
        """Live votes (cast after `since`) per infoHash, for every torrent that has any: one query for a pass."""
        sql = "SELECT info_hash, COUNT(*) FROM votes WHERE at > ? GROUP BY info_hash"
        return {str(row[0]): int(row[1]) for row in await self.sql.fetch(sql, (since,))}

    async def expire_votes(self, before: int) -> None:
        await self.sql.execute("DELETE FROM votes WHERE at <= ?", (before,))

    async def get_torrent(self, info_hash: str) -> TorrentRow | None:
        row = await self.sql.fetchrow(f"SELECT {_TORRENT_COLUMNS} FROM torrents WHERE info_hash = ?", (info_hash,))
        return None if row is None else _torrent(row)

    async def torrents(self, state: str | None = None) -> list[TorrentRow]:
        """Every torrent (or those in `state`), oldest first."""
        where, params = ("WHERE state = ?", (state,)) if state is not None else ("", ())
        sql = f"SELECT {_TORRENT_COLUMNS} FROM torrents {where} ORDER BY created, info_hash"
        return [_torrent(row) for row in await self.sql.fetch(sql, params)]

    async def torrent_totals(self) -> dict[str, tuple[int, int]]:
        """(count, bytes) of torrents per state."""
        rows = await self.sql.fetch("SELECT state, COUNT(*), COALESCE(SUM(size), 0) FROM torrents GROUP BY state")
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}

    async def blob_totals(self) -> tuple[int, int]:
        """(count, bytes) of the blobs stored."""
        row = await self.sql.fetchrow("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs")
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def set_torrent_state(self, info_hash: str, state: str) -> None:
        await self.sql.execute("UPDATE torrents SET state = ? WHERE info_hash = ?", (state, info_hash))

    async def hand_off(self, info_hash: str, now: int, seeders: int, instance: str) -> Handoff:
        """Record that the swarm took over `info_hash`, once: of any number of instances asking together, one gets
        `done` (and writes the one handoff row); the others find it done. When no torrent still seeded uses its blob,
        the blob's rows (and its owners) are deleted too, and `delete_blob` says so: the caller deletes the file."""

        async def body(tx: Tx) -> Handoff:
            changed = await tx.execute(
                """UPDATE torrents SET state = 'handed_off', handed_off = ?, handoff_seeders = ?
                   WHERE info_hash = ? AND state = 'seeding'""",
                (now, seeders, info_hash),
            )
            if changed != 1:
                # this very handoff, committed by an attempt whose answer a lost connection took (run again)?
                sql = "SELECT 1 FROM handoffs WHERE info_hash = ? AND at = ? AND instance = ?"
                if await tx.fetchrow(sql, (info_hash, now, instance)) is None:
                    return Handoff(done=False, delete_blob=False)
                found = await tx.fetchrow("SELECT sha256 FROM torrents WHERE info_hash = ?", (info_hash,))
                sha256 = "" if found is None else str(found[0])
                kept = await tx.fetchrow("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)) is not None
                return Handoff(done=True, delete_blob=not kept and not await self._seeded_from(tx, sha256))
            await tx.execute(
                "INSERT INTO handoffs (info_hash, at, seeders, instance) VALUES (?, ?, ?, ?)",
                (info_hash, now, seeders, instance),
            )
            await tx.execute("DELETE FROM votes WHERE info_hash = ?", (info_hash,))
            sql = """SELECT 1 FROM torrents t JOIN torrents u ON u.sha256 = t.sha256
                     WHERE t.info_hash = ? AND u.state = 'seeding'"""
            still_used = await tx.fetchrow(sql, (info_hash,)) is not None
            if not still_used:
                found = await tx.fetchrow("SELECT sha256 FROM torrents WHERE info_hash = ?", (info_hash,))
                sha256 = "" if found is None else str(found[0])
                await tx.execute("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
                await self._owe_deletion(tx, sha256, now)
            return Handoff(done=True, delete_blob=not still_used)

        return await self.sql.atomic(body)

    async def handoffs(self, info_hash: str) -> list[tuple[int, int, str]]:
        """Each handoff of `info_hash`: (when, seeders proven, the instance that made it)."""
        sql = "SELECT at, seeders, instance FROM handoffs WHERE info_hash = ? ORDER BY at"
        return [(int(r[0]), int(r[1]), str(r[2])) for r in await self.sql.fetch(sql, (info_hash,))]

    async def add_upload(self, upload: UploadRow) -> None:
        sql = f"INSERT INTO uploads ({_UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        u = upload
        params = (
            u.id,
            u.pubkey,
            u.sha256,
            u.length,
            u.type,
            u.acked,
            int(u.complete),
            u.created,
            u.expires,
            u.instance,
        )
        await self.sql.execute(sql, params)

    async def get_upload(self, upload_id: str) -> UploadRow | None:
        row = await self.sql.fetchrow(f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE id = ?", (upload_id,))
        return None if row is None else _upload(row)

    async def uploads(self, instance: str) -> list[UploadRow]:
        """The uploads whose bytes are on `instance`'s disk (and those of before there were instances: its now)."""
        await self.sql.execute("UPDATE uploads SET instance = ? WHERE instance = ''", (instance,))
        sql = f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE instance = ? ORDER BY created, id"
        return [_upload(row) for row in await self.sql.fetch(sql, (instance,))]

    async def saw_instance(self, name: str, now: int) -> None:
        """`name` is alive at `now` (each lease round says so)."""
        sql = "INSERT INTO instances (name, seen) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seen = excluded.seen"
        await self.sql.execute(sql, (name, now))

    async def instance_seen(self, name: str) -> int | None:
        """When `name` last said it was alive."""
        row = await self.sql.fetchrow("SELECT seen FROM instances WHERE name = ?", (name,))
        return None if row is None else int(row[0])

    async def open_uploads(self, pubkey: str, now: int) -> int:
        """How many unfinished, unexpired uploads `pubkey` has."""
        sql = "SELECT COUNT(*) FROM uploads WHERE pubkey = ? AND complete = 0 AND expires > ?"
        row = await self.sql.fetchrow(sql, (pubkey, now))
        return int(row[0]) if row else 0

    async def ack_upload(self, upload_id: str, acked: int, expires: int) -> None:
        await self.sql.execute("UPDATE uploads SET acked = ?, expires = ? WHERE id = ?", (acked, expires, upload_id))

    async def complete_upload(self, upload_id: str, expires: int) -> None:
        sql = "UPDATE uploads SET acked = length, complete = 1, expires = ? WHERE id = ?"
        await self.sql.execute(sql, (expires, upload_id))

    async def delete_upload(self, upload_id: str) -> None:
        await self.sql.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    async def expired_uploads(self, now: int) -> list[str]:
        rows = await self.sql.fetch("SELECT id FROM uploads WHERE expires <= ? ORDER BY id", (now,))
        return [str(row[0]) for row in rows]
