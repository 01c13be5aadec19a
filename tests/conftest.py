"""Fixtures: a fresh database per test (SQLite template copy, or emptied PostgreSQL tables), the app, clients.

DATABASE_URL selects PostgreSQL; without it the suite runs on SQLite. With CI=true a required peer that
cannot be reached fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

# Before the app is imported: keep its files (secret key, stores) out of the working tree.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="kyoso-tests-"))
os.environ.setdefault("DATA_DIR", str(_SESSION_DIR / "var"))
os.environ.setdefault("DATABASE_URL_UNDER_TEST", os.environ.get("DATABASE_URL", ""))

import pytest  # noqa: E402
from litestar import Litestar  # noqa: E402
from piccolo.engine.base import Engine  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from app.accounts.viewer import forget_viewer  # noqa: E402
from app.asgi import create_app  # noqa: E402
from app.database.registry import feature_tables, use_engine  # noqa: E402
from app.database.sqlite import KyosoSQLiteEngine  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.web.page_cache import forget_public_pages  # noqa: E402
from tests.support.client import WebClient  # noqa: E402
from tests.support.commands import run_app_command  # noqa: E402
from tests.support.peers import require_peer  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402

POSTGRES_URL = os.environ.get("DATABASE_URL_UNDER_TEST", "")
ON_POSTGRES = POSTGRES_URL.startswith("postgres")


def run_migrations(database_url: str) -> None:
    """Apply every migration with the real command line, as an operator would."""
    run_app_command("migrate", env={"DATABASE_URL": database_url})


@pytest.fixture(scope="session")
def session_dir() -> Iterator[Path]:
    """A temporary folder for the whole run."""
    yield _SESSION_DIR
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(session_dir: Path) -> Path:
    """A migrated, empty SQLite file, copied for each test (1–2 ms instead of building the schema)."""
    template = session_dir / "template.sqlite3"
    run_migrations(f"sqlite:///{template}")
    return template


@pytest.fixture(scope="session")
async def postgres_engine() -> AsyncIterator[PostgresEngine | None]:
    """The PostgreSQL engine of this run (migrated once), or None on a SQLite run."""
    if not ON_POSTGRES:
        yield None
        return
    require_peer("PostgreSQL", POSTGRES_URL)
    run_migrations(POSTGRES_URL)
    engine = PostgresEngine(config={"dsn": POSTGRES_URL})
    await engine.start_connection_pool(min_size=1, max_size=4)
    yield engine
    await engine.close_connection_pool()


@pytest.fixture
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_engine: PostgresEngine | None
) -> AsyncIterator[Engine]:  # type: ignore[type-arg]
    """A fresh, migrated, empty database for one test."""
    if postgres_engine is not None:
        # DELETE (children first) is ~100x faster than TRUNCATE of every table between tests.
        for table in reversed(feature_tables()):
            await postgres_engine.run_ddl(f'DELETE FROM "{table._meta.tablename}"')  # noqa: S608 (our own table names)
        use_engine(postgres_engine)
        yield postgres_engine
        return
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    engine = KyosoSQLiteEngine(path=str(path))
    use_engine(engine)
    yield engine
    await engine.close_idle_connections()


@pytest.fixture(scope="session")
def settings(session_dir: Path) -> Settings:
    """Settings of the app under test (the database itself is swapped per test)."""
    return Settings(
        database_url=POSTGRES_URL or "sqlite:///unused-the-tests-swap-the-engine",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        data_dir=session_dir / "var",
        base_url="http://testserver",
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    """One app for the run; its stores are emptied before each test."""
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """A browser-like client (cookies, CSRF) talking to the app in this event loop."""
    await forget_public_pages()
    forget_viewer()
    for name in ("sessions", "rate_limit"):
        with contextlib.suppress(FileNotFoundError):  # nothing stored yet
            await app.stores.get(name).delete_all()
    async with WebClient.for_app(app) as web:
        yield web


@pytest.fixture
async def other_client(app: Litestar, client: WebClient) -> AsyncIterator[WebClient]:
    """A second visitor with cookies of their own, on the same database."""
    async with WebClient.for_app(app) as web:
        yield web


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port of 127.0.0.1, recording every message; stopped after the test."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
