"""Backup and restore drill: back up, wipe, restore, and find every row, file and the audit chain's head."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from piccolo.engine.postgres import PostgresEngine

from app.challenges.tables import Challenge
from app.clock import utcnow
from app.database.backup import table_counts
from app.database.engines import sqlite_path
from app.database.registry import use_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.judging.audit import record
from app.judging.tables import AuditEvent
from tests.conftest import ON_POSTGRES, POSTGRES_URL, run_migrations
from tests.support.commands import app_command, fresh_postgres_database, run_admin_sql
from tests.support.people import make_bureau, make_user

UPLOADED = b"%PDF-1.4 a file someone uploaded\n"


@pytest.fixture
async def drill_database(tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of this test's own (the drill wipes it), as its DATABASE_URL."""
    if ON_POSTGRES:
        with fresh_postgres_database(POSTGRES_URL, prefix="kyoso_drill") as url:
            run_migrations(url)
            engine = PostgresEngine(config={"dsn": url})
            await engine.start_connection_pool(min_size=1, max_size=2)
            use_engine(engine)
            yield url
            await engine.close_connection_pool()
        return
    url = f"sqlite:///{tmp_path / 'drill.sqlite3'}"
    run_migrations(url)
    sqlite_engine = KyosoSQLiteEngine(path=str(sqlite_path(url)))
    use_engine(sqlite_engine)
    yield url
    await sqlite_engine.close_idle_connections()


async def some_data() -> None:
    """People, a bureau and a chain of audit events."""
    bureau = await make_bureau()
    official = await make_user("official@city.example", role="official", bureau_id=bureau)
    await make_user("founder@startup.example")
    for number in range(5):
        await record(
            "scorecard.submitted",
            actor=official.id,
            challenge=None,
            subject=f"scorecard:{number}",
            details={"total": number * 10, "comment": "説明できる採点"},
            now=utcnow(),
        )


def wipe(url: str, data_dir: Path) -> None:
    """Lose everything: the database and the uploaded files."""
    if url.startswith("postgres"):
        run_admin_sql(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    else:
        for path in sqlite_path(url).parent.glob(sqlite_path(url).name + "*"):
            path.unlink()
    shutil.rmtree(data_dir / "uploads")


async def test_backup_wipe_restore_gives_back_every_row_file_and_the_chain_head(
    drill_database: str, tmp_path: Path
) -> None:
    """The restored database has the same row counts and audit head; uploads come back byte for byte."""
    await some_data()
    data_dir = tmp_path / "var"
    (data_dir / "uploads" / "challenges").mkdir(parents=True)
    (data_dir / "uploads" / "challenges" / "plan.pdf").write_bytes(UPLOADED)
    env = {"DATABASE_URL": drill_database, "DATA_DIR": str(data_dir)}
    counts_before = await table_counts()
    head_before = await AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.sequence).run()
    backup_dir = tmp_path / "backup"

    made = app_command("backup", "--to", str(backup_dir), env=env)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["tables"] == counts_before
    assert manifest["audit_sequence"] == 5

    if isinstance(engine := Challenge._meta.db, KyosoSQLiteEngine):
        await engine.close_idle_connections()  # the file is about to disappear under them
    wipe(drill_database, data_dir)
    restored = app_command("restore", str(backup_dir), env=env)
    assert restored.returncode == 0, restored.stderr

    assert await table_counts() == counts_before
    assert await AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.sequence).run() == head_before
    assert manifest["audit_hash"] == head_before[-1]["hash"]
    assert (data_dir / "uploads" / "challenges" / "plan.pdf").read_bytes() == UPLOADED
    verified = app_command("verify-audit", env=env)
    assert verified.returncode == 0, verified.stderr
    assert "5 events" in verified.stdout


async def test_a_damaged_backup_is_refused_and_the_database_left_alone(
    drill_database: str, tmp_path: Path
) -> None:
    """One changed byte in the copy: restore names the file, exits 1, and touches nothing."""
    await some_data()
    data_dir = tmp_path / "var"
    env = {"DATABASE_URL": drill_database, "DATA_DIR": str(data_dir)}
    backup_dir = tmp_path / "backup"
    assert app_command("backup", "--to", str(backup_dir), env=env).returncode == 0
    copy = next(path for path in backup_dir.iterdir() if path.name.startswith("database."))
    damaged = bytearray(copy.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    copy.write_bytes(bytes(damaged))
    await make_user("after-backup@startup.example")
    counts = await table_counts()

    refused = app_command("restore", str(backup_dir), env=env)

    assert refused.returncode == 1
    assert "damaged" in refused.stderr
    assert await table_counts() == counts


async def test_backup_into_a_folder_that_is_not_empty_is_refused(drill_database: str, tmp_path: Path) -> None:
    """An earlier backup is never overwritten."""
    env = {"DATABASE_URL": drill_database, "DATA_DIR": str(tmp_path / "var")}
    target = tmp_path / "backup"
    target.mkdir()
    (target / "manifest.json").write_text("{}")

    refused = app_command("backup", "--to", str(target), env=env)

    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    assert (target / "manifest.json").read_text() == "{}"
