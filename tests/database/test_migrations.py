"""Every migration applies on an empty SQLite file and an empty PostgreSQL database; nothing stays pending."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.database.registry import expected_migrations, feature_tables
from tests.support.commands import app_command, fresh_postgres_database
from tests.support.peers import require_peer

POSTGRES_SERVER = os.environ.get("KYOSO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def kyoso(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """Run the command line against `database_url`."""
    return app_command(*args, env={"DATABASE_URL": database_url})


def test_migrations_apply_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "empty.sqlite3"
    first = kyoso("migrate", database_url=f"sqlite:///{database}")
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        applied = {tuple(row) for row in connection.execute("SELECT app_name, name FROM migration")}
        foreign_keys = connection.execute("PRAGMA foreign_key_list('membership')").fetchall()
    assert {table._meta.tablename for table in feature_tables()} <= tables
    assert applied == set(expected_migrations())
    # Nothing a person did vanishes by cascade.
    assert {row[6] for row in foreign_keys} == {"RESTRICT"}
    again = kyoso("migrate", database_url=f"sqlite:///{database}")
    assert again.returncode == 0, again.stderr


@pytest.fixture
def empty_postgres_database() -> Iterator[str]:
    """A brand-new PostgreSQL database, dropped afterwards."""
    require_peer("PostgreSQL", POSTGRES_SERVER)
    with fresh_postgres_database(POSTGRES_SERVER, prefix="kyoso_migrate") as url:
        yield url


def test_migrations_apply_on_an_empty_postgres_database(empty_postgres_database: str) -> None:
    first = kyoso("migrate", database_url=empty_postgres_database)
    assert first.returncode == 0, first.stdout + first.stderr
    rules = subprocess.run(
        [
            "psql",
            empty_postgres_database,
            "-At",
            "-c",
            "SELECT DISTINCT delete_rule FROM information_schema.referential_constraints",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert rules == ["RESTRICT"]
    check = kyoso("check", database_url=empty_postgres_database)
    assert "migration(s) not applied" not in check.stdout
