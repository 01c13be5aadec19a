"""bench/load.py --short in CI: 50 virtual users on a small seeded data set: 0 errors, every request type.

Latency is printed, not asserted: the CI machine is shared. On a PostgreSQL run the load gets a database of
its own (created here, dropped afterwards); on SQLite it makes its own throwaway file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.settings import PROJECT_ROOT
from tests.support.commands import fresh_postgres_database

LOAD_SCRIPT = PROJECT_ROOT / "bench" / "load.py"
REQUEST_TYPES = (
    "list", "detail", "search", "catalogue", "dashboard", "draft page", "scorecard page",
    "draft autosave", "score autosave",
)  # fmt: skip
TIMEOUT_SECONDS = 300


@contextmanager
def load_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database when the suite runs on PostgreSQL, else None (SQLite)."""
    url = os.environ.get("DATABASE_URL_UNDER_TEST", "")
    if url.startswith("postgres"):
        with fresh_postgres_database(url, prefix="kyoso_load") as fresh:
            yield fresh
    else:
        yield None


def test_short_load_has_no_errors_and_uses_every_request_type(tmp_path: Path) -> None:
    figures_path = tmp_path / "load.json"
    with load_database() as database_url:
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATA_DIR")}
        if database_url:
            env["DATABASE_URL"] = database_url
        completed = subprocess.run(
            [sys.executable, str(LOAD_SCRIPT), "--short", "--json", str(figures_path)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    print(completed.stdout)
    print(completed.stderr, file=sys.stderr)
    assert completed.returncode == 0, completed.stderr[-3000:]
    figures = json.loads(figures_path.read_text(encoding="utf-8"))
    rows = {row["type"]: row for row in figures["summary"]}
    assert figures["sizes"]["challenges"] == 100
    assert figures["sizes"]["submissions"] == 2000
    assert figures["sizes"]["scores"] == 10000
    assert figures["sizes"]["outputs"] == 500
    unused = [kind for kind in REQUEST_TYPES if rows[kind]["requests"] == 0]
    assert not unused, f"request types never exercised: {unused}"
    assert rows["all"]["errors"] == 0, figures["error_samples"]
    assert figures["unmeasured_errors"] == 0, figures["error_samples"]
