"""Running the real command line and creating throwaway PostgreSQL databases, for tests."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from app.settings import PROJECT_ROOT

COMMAND_TIMEOUT = 120.0


class CommandFailed(RuntimeError):
    """`python -m app ...` exited with an error."""


def app_command(
    *args: str, env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m app <args>` from the project root with `env` added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def run_app_command(*args: str, env: Mapping[str, str]) -> None:
    """Run `python -m app <args>`; raise with its output if it fails."""
    result = app_command(*args, env=env)
    if result.returncode != 0:
        raise CommandFailed(
            f"`python -m app {' '.join(args)}` exited with {result.returncode}:\n"
            + result.stdout
            + result.stderr
        )


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same PostgreSQL server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def run_admin_sql(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE), safe even inside a running loop."""
    import asyncpg

    async def execute() -> None:
        connection = await asyncpg.connect(dsn=url, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(execute())
        except BaseException as error:  # noqa: BLE001 (re-raised in the calling thread)
            failure.append(error)

    # A thread of its own: asyncio.run refuses to start inside the test session's running loop.
    worker = threading.Thread(target=target, name="admin-sql")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


@contextmanager
def fresh_postgres_database(server_url: str, prefix: str = "kyoso_test") -> Iterator[str]:
    """A new, empty database on the server of `server_url`, dropped WITH (FORCE) afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    run_admin_sql(with_database(server_url, "postgres"), f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        run_admin_sql(with_database(server_url, "postgres"), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
