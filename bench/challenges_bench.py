"""Challenge pages under load (1,000 challenges, 20,000 questions), anonymous and signed in, vs /healthz.

    .venv/bin/python bench/challenges_bench.py [--duration 10s] [--connections 32]

Migrates a throwaway SQLite database (or the one DATABASE_URL names: use an empty PostgreSQL database),
loads the demo data and the bench data (bench/seed_challenges.py), starts one uvicorn worker, signs a demo
official in for the signed-in runs, and runs wrk on /healthz, the list page and a detail page. Prints rps,
p95 and each page's ratio to /healthz in the same run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import http_bench  # bench/ is the script's own folder, first on sys.path

DEMO_EMAIL = "official.digital@kyoso.example"
DEMO_PASSWORD = "kyoso-demo-2026"  # noqa: S105 (the published demo password)
RUN_ID = "b"
DETAIL_PATH = f"/challenges/bench-{RUN_ID}-00001"


def session_cookie(base_url: str) -> str:
    """Sign the demo official in and return the Cookie header value."""
    return http_bench.signed_in_cookie(base_url, DEMO_EMAIL, DEMO_PASSWORD)


def main(argv: Sequence[str] | None = None) -> int:
    """Seed, serve, measure, print."""
    args = http_bench.parse_args(argv)
    wrk = http_bench.find_wrk()
    data_dir = Path(tempfile.mkdtemp(prefix="kyoso-bench-"))
    try:
        with http_bench.running_server(args, data_dir) as base_url:
            env = {**http_bench.os.environ, "DATA_DIR": str(data_dir)}
            env.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'kyoso.sqlite3'}")
            subprocess.run(
                [sys.executable, str(Path(__file__).with_name("seed_challenges.py")), "--run-id", RUN_ID],
                env=env, check=True,
            )  # fmt: skip
            cookie = f"Cookie: {session_cookie(base_url)}"
            runs = [
                ("/healthz", "/healthz", ()),
                ("list, anonymous", "/challenges", ()),
                ("detail, anonymous", DETAIL_PATH, ()),
                ("list, signed in", "/challenges", (cookie,)),
                ("detail, signed in", DETAIL_PATH, (cookie,)),
            ]
            results = []
            for label, path, headers in runs:
                print(f"running {label} ({path}) ...", flush=True)
                result = http_bench.run_wrk(wrk, args, base_url, path, headers)
                result.path = label
                results.append(result)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    http_bench.print_ratio_table(results, width=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
