"""A SQLite engine tuned for a web app: safe PRAGMAs, reused connections, serialized write transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

# Enough for every request of a busy worker to find a connection: under 32 concurrent requests a pool of
# 4 kept opening and closing connections (a thread and three PRAGMAs each).
IDLE_CONNECTIONS = 32
BUSY_TIMEOUT_SECONDS = 10


class TunedConnection(sqlite3.Connection):
    """A connection that sets WAL, full fsync and foreign keys as it opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # FULL costs the same as NORMAL in WAL mode here and never loses a committed score.
        self.execute("PRAGMA journal_mode = WAL")
        self.execute("PRAGMA synchronous = FULL")
        self.execute("PRAGMA foreign_keys = ON")


class KyosoSQLiteEngine(SQLiteEngine):
    """SQLiteEngine that reuses autocommit connections and never fails a write transaction on a lock.

    Piccolo opens a connection (and a thread) per query; reusing a few idle ones makes a small select
    about 3x faster. Deferred transactions that read then write fail at once with "database is locked"
    under concurrency, so write transactions are IMMEDIATE and queue on an in-process lock first.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path=path, factory=TunedConnection, timeout=BUSY_TIMEOUT_SECONDS)
        self._idle: list[aiosqlite.Connection] = []
        self._write_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    async def get_connection(self) -> aiosqlite.Connection:
        """Open a new connection on a daemon thread."""
        connection = aiosqlite.connect(**self.connection_kwargs)
        # Idle reused connections must not keep a finished process (a CLI run, a test session) alive;
        # every statement here autocommits, so a connection dropped at exit loses nothing.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]  # aiosqlite accepts any row factory
        return connection

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        """Run one autocommit statement on an idle connection, opening one only when none is free."""
        connection = self._idle.pop() if self._idle else await self.get_connection()
        try:
            async with connection.execute(query, args or []) as cursor:
                rows: list[dict[str, Any]] = list(await cursor.fetchall())  # type: ignore[arg-type]
        except BaseException:
            await connection.close()
            raise
        if len(self._idle) < IDLE_CONNECTIONS:
            self._idle.append(connection)
        else:
            await connection.close()
        return rows

    async def close_idle_connections(self) -> None:
        """Close the reused connections (at shutdown, or before a test removes the file)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def write_lock(self) -> asyncio.Lock:
        """The lock write transactions of this event loop queue on."""
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.immediate,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        """A transaction; IMMEDIATE by default because most transactions here write."""
        return SerializedTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


class SerializedTransaction(SQLiteTransaction):
    """A SQLite transaction that waits its turn and closes its connection even when BEGIN fails."""

    __slots__ = ("_held_lock",)

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine = self.engine
        if not isinstance(engine, KyosoSQLiteEngine):
            raise TypeError("SerializedTransaction belongs to KyosoSQLiteEngine")
        self._held_lock: asyncio.Lock | None = None
        if self.transaction_type is not TransactionType.deferred:
            self._held_lock = engine.write_lock()
            await self._held_lock.acquire()
        try:
            self.connection = await self.get_connection()  # type: ignore[no-untyped-call]  # Piccolo is untyped
            try:
                await self.begin()  # type: ignore[no-untyped-call]  # Piccolo is untyped
            except BaseException:
                # Piccolo leaves this connection's thread running, which keeps the process alive.
                await self.connection.close()
                raise
        except BaseException:
            self._release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            return await super().__aexit__(exception_type, exception, traceback)
        finally:
            self._release()

    def _release(self) -> None:
        if self._held_lock is not None:
            self._held_lock.release()
            self._held_lock = None
