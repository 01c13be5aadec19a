"""Outbox delivery throughput: enqueue N messages, deliver them to a real SMTP server, check none is lost.

Run from the project root with the project's interpreter:

    .venv/bin/python bench/mail_bench.py [--count 10000] [--users 1000] [--workers 1] [--profile]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/empty_db .venv/bin/python bench/mail_bench.py

It migrates a throwaway SQLite database in a temporary DATA_DIR (or the database DATABASE_URL names: give
it an empty PostgreSQL database), inserts `--users` users (half read Japanese, half English), enqueues
`--count` messages through `notify_users` (an optional kind, so each message carries a signed unsubscribe
link) in transactions of 500, starts an aiosmtpd server in a subprocess on 127.0.0.1 (a relay is another
process in production too; `--smtp-in-process` runs it in a thread of this process instead), and runs
`deliver_due` in `--workers` concurrent loops until the queue is empty. It prints enqueue and delivery
rates, then verifies that the server received every Message-ID exactly once and that every row is `sent`;
it exits 1 when a message was lost or duplicated. `--profile` prints where delivery spends its time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import email.parser
import email.policy
import io
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
HOST = "127.0.0.1"
ENQUEUE_CHUNK = 500
KIND = "followed_challenge_updated"
CONTEXT = {
    "slug": "bench-challenge",
    "title_ja": "地域防災の課題: ベンチマーク",
    "title_en": "Disaster preparedness: benchmark",
    "bureau": 1,
    "note": "応募締切を12月10日 17:00 に延長しました。Deadline extended to 10 December, 17:00.",
}


# The SMTP server, run as `mail_bench.py --serve-smtp PORT --record FILE` in a subprocess.


def serve_smtp(port: int, record: Path) -> int:
    """Accept every message and append its Message-ID to `record` (one line each) until SIGTERM."""
    from aiosmtpd.controller import Controller

    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    sink = record.open("a", encoding="ascii", buffering=1)

    class Recorder:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            headers = parser.parsebytes(envelope.original_content or b"")
            sink.write(f"{headers.get('Message-ID', '')}\n")
            return "250 OK"

    controller = Controller(Recorder(), hostname=HOST, port=port)
    controller.start()
    print("ready", flush=True)
    stopped = False

    def stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopped:
        time.sleep(0.1)
    controller.stop()
    sink.close()
    return 0


class SubprocessSmtp:
    """The recording server in a child process; Message-IDs come back through a file."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.record = folder / "received.txt"
        self.record.touch()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-smtp", str(self.port), "--record", str(self.record)],
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout is None or self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server subprocess did not start")

    def message_ids(self) -> Counter[str]:
        return Counter(self.record.read_text(encoding="ascii").split())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


class ThreadSmtp:
    """The tests' recording server (aiosmtpd in a thread of this process)."""

    def __init__(self) -> None:
        sys.path.insert(0, str(PROJECT_ROOT))
        from tests.support.smtp import SmtpServer

        self.server = SmtpServer()
        self.server.start()
        self.port = self.server.port

    def message_ids(self) -> Counter[str]:
        return self.server.message_ids()

    def stop(self) -> None:
        self.server.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# The benchmark.


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="messages to deliver (default 10000)")
    parser.add_argument("--users", type=int, default=1_000, help="recipients (default 1000)")
    parser.add_argument("--workers", type=int, default=1, help="concurrent deliver_due loops (default 1)")
    parser.add_argument(
        "--connections", type=int, default=None, help="SMTP connections per batch (default: the app's)"
    )
    parser.add_argument(
        "--smtp-in-process", action="store_true", help="run the SMTP server in a thread of this process"
    )
    parser.add_argument("--profile", action="store_true", help="profile delivery (cProfile, top 30)")
    parser.add_argument("--serve-smtp", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_smtp is None and (args.count < 1 or args.users < 1 or args.workers < 1):
        parser.error("--count, --users and --workers must be at least 1")
    return args


def self_time_by_package(stats: pstats.Stats) -> dict[str, float]:
    """Profiled self time summed per package (email, aiosmtplib, asyncio, jinja2, app...)."""
    totals: Counter[str] = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        path = Path(filename)
        if "site-packages" in path.parts:
            package = path.parts[path.parts.index("site-packages") + 1]
        elif str(path).startswith(str(PROJECT_ROOT)):
            package = str(path.relative_to(PROJECT_ROOT).parent)
        elif filename.startswith("~") or "python3" not in filename:
            package = "builtins"
        else:
            package = "stdlib:" + (path.parent.name if path.parent.name != "python3.11" else path.stem)
        totals[package] += tottime
    return dict(totals)


def migrate(database_url: str, data_dir: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env={**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir)},
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )


async def run(args: argparse.Namespace, data_dir: Path, database_url: str) -> int:
    # The app reads DATABASE_URL when it is first imported.
    os.environ["DATABASE_URL"] = database_url
    os.environ["DATA_DIR"] = str(data_dir)
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from piccolo.engine.postgres import PostgresEngine

    import app  # noqa: F401 (sets PICCOLO_CONF)
    from app.accounts.tables import User
    from app.clock import utcnow
    from app.database.registry import current_engine
    from app.database.sqlite import KyosoSQLiteEngine
    from app.notifications.delivery import SMTP_CONNECTIONS, deliver_due
    from app.notifications.outbox import notify_users
    from app.notifications.tables import Notification
    from app.settings import Settings

    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=max(4, 2 * args.workers))
    smtp: SubprocessSmtp | ThreadSmtp = ThreadSmtp() if args.smtp_in_process else SubprocessSmtp(data_dir)
    try:
        if await Notification.count().run() or await User.count().run():
            print("The database is not empty: give the benchmark an empty database.", file=sys.stderr)
            return 2
        now = utcnow()
        started = time.perf_counter()
        for start in range(0, args.users, ENQUEUE_CHUNK):
            await User.insert(
                *(
                    User(
                        email=f"bench{n:06d}@example.jp",
                        display_name=f"bench{n}",
                        locale="ja" if n % 2 else "en",
                        password_hash=None,
                        created_at=now,
                    )
                    for n in range(start, min(start + ENQUEUE_CHUNK, args.users))
                )
            ).run()
        user_ids = [row["id"] for row in await User.select(User.id).order_by(User.id).run()]
        users_seconds = time.perf_counter() - started

        started = time.perf_counter()
        queued = 0
        while queued < args.count:
            async with Notification._meta.db.transaction():
                chunk_end = min(queued + ENQUEUE_CHUNK, args.count)
                while queued < chunk_end:
                    first = queued % len(user_ids)
                    recipients = user_ids[first : first + chunk_end - queued]
                    queued += await notify_users(KIND, recipients, CONTEXT, link="/challenges/bench", now=now)
        enqueue_seconds = time.perf_counter() - started

        settings = Settings(
            database_url=database_url,
            secret_key="bench-secret-key-that-is-long-enough-0123456789",  # noqa: S106 (a throwaway key)
            data_dir=data_dir,
            base_url="https://kyoso.example",
            smtp_url=f"smtp://{HOST}:{smtp.port}?timeout=30",
        )
        report_total = Counter[str]()
        options = {} if args.connections is None else {"connections": args.connections}

        async def worker() -> None:
            while True:
                report = await deliver_due(settings, utcnow(), **options)
                if not report.handled:
                    return
                report_total.update(
                    sent=report.sent, retried=report.retried, failed=report.failed, skipped=report.skipped
                )

        profiler = cProfile.Profile() if args.profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        await asyncio.gather(*(worker() for _ in range(args.workers)))
        if profiler:
            profiler.disable()
        deliver_seconds = time.perf_counter() - started
        deliver_cpu = time.process_time() - cpu_started

        await asyncio.sleep(0.5)  # the subprocess server flushes each line before it answers 250; be safe
        received = smtp.message_ids()
        statuses = {
            row["email_status"]: row["count"]
            for row in await Notification.raw(
                "SELECT email_status, COUNT(*) AS count FROM notification GROUP BY email_status"
            ).run()
        }
        attempts = await Notification.raw("SELECT MAX(attempts) AS most FROM notification").run()
    finally:
        smtp.stop()
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        elif isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()

    engine_name = "PostgreSQL" if isinstance(engine, PostgresEngine) else "SQLite"
    server = "in-process thread" if args.smtp_in_process else "subprocess"
    print(f"database {engine_name}, SMTP server: aiosmtpd ({server}), workers {args.workers}, "
          f"connections per batch {args.connections or SMTP_CONNECTIONS}")  # fmt: skip
    print(f"users      {args.users:>8}  {users_seconds:8.2f} s")
    print(f"enqueued   {queued:>8}  {enqueue_seconds:8.2f} s  {queued / enqueue_seconds:10.0f} msg/s")
    print(f"delivered  {report_total['sent']:>8}  {deliver_seconds:8.2f} s  "
          f"{report_total['sent'] / deliver_seconds:10.0f} msg/s  "
          f"(this process's CPU: {deliver_cpu / max(report_total['sent'], 1) * 1000:.2f} ms per message, "
          f"{deliver_cpu / deliver_seconds:.0%} of one core)")  # fmt: skip
    print(f"reports    {dict(report_total)}")
    print(f"rows       {statuses}  max attempts {attempts[0]['most']}")
    duplicates = {message_id: n for message_id, n in received.items() if n > 1}
    lost = args.count - len(received)
    print(f"received   {sum(received.values())} messages, {len(received)} distinct Message-IDs, "
          f"{len(duplicates)} duplicated, {lost} lost")  # fmt: skip
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())
        print("self time by package:")
        for package, seconds in sorted(self_time_by_package(stats).items(), key=lambda item: -item[1])[:12]:
            print(f"  {package:<40} {seconds:7.2f} s")
    ok = not duplicates and lost == 0 and statuses == {"sent": args.count}
    print("OK: every message delivered exactly once" if ok else "FAILED: lost or duplicated messages")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_smtp is not None:
        return serve_smtp(args.serve_smtp, args.record)
    data_dir = Path(tempfile.mkdtemp(prefix="kyoso-mail-bench-"))
    try:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'kyoso.sqlite3'}"
        migrate(database_url, data_dir)
        return asyncio.run(run(args, data_dir, database_url))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
