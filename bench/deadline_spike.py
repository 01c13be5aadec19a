"""The deadline spike: 200 startups upload a 10 MB PDF each and submit, 20 at a time; does memory stay flat?

    .venv/bin/python bench/deadline_spike.py [--startups 200] [--concurrency 20] [--size-mb 10]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/empty_db .venv/bin/python bench/deadline_spike.py

Migrates a throwaway SQLite database in a temporary DATA_DIR (or the empty database DATABASE_URL names),
seeds one open challenge whose form has one required PDF field (20 MB), and N startups with one member
each; starts one uvicorn worker; each member signs in through the real form, opens a draft, saves a
summary and the team (not timed). Then `--concurrency` clients upload the PDF and submit, one startup
after another, while the server's RSS is sampled every 50 ms. Prints failures, upload and submit latency
(p50/p95/max), idle and peak RSS and the growth (target: <= 100 MB, proof that uploads stream to disk).

Sign-in is rate-limited per client address (10 per 5 minutes), so each client connects from its own
loopback address (127.0.0.11, 127.0.0.12, ...: Linux routes all of 127/8 to lo).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import http_bench  # bench/ is the script's own folder, first on sys.path
import httpx

PROJECT_ROOT = http_bench.PROJECT_ROOT
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

SLUG = "deadline-spike"
PASSWORD = "deadline-spike-passphrase-2026"  # noqa: S105 (bench accounts on a throwaway database)
FIELD_MAX_BYTES = 20 * 1024 * 1024
SIGN_INS_PER_ADDRESS = 10  # the app allows 10 sign-ins per address per 5 minutes
SAMPLE_SECONDS = 0.05
MIB = 1024 * 1024


@dataclass
class Applicant:
    """One startup's member with their own cookies, and the draft they opened."""

    email: str
    address: str
    client: httpx.AsyncClient | None = None
    submission_id: int = 0


@dataclass
class Figures:
    """What the spike measured."""

    upload_seconds: list[float] = field(default_factory=list)
    submit_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def padded_pdf(size: int) -> bytes:
    """A valid one-page PDF of exactly `size` bytes (its page content is padded with spaces)."""

    def build(padding: int) -> bytes:
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
            b"<< /Length %d >>\nstream\n" % padding + b" " * padding + b"\nendstream",
        ]
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref_at = len(out)
        out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(out)

    padding = 0
    for _ in range(8):
        data = build(padding)
        if len(data) == size:
            return data
        padding += size - len(data)
    raise http_bench.BenchError(f"could not build a PDF of exactly {size} bytes")


async def seed(startups: int) -> None:
    """One open challenge with a required 20 MB PDF field, and `startups` organizations with one member."""
    from piccolo.engine.postgres import PostgresEngine

    from app.accounts.corporate_number import with_check_digit
    from app.accounts.passwords import hash_password
    from app.accounts.seed import create_account
    from app.accounts.tables import Bureau, Membership, Organization
    from app.challenges.tables import Challenge
    from app.clock import utcnow
    from app.database.registry import current_engine
    from app.database.sqlite import KyosoSQLiteEngine
    from app.submissions.tables import FormField

    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=2)
    try:
        now = utcnow()
        shared_hash = await hash_password(PASSWORD)
        bureau = await Bureau.insert(
            Bureau(slug="spike", name_ja="デジタルサービス局", name_en="Digital Services", created_at=now)
        ).run()
        bureau_id = bureau[0]["id"]
        official = await create_account(
            email="official@spike.example.jp", display_name="official", password=PASSWORD,
            password_hash=shared_hash, role="official", bureau_id=bureau_id, now=now,
        )  # fmt: skip
        texts = {
            f"{part}_{lang}": "" for part in ("background", "problem", "outcome") for lang in ("ja", "en")
        }
        challenge = await Challenge.insert(
            Challenge(
                slug=SLUG,
                bureau=bureau_id,
                status="published",
                author=official,
                title_ja="締切直前の応募集中",
                title_en="The deadline spike",
                summary_ja="負荷試験用の課題です。",
                summary_en="A challenge for the load test.",
                body_ja="本文",
                body_en="Body",
                **texts,
                eligibility=[],
                poc_budget_jpy=1_000_000,
                selection_count=1,
                contact="bench@spike.example.jp",
                applications_open_at=now - timedelta(days=30),
                questions_close_at=None,
                applications_close_at=now + timedelta(days=1),
                screening_at=None,
                pitch_at=None,
                results_at=None,
                created_at=now - timedelta(days=40),
                updated_at=now,
                published_at=now,
                material_change_note="",
            )
        ).run()
        await FormField.insert(
            FormField(
                challenge=challenge[0]["id"],
                position=1,
                kind="file",
                label_ja="ピッチ資料",
                label_en="Pitch deck",
                help_ja="",
                help_en="",
                required=True,
                max_bytes=FIELD_MAX_BYTES,
                created_at=now,
            )
        ).run()
        for index in range(startups):
            user_id = await create_account(
                email=f"founder{index:04d}@spike.example", display_name=f"founder {index}",
                password=PASSWORD, password_hash=shared_hash, role=None, bureau_id=None, now=now,
            )  # fmt: skip
            organization = await Organization.insert(
                Organization(
                    name_ja=f"株式会社スパイク{index}",
                    name_en=f"Spike {index} Inc.",
                    corporate_number=with_check_digit(f"9{index:011d}"),
                    website="",
                    profile="",
                    created_at=now,
                )
            ).run()
            await Membership.insert(
                Membership(user=user_id, organization=organization[0]["id"], role="owner", joined_at=now)
            ).run()
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        elif isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()


def csrf_of(client: httpx.AsyncClient) -> str:
    """The CSRF token our pages embed (the cookie's value)."""
    return str(client.cookies["kyoso_csrf"])


async def prepare(applicant: Applicant, base_url: str, seeded: Seeded) -> None:
    """Sign in through the form, open the draft, save a summary and the team (the untimed part)."""
    transport = httpx.AsyncHTTPTransport(local_address=applicant.address)
    client = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=120.0)
    applicant.client = client
    await client.get("/signin")
    signed = await client.post(
        "/signin",
        data={
            "email": applicant.email,
            "password": PASSWORD,
            "next": "/account",
            "_csrf_token": csrf_of(client),
        },
    )
    if signed.status_code != 303:
        raise http_bench.BenchError(f"sign-in of {applicant.email} answered {signed.status_code}")
    organization = seeded.organization_ids[applicant.email]
    started = await client.post(
        f"/challenges/{SLUG}/apply", data={"organization": str(organization), "_csrf_token": csrf_of(client)}
    )
    match = re.search(r"/submissions/(\d+)$", started.headers.get("location", ""))
    if started.status_code != 303 or match is None:
        raise http_bench.BenchError(f"starting the draft of {applicant.email} answered {started.status_code}")
    applicant.submission_id = int(match.group(1))
    saved = await client.post(
        f"/submissions/{applicant.submission_id}/answers/summary",
        data={"answer-summary": "締切直前に提出します。", "revision-summary": "0"},
        headers={"HX-Request": "true", "x-csrftoken": csrf_of(client)},
    )
    team = await client.post(
        f"/submissions/{applicant.submission_id}/team",
        data={"team": str(seeded.user_ids[applicant.email]), "_csrf_token": csrf_of(client)},
    )
    if saved.status_code != 200 or team.status_code != 303:
        raise http_bench.BenchError(f"preparing {applicant.email}: {saved.status_code}, {team.status_code}")


@dataclass(frozen=True)
class Seeded:
    """Ids the clients need: each member's user and organization (by email), and the file field."""

    user_ids: dict[str, int]
    organization_ids: dict[str, int]
    field_id: int


async def load_seeded() -> Seeded:
    """Read back what `seed` wrote."""
    from piccolo.engine.postgres import PostgresEngine

    from app.accounts.tables import Membership
    from app.database.registry import current_engine
    from app.database.sqlite import KyosoSQLiteEngine
    from app.submissions.tables import FormField

    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=2)
    try:
        rows = await Membership.select(Membership.user, Membership.user.email, Membership.organization).run()
        field_row = await FormField.select(FormField.id).where(FormField.kind == "file").first().run()
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        elif isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
    if field_row is None:
        raise http_bench.BenchError("the seeded file field is missing")
    return Seeded(
        user_ids={row["user.email"]: row["user"] for row in rows},
        organization_ids={row["user.email"]: row["organization"] for row in rows},
        field_id=field_row["id"],
    )


async def apply_with_file(applicant: Applicant, field_id: int, pdf: bytes, figures: Figures) -> None:
    """Upload the PDF and submit, timing each; any answer but the redirect of success is a failure."""
    client = applicant.client
    if client is None:
        raise http_bench.BenchError(f"{applicant.email} was not prepared")
    sid = applicant.submission_id
    started = time.perf_counter()
    try:
        uploaded = await client.post(
            f"/submissions/{sid}/files/{field_id}",
            data={"_csrf_token": csrf_of(client)},
            files={"file": ("pitch-deck.pdf", pdf, "application/pdf")},
        )
    except httpx.HTTPError as error:
        figures.failures.append(f"upload {sid}: {type(error).__name__}: {error}")
        return
    figures.upload_seconds.append(time.perf_counter() - started)
    if uploaded.status_code != 303:
        figures.failures.append(f"upload {sid}: HTTP {uploaded.status_code}")
        return
    started = time.perf_counter()
    try:
        submitted = await client.post(f"/submissions/{sid}/submit", data={"_csrf_token": csrf_of(client)})
    except httpx.HTTPError as error:
        figures.failures.append(f"submit {sid}: {type(error).__name__}: {error}")
        return
    figures.submit_seconds.append(time.perf_counter() - started)
    if submitted.status_code != 303 or not submitted.headers.get("location", "").endswith("/receipt"):
        figures.failures.append(f"submit {sid}: HTTP {submitted.status_code}")


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and its children (uvicorn may fork workers), from /proc."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) * 1024 if found else 0
    return total


class RssSampler(threading.Thread):
    """Samples the server's RSS every 50 ms in a thread of its own (unaffected by the client's event loop)."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid = pid
        self.samples: list[int] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append(rss_bytes(self.pid))
            self.stopped.wait(SAMPLE_SECONDS)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


async def spike(args: argparse.Namespace, base_url: str, pid: int) -> int:
    """Prepare every applicant, measure idle RSS, then run the spike and print the figures."""
    seeded = await load_seeded()
    emails = sorted(seeded.organization_ids)
    addresses = [f"127.0.0.{11 + index // SIGN_INS_PER_ADDRESS}" for index in range(len(emails))]
    applicants = [Applicant(email, address) for email, address in zip(emails, addresses, strict=True)]
    pdf = padded_pdf(args.size_mb * MIB)
    print(f"preparing {len(applicants)} applicants (sign-in, draft, summary, team) ...", flush=True)
    gate = asyncio.Semaphore(args.concurrency)

    async def prepared(applicant: Applicant) -> None:
        async with gate:
            await prepare(applicant, base_url, seeded)

    await asyncio.gather(*(prepared(applicant) for applicant in applicants))
    idle = RssSampler(pid)
    idle.start()
    await asyncio.sleep(2.0)
    idle.stopped.set()
    idle.join()
    idle_rss = max(idle.samples)

    figures = Figures()
    queue: asyncio.Queue[Applicant] = asyncio.Queue()
    for applicant in applicants:
        queue.put_nowait(applicant)

    async def worker() -> None:
        while not queue.empty():
            await apply_with_file(queue.get_nowait(), seeded.field_id, pdf, figures)

    print(
        f"spike: {len(applicants)} uploads of {len(pdf):,} bytes from {args.concurrency} concurrent clients",
        flush=True,
    )
    sampler = RssSampler(pid)
    sampler.start()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    for applicant in applicants:
        if applicant.client is not None:
            await applicant.client.aclose()

    peak = max(sampler.samples)
    growth = peak - idle_rss
    uploads, submits = figures.upload_seconds, figures.submit_seconds
    print()
    print(f"database:           {'PostgreSQL' if args.on_postgres else 'SQLite'}")
    print(f"applications:       {len(applicants)} in {elapsed:.1f} s ({len(applicants) / elapsed:.1f}/s)")
    print(f"failures:           {len(figures.failures)}")
    for failure in figures.failures[:10]:
        print(f"  {failure}")
    print(
        f"upload latency:     p50 {percentile(uploads, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(uploads, 0.95) * 1000:.0f} ms, max {max(uploads, default=0) * 1000:.0f} ms"
    )
    print(
        f"submit latency:     p50 {percentile(submits, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(submits, 0.95) * 1000:.0f} ms, max {max(submits, default=0) * 1000:.0f} ms"
    )
    print(f"upload throughput:  {len(uploads) * len(pdf) / MIB / elapsed:.1f} MiB/s")
    print(f"server RSS idle:    {idle_rss / MIB:.1f} MiB")
    print(f"server RSS peak:    {peak / MIB:.1f} MiB ({len(sampler.samples)} samples every 50 ms)")
    verdict = "ok" if growth <= args.max_growth_mb * MIB else "OVER TARGET"
    print(f"server RSS growth:  {growth / MIB:.1f} MiB (target <= {args.max_growth_mb} MiB: {verdict})")
    return 0 if not figures.failures and verdict == "ok" else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--startups", type=int, default=200, help="applications in the spike (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--size-mb", type=int, default=10, help="size of each PDF in MiB (default 10)")
    parser.add_argument("--max-growth-mb", type=int, default=100, help="RSS growth target (default 100)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for /healthz")
    parser.add_argument(
        "--asgi",
        default="app.asgi:app",
        help="ASGI app to serve, to try a patched one (default app.asgi:app)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR (server log inside)")
    args = parser.parse_args(argv)
    addresses_needed = -(-args.startups // SIGN_INS_PER_ADDRESS)
    if addresses_needed > 200:
        parser.error("at most 2,000 startups (one loopback address per 10 sign-ins)")
    if args.size_mb * MIB > FIELD_MAX_BYTES:
        parser.error("the form field takes at most 20 MiB")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Migrate, seed, serve one worker, run the spike, print the figures."""
    args = parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="kyoso-spike-"))
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    args.on_postgres = env.get("DATABASE_URL", "").startswith("postgres")
    if not args.on_postgres:
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'kyoso.sqlite3'}"
    # This process seeds and reads through the app's own tables: point them at the same database.
    os.environ.update({"DATABASE_URL": env["DATABASE_URL"], "DATA_DIR": str(data_dir)})
    port = http_bench.free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    try:
        http_bench.check_catalogues()
        http_bench.run_cli(["migrate"], env)
        print(f"seeding {args.startups} startups ...", flush=True)
        asyncio.run(seed(args.startups))
        command = [
            sys.executable, "-m", "uvicorn", args.asgi, "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                http_bench.wait_until_healthy(base_url, server, args.startup_timeout)
                return asyncio.run(spike(args, base_url, server.pid))
            finally:
                http_bench.stop_server(server)
    except http_bench.BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        if log_path.exists():
            print(log_path.read_text(encoding="utf-8", errors="replace")[-3000:], file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
