"""The search page under load: 1,000 challenges and 20,000 Q&A items indexed, wrk at 16 connections.

    .venv/bin/python bench/search_page_bench.py [--duration 10s] [--connections 16]

Migrates a throwaway SQLite database (or the one DATABASE_URL names: use an empty PostgreSQL database),
loads the demo data and the bench data (bench/seed_challenges.py), rebuilds the search index with
`python -m app reindex`, starts one uvicorn worker and runs wrk on /healthz and on the search page for a
few Japanese and English queries, as an anonymous visitor (the search page is never served from a cache).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import http_bench  # bench/ is the script's own folder, first on sys.path

RUN_ID = "s"
QUERIES = ("防災", "子育て支援", "問い合わせ", "スマートシティ", "open data", "DX 推進")


def main(argv: Sequence[str] | None = None) -> int:
    """Seed, index, serve, measure, print."""
    args = http_bench.parse_args(["--connections", "16", *(argv if argv is not None else sys.argv[1:])])
    wrk = http_bench.find_wrk()
    data_dir = Path(tempfile.mkdtemp(prefix="kyoso-bench-"))
    env = {**http_bench.os.environ, "DATA_DIR": str(data_dir)}
    env.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'kyoso.sqlite3'}")
    try:
        with http_bench.running_server(args, data_dir) as base_url:
            subprocess.run(
                [sys.executable, str(Path(__file__).with_name("seed_challenges.py")), "--run-id", RUN_ID],
                env=env, check=True,
            )  # fmt: skip
            http_bench.run_cli(["reindex"], env)
            runs = [("/healthz", "/healthz")] + [
                (f"search {text}", f"/search?q={quote(text)}") for text in QUERIES
            ]
            results = []
            for label, path in runs:
                print(f"running {label} ({path}) ...", flush=True)
                result = http_bench.run_wrk(wrk, args, base_url, path)
                result.path = label
                results.append(result)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    http_bench.print_ratio_table(results, width=24)
    return 0


if __name__ == "__main__":
    sys.exit(main())
