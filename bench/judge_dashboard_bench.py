"""The judge dashboard under load: one judge with 200 assignments, signed in, vs /healthz.

    .venv/bin/python bench/judge_dashboard_bench.py [--duration 10s] [--connections 32]

Migrates a throwaway SQLite database (or the one DATABASE_URL names: use an empty PostgreSQL database),
loads the demo data, adds a round with 200 submitted applications assigned to one judge (a third of them
finalized, a few declared conflicts), starts one uvicorn worker with the scorecard controllers registered,
signs the judge in through the real form and runs wrk on /healthz and /judging. Prints rps and p95.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import http_bench  # bench/ is the script's own folder, first on sys.path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
JUDGE_EMAIL = "bench.judge@kyoso.example"
JUDGE_PASSWORD = "bench-judge-passphrase-2026"  # noqa: S105 (a throwaway account in a throwaway database)
ASSIGNMENTS = 200


def bench_app() -> object:
    """The application as deployed (asgi.py registers the judging controllers)."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from app.asgi import create_app

    return create_app()


async def seed() -> None:
    """One judge, one round, 200 submitted applications assigned to the judge."""
    sys.path.insert(0, str(PROJECT_ROOT))
    import app  # noqa: F401 (sets PICCOLO_CONF before any table touches the database)
    from app.accounts.seed import create_account
    from app.accounts.tables import Organization
    from app.challenges.tables import Challenge
    from app.clock import utcnow
    from app.judging.tables import Assignment, ConflictDeclaration, Round, Scorecard
    from app.submissions.tables import Submission

    now = utcnow()
    judge_id = await create_account(
        email=JUDGE_EMAIL,
        display_name="bench judge",
        password=JUDGE_PASSWORD,
        role="judge",
        bureau_id=None,
        now=now,
    )
    challenge = await Challenge.select(Challenge.id, Challenge.author).first().run()
    organization = await Organization.select(Organization.id).first().run()
    rounds = await Round.insert(
        Round(
            challenge=challenge["id"], position=1, kind="document", name_ja="書類審査",
            name_en="Document screening",
            opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=7), created_at=now,
        )
    ).run()  # fmt: skip
    round_id = rounds[0]["id"]
    submissions = await Submission.insert(
        *(
            Submission(
                challenge=challenge["id"], organization=organization["id"], status="submitted",
                active_slot=None, receipt_number=f"KY-BENCH-{n:04d}", summary="",
                created_by=challenge["author"], created_at=now, updated_at=now, submitted_at=now,
                withdraw_reason="",
            )
            for n in range(1, ASSIGNMENTS + 1)
        )
    ).run()  # fmt: skip
    ids = [row["id"] for row in submissions]
    await Assignment.insert(
        *(Assignment(round=round_id, submission=s, judge=judge_id, assigned_at=now) for s in ids)
    ).run()
    await ConflictDeclaration.insert(
        *(
            ConflictDeclaration(
                submission=s, judge=judge_id, conflicted=i % 40 == 0, reason="bench" if i % 40 == 0 else "",
                source="declared", declared_at=now,
            )
            for i, s in enumerate(ids[: ASSIGNMENTS * 2 // 3])
        )
    ).run()  # fmt: skip
    await Scorecard.insert(
        *(
            Scorecard(
                round=round_id,
                submission=s,
                judge=judge_id,
                version=3,
                state="final",
                comment="",
                finalized_at=now,
            )
            for i, s in enumerate(ids[: ASSIGNMENTS // 3])
            if i % 40
        )
    ).run()


def session_cookie(base_url: str) -> str:
    """Sign the bench judge in and return the Cookie header value."""
    return http_bench.signed_in_cookie(base_url, JUDGE_EMAIL, JUDGE_PASSWORD)


@contextmanager
def running_server(args: object, data_dir: Path) -> Iterator[str]:
    """Migrate, seed demo and bench data, start uvicorn with bench_app; yield its base URL."""
    env = dict(os.environ)
    env["DATA_DIR"] = str(data_dir)
    env.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'kyoso.sqlite3'}")
    http_bench.run_cli(["migrate"], env)
    http_bench.run_cli(["seed-demo", "--if-empty"], env)
    subprocess.run([sys.executable, __file__, "--seed"], env=env, check=True)
    port = http_bench.free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", "judge_dashboard_bench:bench_app", "--factory",
        "--app-dir", str(Path(__file__).parent), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--log-level", "warning",
    ]  # fmt: skip
    with (data_dir / "server.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            http_bench.wait_until_healthy(base_url, server, 60.0)
            yield base_url
        finally:
            http_bench.stop_server(server)


def main(argv: Sequence[str] | None = None) -> int:
    """Seed, serve, measure, print."""
    if argv is None and sys.argv[1:] == ["--seed"]:
        asyncio.run(seed())
        return 0
    args = http_bench.parse_args(argv)
    wrk = http_bench.find_wrk()
    data_dir = Path(tempfile.mkdtemp(prefix="kyoso-judge-bench-"))
    try:
        with running_server(args, data_dir) as base_url:
            cookie = f"Cookie: {session_cookie(base_url)}"
            results = []
            for label, path, headers in (
                ("/healthz", "/healthz", ()),
                ("/judging (200)", "/judging", (cookie,)),
            ):
                print(f"running {label} ...", flush=True)
                result = http_bench.run_wrk(wrk, args, base_url, path, headers)
                result.path = label
                results.append(result)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"\n{'page':<16} {'rps':>8} {'p95 ms':>8} {'non-2xx':>8}")
    for result in results:
        print(
            f"{result.path:<16} {result.rps:>8.1f} {result.values.get('p95_ms', 0):>8.2f} "
            f"{int(result.values.get('non_2xx', 0)):>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
