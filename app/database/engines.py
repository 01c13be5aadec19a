"""Choose the database engine from DATABASE_URL, and let tests swap it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from app.database.sqlite import KyosoSQLiteEngine


def engine_from_url(url: str) -> Engine:  # type: ignore[type-arg]
    """`sqlite:///relative.db`, `sqlite:////absolute.db` or `postgresql://user@host:port/name`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return KyosoSQLiteEngine(path=str(path))
    if scheme in {"postgres", "postgresql"}:
        # Pool sizes go to start_connection_pool(): asyncpg.connect() refuses them in this config.
        return PostgresEngine(config={"dsn": url})
    raise ValueError(f"DATABASE_URL must start with sqlite:// or postgresql://, not {scheme!r}")


def sqlite_path(url: str) -> Path:
    """The file a `sqlite:///` URL names (three slashes: relative; four: absolute)."""
    remainder = url.removeprefix("sqlite://")
    if not remainder.startswith("/"):
        raise ValueError("A SQLite URL looks like sqlite:///var/kyoso.sqlite3")
    return Path(remainder[1:])
