"""The tuned SQLite engine: safe PRAGMAs, reused connections, write transactions that never hit a lock."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from piccolo.engine.sqlite import TransactionType

from app.database.sqlite import KyosoSQLiteEngine


@pytest.fixture
async def engine(tmp_path: Path) -> KyosoSQLiteEngine:
    """A fresh engine with one counter table."""
    engine = KyosoSQLiteEngine(path=str(tmp_path / "engine.sqlite3"))
    await engine.run_ddl("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    await engine.run_ddl("INSERT INTO counter (id, value) VALUES (1, 0)")
    return engine


async def test_pragmas_on_every_connection(engine: KyosoSQLiteEngine) -> None:
    assert (await engine.run_ddl("PRAGMA journal_mode"))[0]["journal_mode"] == "wal"
    assert (await engine.run_ddl("PRAGMA synchronous"))[0]["synchronous"] == 2  # FULL
    assert (await engine.run_ddl("PRAGMA foreign_keys"))[0]["foreign_keys"] == 1
    async with engine.transaction():
        assert (await engine.run_ddl("PRAGMA foreign_keys"))[0]["foreign_keys"] == 1


async def test_autocommit_queries_reuse_connections(engine: KyosoSQLiteEngine) -> None:
    before = threading.active_count()
    for _ in range(50):
        await engine.run_ddl("SELECT value FROM counter")
    assert threading.active_count() - before <= 1
    await engine.close_idle_connections()


async def test_concurrent_read_then_write_transactions_never_fail(engine: KyosoSQLiteEngine) -> None:
    async def increment() -> None:
        async with engine.transaction():
            row = (await engine.run_ddl("SELECT value FROM counter WHERE id = 1"))[0]
            await asyncio.sleep(0)  # let the others interleave here, as requests would
            await engine.run_ddl(f"UPDATE counter SET value = {int(row['value']) + 1} WHERE id = 1")  # noqa: S608 (an int)

    await asyncio.gather(*(increment() for _ in range(32)))
    assert (await engine.run_ddl("SELECT value FROM counter"))[0]["value"] == 32


async def test_a_failed_transaction_rolls_back_and_releases_the_lock(engine: KyosoSQLiteEngine) -> None:
    async def fail_midway() -> None:
        async with engine.transaction():
            await engine.run_ddl("UPDATE counter SET value = 99 WHERE id = 1")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_midway()
    assert (await engine.run_ddl("SELECT value FROM counter"))[0]["value"] == 0
    assert not engine.write_lock().locked()


async def test_begin_failure_closes_its_connection(engine: KyosoSQLiteEngine) -> None:
    before = threading.active_count()
    outer = engine.transaction(transaction_type=TransactionType.exclusive)
    async with outer:
        other = KyosoSQLiteEngine(path=engine.path)
        other.connection_kwargs["timeout"] = 0.05
        with pytest.raises(Exception, match="locked"):
            async with other.transaction():
                pass
    await engine.close_idle_connections()
    await asyncio.sleep(0.1)
    assert threading.active_count() <= before
