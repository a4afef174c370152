"""The two SQL engines the Bridge runs on, behind one small interface: SQLite (aiosqlite, the embedded default)
and PostgreSQL (asyncpg, a fleet of Bridges sharing one database).

`bridge.db` writes its SQL once, with `?` placeholders and SQLite's type names; `PostgreSQL` rewrites both. A
transaction is a function: `await sql.atomic(body)` runs `body(tx)` in one transaction and, when PostgreSQL's
connection is lost (a restart, a failover), runs it again on a new one until `retry_for` seconds have passed, then
raises `DatabaseUnavailable` (503: the client tries again later, nothing is half-done).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import aiosqlite
import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy
    from asyncpg.transaction import Transaction

from bridge.errors import BridgeError

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Sequence[object]


class Row(Protocol):
    """A result row, by column position (an aiosqlite Row or an asyncpg Record)."""

    def __getitem__(self, index: int, /) -> Any: ...


Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"  # generic in asyncpg-stubs only


class DatabaseUnavailable(BridgeError):
    """The database could not be reached for `retry_for` seconds."""

    def __init__(self) -> None:
        super().__init__(503, "the Bridge's database is unreachable for now; try again shortly", {"Retry-After": "5"})


class Tx(Protocol):
    """Statements inside one transaction (or, outside `atomic`, each its own)."""

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None: ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; the rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run a statement once per row of parameters (one transaction)."""
        ...


class Engine(Tx, Protocol):
    dialect: str
    """"sqlite" or "postgresql": for the few statements that differ (row locks)."""

    async def atomic(self, body: Callable[[Tx], Awaitable[T]]) -> T:
        """`body(tx)` in one transaction (run again from the start when the connection was lost)."""
        ...

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held by one task at a time among every process on this database, for the block's length."""
        ...

    async def close(self) -> None: ...


class SQLite:
    """One aiosqlite connection; a lock makes each transaction (and each lone statement) run alone on it, so two
    coroutines never interleave statements inside one transaction."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._keys: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    async def open(cls, path: Path) -> SQLite:
        # explicit transactions; a writer waits up to 10 s for another (a second process, a migration)
        conn = await aiosqlite.connect(path, isolation_level=None, timeout=10)
        try:
            for attempt in range(50):  # the switch to WAL does not wait for a busy database: tried again
                try:
                    await conn.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError:
                    if attempt == 49:
                        raise
                    await asyncio.sleep(0.1)
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a commit survives a crash of the process
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def _fetch(self, sql: str, params: Params) -> list[Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _fetchrow(self, sql: str, params: Params) -> Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def _execute(self, sql: str, params: Params) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def _executemany(self, sql: str, rows: Sequence[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._lock:
            return await self._fetch(sql, params)

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        async with self._lock:
            return await self._fetchrow(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._lock:
            return await self._execute(sql, params)

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        async def body(tx: Tx) -> None:
            await tx.executemany(sql, rows)

        await self.atomic(body)

    async def atomic(self, body: Callable[[Tx], Awaitable[T]]) -> T:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")  # the write lock now: no other process writes meanwhile
            try:
                result = await body(_SQLiteTx(self))
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")
            return result

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """One process uses an SQLite database (the Bridge's own): a lock in this process is enough."""
        lock = self._keys.get(key)
        if lock is None:
            lock = self._keys[key] = asyncio.Lock()
        async with lock:
            yield

    async def close(self) -> None:
        await self._conn.close()


class _SQLiteTx:
    def __init__(self, db: SQLite) -> None:
        self._db = db

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._db._fetch(sql, params)

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        return await self._db._fetchrow(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._db._execute(sql, params)

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        await self._db._executemany(sql, rows)


@functools.lru_cache(maxsize=512)
def to_postgresql(sql: str) -> str:
    """SQLite-flavoured SQL in PostgreSQL's words: `?` placeholders become `$1, $2…`, BLOB becomes BYTEA. (The
    Bridge's SQL never has a `?` or the word BLOB inside a string literal.)"""
    numbers = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\bBLOB\b", "BYTEA", re.sub(r"\?", lambda _m: f"${next(numbers)}", sql))


def _changed(status: str) -> int:
    """The row count in a command tag: "UPDATE 3" → 3, "INSERT 0 1" → 1, "CREATE TABLE" → 0."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


_LOST = (
    asyncpg.exceptions.PostgresConnectionError,  # the server went away mid-statement
    asyncpg.exceptions.CannotConnectNowError,  # starting up, shutting down, recovering
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InternalClientError,  # a rollback tried on a connection that broke mid-statement
    asyncpg.exceptions.SerializationError,  # a transaction that lost a race is simply run again
    asyncpg.exceptions.DeadlockDetectedError,
    OSError,  # refused or reset: the server is not listening (yet)
    asyncio.TimeoutError,
)
"""Failures after which the whole transaction is run again: it was rolled back, nothing of it stayed."""


def _closed(conn: Connection) -> bool:
    try:
        return conn.is_closed()
    except asyncpg.exceptions.InterfaceError:  # lost, and already taken back by the pool
        return True


class PostgreSQL:
    """An asyncpg pool. Each statement outside `atomic` is its own transaction."""

    dialect = "postgresql"

    def __init__(self, url: str, pool: asyncpg.Pool, lock_pool: asyncpg.Pool, retry_for: float) -> None:
        self.url = url
        self._pool = pool
        self._lock_pool = lock_pool
        self._keys: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.retry_for = retry_for

    @classmethod
    async def open(cls, url: str, *, retry_for: float = 10.0, max_size: int = 10) -> PostgreSQL:
        """Connect (waiting up to `retry_for` seconds for a server that is starting)."""
        deadline = time.monotonic() + retry_for
        while True:
            try:
                pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, timeout=5, command_timeout=60)
            except _LOST as exc:
                if time.monotonic() >= deadline:
                    raise DatabaseUnavailable() from exc
                await asyncio.sleep(0.5)
                continue
            # the blobs' locks: one connection per blob being worked on, no statement timeout (a lock is waited for)
            lock_pool = await asyncpg.create_pool(url, min_size=0, max_size=max_size, timeout=5)
            return cls(url, pool, lock_pool, retry_for)

    async def _retrying(self, run: Callable[[Connection], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.retry_for
        pause = 0.05
        while True:
            try:
                conn = await self._pool.acquire(timeout=self.retry_for)
                try:
                    result = await run(conn)
                except asyncpg.exceptions.InterfaceError as exc:
                    if not _closed(conn):
                        raise  # a mistake in the call, not a lost connection
                    raise ConnectionResetError(str(exc)) from exc  # e.g. "cannot call Transaction.__aexit__()"
                finally:
                    # a connection that broke after the work was done must not undo the answer: the pool replaces it
                    with contextlib.suppress(*_LOST):
                        await self._pool.release(conn)
                return result
            except _LOST as exc:
                if time.monotonic() + pause >= deadline:
                    log.warning("database unreachable for %.0f s: %r", self.retry_for, exc)
                    raise DatabaseUnavailable() from exc
                log.info("database connection lost (%r); trying again in %.2f s", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        async def run(conn: Connection) -> list[Row]:
            return list(await conn.fetch(to_postgresql(sql), *params))

        return await self._retrying(run)

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        async def run(conn: Connection) -> Row | None:
            row: Row | None = await conn.fetchrow(to_postgresql(sql), *params)
            return row

        return await self._retrying(run)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async def run(conn: Connection) -> int:
            return _changed(await conn.execute(to_postgresql(sql), *params))

        return await self._retrying(run)

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        async def run(conn: Connection) -> None:
            await conn.executemany(to_postgresql(sql), rows)  # one transaction: all rows or none

        await self._retrying(run)

    async def atomic(self, body: Callable[[Tx], Awaitable[T]]) -> T:
        async def run(conn: Connection) -> T:
            async with conn.transaction():
                return await body(_PostgreSQLTx(conn))

        return await self._retrying(run)

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """A transaction-scoped advisory lock, on a connection of a pool of its own (the block's statements use the
        other: waiting locks never starve them), taken by one task of this process at a time per key (the others
        wait here, holding no connection); let go with the block, or by PostgreSQL if the connection breaks."""
        local = self._keys.get(key)
        if local is None:
            local = self._keys[key] = asyncio.Lock()
        async with local:
            conn, transaction = await self._advisory_lock(key)
            try:
                yield
            finally:
                with contextlib.suppress(*_LOST, asyncpg.exceptions.InterfaceError):
                    await transaction.commit()
                with contextlib.suppress(*_LOST, asyncpg.exceptions.InterfaceError):
                    await self._lock_pool.release(conn)

    async def _advisory_lock(self, key: str) -> tuple[Connection, Transaction]:
        deadline, pause = time.monotonic() + self.retry_for, 0.05
        while True:
            conn: Connection | None = None
            try:
                conn = await self._lock_pool.acquire(timeout=self.retry_for)
                transaction = conn.transaction()
                await transaction.start()
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
                return conn, transaction
            except _LOST as exc:
                if conn is not None:
                    with contextlib.suppress(*_LOST, asyncpg.exceptions.InterfaceError):
                        await self._lock_pool.release(conn)
                if time.monotonic() + pause >= deadline:
                    raise DatabaseUnavailable() from exc
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)

    async def close(self) -> None:
        await self._pool.close()
        await self._lock_pool.close()


class _PostgreSQLTx:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.fetch(to_postgresql(sql), *params))

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self._conn.fetchrow(to_postgresql(sql), *params)
        return row

    async def execute(self, sql: str, params: Params = ()) -> int:
        return _changed(await self._conn.execute(to_postgresql(sql), *params))

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        await self._conn.executemany(to_postgresql(sql), rows)


async def open_engine(data_dir: Path, database_url: str) -> Engine:
    """PostgreSQL when `database_url` is given (postgresql://…), else SQLite in `<data_dir>/bridge.sqlite3`."""
    if database_url:
        return await PostgreSQL.open(database_url)
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    return await SQLite.open(data_dir / "bridge.sqlite3")
