"""Kyoso under a realistic load: 50 virtual users browsing, searching, autosaving drafts and scores.

    .venv/bin/python bench/load.py                 # full: 1,000 challenges, 20,000 submissions,
                                                   # 100,000 scores, 5,000 outputs; 50 users for 2 minutes
    .venv/bin/python bench/load.py --short         # CI: 100 / 2,000 / 10,000 / 500; 20 seconds
    .venv/bin/python bench/load.py --json out.json # also write every figure as JSON
    .venv/bin/python bench/load.py --keep          # keep the seeded DATA_DIR; --reuse DIR runs on it again

It creates a throwaway DATA_DIR with a SQLite database (or uses the empty database DATABASE_URL names),
migrates it, loads the demo data and bench/seed_load.py's data set (bulk INSERTs), rebuilds the search
index (`python -m app reindex`), starts uvicorn with two workers as the Dockerfile does (`--workers N`;
bench/http_bench.py's running_server, with SIGN_IN_ATTEMPTS=1000 since every virtual user signs in from
127.0.0.1), and runs the load generator in a process of its own (asyncio + httpx, one client and cookie
jar per virtual user):

- visitors (anonymous): the challenge list with filters and sorts, challenge pages, search (ja and en),
  the catalogue with filters;
- startup members (signed in): open one of their own drafts, type into its summary and answers (each
  autosave sends the revision the previous one returned, with the CSRF header and HX-Request), and browse;
- judges (signed in): the judging dashboard, open one of their open scorecards, score criteria (each
  autosave sends the scorecard version the previous one returned), and browse.

Each user waits a random think time (uniform 0..2x --think seconds) between requests. Every response that
is not 2xx counts as an error (a 409 from these correctly modelled users included), as does a timeout.
While the load runs, the server's CPU time and RSS are read from /proc/<pid> every 0.5 s. The table shows
rps, p50/p95/p99 per request type, errors, and the server's CPU and RSS over the measured window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_bench  # bench/ is the script's own folder, first on sys.path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
FULL = {"challenges": 1000, "submissions": 20000, "scores": 100000, "outputs": 5000, "duration": 120.0}
SHORT = {"challenges": 100, "submissions": 2000, "scores": 10000, "outputs": 500, "duration": 20.0}
HTML_PAGES = ("list", "detail", "search", "catalogue", "dashboard", "draft page", "scorecard page")
AUTOSAVES = ("draft autosave", "score autosave")
TYPES = (*HTML_PAGES, *AUTOSAVES)
HTML_P95_TARGET_MS = 150.0
SEARCH_TERMS = (
    "防災", "スマートシティ", "子育て", "高齢者", "港湾物流", "脱炭素", "観光案内", "都市農業",
    "smart city", "disaster information", "logistics", "childcare", "decarbonisation", "Bench software",
    "実証", "proof of concept", "DX", "中小企業",
)  # fmt: skip
LIST_QUERIES = (
    "", "", "", "?sort=newest", "?status=open", "?status=reviewing", "?status=results", "?status=ended",
    "?theme=防災", "?theme=モビリティ", "?theme=子育て&status=open", "?sort=deadline&status=open",
)  # fmt: skip
CATALOG_QUERIES = (
    "", "", "?sort=newest", "?sort=name", "?category=maps", "?category=healthcare&open=1",
    "?development_status=stable", "?open=1&sort=newest", "?category=e-government",
)  # fmt: skip
TEXT = (
    "本提案では、", "既存の業務フローを変えずに", "AIとオープンデータを組み合わせ、",
    "3か月で効果を検証します。",
    "We measure the results every week ", "and publish the code as open source. ",
)  # fmt: skip
REVISION = re.compile(r'name="revision-([\w-]+)" value="(\d+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


# --- The load generator (runs in its own process: `load.py --drive`) -------------------------------------


@dataclass
class Stats:
    """Latencies and errors of the measured window, per request type."""

    measure_from: float
    measure_until: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in TYPES})
    errors: dict[str, int] = field(default_factory=lambda: {name: 0 for name in TYPES})
    statuses: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    unmeasured_errors: int = 0

    def record(self, kind: str, started: float, elapsed: float, status: int, detail: str) -> None:
        ok = 200 <= status < 300
        if not self.measure_from <= started < self.measure_until:
            self.unmeasured_errors += 0 if ok else 1
            return
        self.latencies[kind].append(elapsed)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if not ok:
            self.errors[kind] += 1
            if len(self.samples) < 20:
                self.samples.append(f"{kind}: {status} {detail}")


class User:
    """One virtual user: an httpx client with its own cookies, and what it does in a loop."""

    def __init__(self, client: Any, stats: Stats, rng: random.Random, plan: dict[str, Any], think: float):
        self.client, self.stats, self.rng, self.plan, self.think = client, stats, rng, plan, think

    async def pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(self.rng.uniform(0, 2 * self.think))

    def running(self) -> bool:
        return time.monotonic() < self.stats.measure_until

    async def request(self, kind: str, method: str, path: str, **kwargs: Any) -> tuple[int, str]:
        """Send one request and record it; (status, body), status 0 for a transport error."""
        started = time.monotonic()
        try:
            response = await self.client.request(method, path, **kwargs)
            status, body = response.status_code, response.text
        except Exception as error:  # noqa: BLE001 (every failure is counted, whatever it is)
            status, body = 0, f"{type(error).__name__}: {error}"
        elapsed = time.monotonic() - started
        self.stats.record(kind, started, elapsed, status, f"{method} {path} {body[:160]!r}")
        return status, body

    async def post_htmx(self, kind: str, path: str, data: dict[str, str]) -> tuple[int, str]:
        token = self.client.cookies.get("kyoso_csrf", "")
        headers = {"x-csrftoken": token, "HX-Request": "true", "HX-Current-URL": str(self.client.base_url)}
        return await self.request(kind, "POST", path, data=data, headers=headers)

    async def browse(self) -> None:
        """One public page, picked as a visitor would."""
        pick = self.rng.random()
        if pick < 0.3:
            await self.request("list", "GET", "/challenges" + self.rng.choice(LIST_QUERIES))
        elif pick < 0.65:
            await self.request("detail", "GET", f"/challenges/{self.rng.choice(self.plan['slugs'])}")
        elif pick < 0.85 and self.plan.get("search", True):
            await self.request("search", "GET", "/search", params={"q": self.rng.choice(SEARCH_TERMS)})
        else:
            await self.request("catalogue", "GET", "/catalog" + self.rng.choice(CATALOG_QUERIES))

    async def run(self) -> None:
        while self.running():
            await self.browse()
            await self.pause()


class Startup(User):
    """A startup member typing into their own drafts (never shared with another virtual user)."""

    def __init__(self, *args: Any, drafts: list[dict[str, Any]]):
        super().__init__(*args)
        self.drafts = drafts

    async def run(self) -> None:
        typed = 0
        while self.running():
            draft = self.rng.choice(self.drafts)
            base = f"/submissions/{draft['submission']}"
            status, body = await self.request("draft page", "GET", base)
            if status != 200:
                await self.pause()
                continue
            revisions = dict(REVISION.findall(body))
            await self.pause()
            key = self.rng.choice(draft["keys"])
            for _ in range(self.rng.randint(2, 5)):  # a few pauses in typing: one autosave each
                if not self.running():
                    return
                typed += 1
                value = (
                    f"https://example.jp/poc/{typed}"
                    if key == draft["keys"][-1]
                    else "".join(self.rng.choice(TEXT) for _ in range(self.rng.randint(3, 12)))
                )
                data = {f"answer-{key}": value, f"revision-{key}": revisions.get(key, "0")}
                status, body = await self.post_htmx("draft autosave", f"{base}/answers/{key}", data)
                saved = dict(REVISION.findall(body)).get(key) if status == 200 else None
                await self.pause()
                if saved is None:  # refused or lost (a timeout may still have saved): reload the page
                    break
                revisions[key] = saved
            await self.browse()
            await self.pause()


class Judge(User):
    """A judge scoring their own open scorecards, criterion by criterion."""

    def __init__(self, *args: Any, scorecards: list[dict[str, Any]]):
        super().__init__(*args)
        self.scorecards = scorecards

    async def run(self) -> None:
        while self.running():
            if self.rng.random() < 0.3:
                await self.request("dashboard", "GET", "/judging")
                await self.pause()
            card = self.rng.choice(self.scorecards)
            base = f"/judging/rounds/{card['round']}/submissions/{card['submission']}"
            status, body = await self.request("scorecard page", "GET", base)
            found = VERSION.search(body) if status == 200 else None
            if found is None:
                if status == 200:
                    self.stats.record("scorecard page", time.monotonic(), 0.0, 599, f"no version in {base}")
                await self.pause()
                continue
            version = found.group(1)
            await self.pause()
            for criterion in self.rng.sample(card["criteria"], k=self.rng.randint(1, len(card["criteria"]))):
                if not self.running():
                    return
                data = {f"score-{criterion}": str(self.rng.randint(1, 5)), "version": version}
                status, body = await self.post_htmx("score autosave", f"{base}/scores/{criterion}", data)
                saved = VERSION.search(body) if status == 200 else None
                await self.pause()
                if saved is None:  # refused or lost (a timeout may still have saved): reload the page
                    break
                version = saved.group(1)
            if self.rng.random() < 0.5:
                await self.browse()
                await self.pause()


async def sign_in(client: Any, email: str, password: str) -> None:
    """The real sign-in form: GET for the CSRF cookie, then POST; raises if no session cookie came back."""
    await client.get("/signin")
    form = {"email": email, "password": password, "_csrf_token": client.cookies.get("kyoso_csrf", ""),
            "next": "/account"}  # fmt: skip
    response = await client.post("/signin", data=form)
    if "kyoso_session" not in client.cookies:
        raise RuntimeError(f"signing {email} in failed: {response.status_code} {response.text[:200]!r}")


async def drive(options: argparse.Namespace) -> dict[str, Any]:
    """Sign the users in, run them for warm-up + duration, return the figures of the measured window."""
    import httpx

    plan = json.loads(Path(options.plan).read_text(encoding="utf-8"))  # noqa: ASYNC240 (before the load)
    plan["search"] = not options.no_search
    rng = random.Random(options.seed)  # noqa: S311 (load pattern, not security)
    startups = plan["startups"][: options.startups]
    judges = plan["judges"][: options.judges]
    visitors = max(options.users - len(startups) - len(judges), 0)
    clients: list[Any] = []

    def new_client() -> Any:
        client = httpx.AsyncClient(
            base_url=options.base_url, timeout=options.timeout, headers={"Accept-Language": "ja"},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )  # fmt: skip
        clients.append(client)
        return client

    signed_in = time.monotonic()
    accounts = [(new_client(), item) for item in [*startups, *judges]]
    limit = asyncio.Semaphore(2)  # argon2 costs CPU: sign in two at a time

    async def one(client: Any, item: dict[str, Any]) -> None:
        async with limit:
            await sign_in(client, item["email"], plan["password"])

    await asyncio.gather(*(one(client, item) for client, item in accounts))
    sign_in_seconds = time.monotonic() - signed_in
    start = time.monotonic()
    stats = Stats(
        measure_from=start + options.warmup, measure_until=start + options.warmup + options.duration
    )
    think = options.think
    users: list[User] = [
        Startup(client, stats, random.Random(rng.random()), plan, think, drafts=item["drafts"])  # noqa: S311
        for client, item in accounts[: len(startups)]
    ]
    users += [
        Judge(client, stats, random.Random(rng.random()), plan, think, scorecards=item["scorecards"])  # noqa: S311
        for client, item in accounts[len(startups) :]
    ]
    users += [User(new_client(), stats, random.Random(rng.random()), plan, think) for _ in range(visitors)]  # noqa: S311
    wall_from = time.time() + options.warmup
    try:
        await asyncio.gather(*(user.run() for user in users))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return {
        "users": {"visitors": visitors, "startups": len(startups), "judges": len(judges)},
        "sign_in_seconds": round(sign_in_seconds, 2),
        "window": {"from": wall_from, "until": wall_from + options.duration, "seconds": options.duration},
        "latencies": stats.latencies,
        "errors": stats.errors,
        "statuses": stats.statuses,
        "error_samples": stats.samples,
        "unmeasured_errors": stats.unmeasured_errors,
    }


# --- The orchestration: seed, serve, sample /proc, report ----------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per request type, then the HTML pages together and everything together."""
    seconds = result["window"]["seconds"]
    groups = [(name, (name,)) for name in TYPES] + [("HTML pages", HTML_PAGES), ("all", TYPES)]
    rows = []
    for label, kinds in groups:
        values = [v * 1000 for kind in kinds for v in result["latencies"][kind]]
        rows.append({
            "type": label,
            "requests": len(values),
            "rps": len(values) / seconds if seconds else 0.0,
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
            "max_ms": max(values, default=0.0),
            "errors": sum(result["errors"][kind] for kind in kinds),
        })  # fmt: skip
    return rows


def server_pid(port: int) -> int:
    """The uvicorn process this script started (a child of this process, serving `port`)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdecimal():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent = stat.rsplit(")", 1)[1].split()[1]
        if parent == me and "uvicorn" in cmdline and f"--port {port} " in cmdline + " ":
            return int(entry.name)
    raise http_bench.BenchError(f"no uvicorn child process serving port {port}")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the workers; with --workers 1 uvicorn serves in the process itself)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += children.get(current, [])
    return found


def sample(pids: Sequence[int]) -> tuple[float, float]:
    """(CPU seconds used, RSS in MiB) summed over `pids`, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = rss = 0.0
    for pid in pids:
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError):
            continue
    return cpu, rss


def watch(
    pid: int, driver: subprocess.Popen[bytes], interval: float = 0.5
) -> list[tuple[float, float, float]]:
    """(wall time, server CPU s, server RSS MiB) every `interval` until the driver exits."""
    samples = []
    while driver.poll() is None:
        cpu, rss = sample(process_tree(pid))
        samples.append((time.time(), cpu, rss))
        time.sleep(interval)
    return samples


def server_figures(samples: list[tuple[float, float, float]], window: dict[str, float]) -> dict[str, float]:
    """CPU use (% of one core) and RSS of the server within the measured window."""
    inside = [s for s in samples if window["from"] <= s[0] <= window["until"]] or samples
    if len(inside) < 2:
        return {"cpu_percent": 0.0, "cpu_seconds": 0.0, "rss_start_mib": 0.0, "rss_peak_mib": 0.0,
                "rss_end_mib": 0.0}  # fmt: skip
    cpu = inside[-1][1] - inside[0][1]
    wall = inside[-1][0] - inside[0][0]
    return {
        "cpu_seconds": round(cpu, 2),
        "cpu_percent": round(100 * cpu / wall, 1) if wall else 0.0,
        "rss_start_mib": round(inside[0][2], 1),
        "rss_peak_mib": round(max(s[2] for s in inside), 1),
        "rss_end_mib": round(inside[-1][2], 1),
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ("type", "requests", "rps", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors")
    lines = [
        (row["type"], str(row["requests"]), f"{row['rps']:.1f}", f"{row['p50_ms']:.1f}",
         f"{row['p95_ms']:.1f}", f"{row['p99_ms']:.1f}", f"{row['max_ms']:.1f}", str(row["errors"]))
        for row in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [headers, *lines]) for i in range(len(headers))]
    for number, line in enumerate([headers, *lines]):
        if number == len(lines) - 1:  # a rule before the totals
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))
        print(
            "  ".join(
                [line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True))]
            )
        )


def run_step(label: str, command: list[str], env: dict[str, str]) -> float:
    """Run a setup command in the project root (output shown only on failure); return its seconds."""
    print(f"{label} ...", flush=True)
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise http_bench.BenchError(
            f"{label} failed ({completed.returncode}):\n{completed.stdout}{completed.stderr}"
        )
    return time.perf_counter() - started


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="the CI size: 100/2,000/10,000/500, 20 s")
    for name in ("challenges", "submissions", "scores", "outputs"):
        parser.add_argument(
            f"--{name}", type=int, help=f"seeded {name} (full {FULL[name]:,}, short {SHORT[name]:,})"
        )
    parser.add_argument("--duration", type=float, help="measured seconds (full 120, short 20)")
    parser.add_argument("--warmup", type=float, help="seconds of load before measuring (full 10, short 3)")
    parser.add_argument("--users", type=int, default=50, help="virtual users in all (default 50)")
    parser.add_argument("--startups", type=int, default=15, help="of which startup members (default 15)")
    parser.add_argument("--judges", type=int, default=15, help="of which judges (default 15)")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean think time in seconds (default 1; 0: none)"
    )
    parser.add_argument("--no-search", action="store_true", help="leave /search out of the browsing mix")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="uvicorn worker processes (default 2: what the Dockerfile starts, WEB_CONCURRENCY)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of data and load")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR (server log inside)")
    parser.add_argument(
        "--reuse", type=Path, metavar="DIR", help="drive the load again on a DATA_DIR kept by --keep"
    )
    # Internal: the load generator's own process.
    parser.add_argument("--drive", metavar="PLAN", dest="plan", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    defaults = SHORT if args.short else FULL
    for name in ("challenges", "submissions", "scores", "outputs", "duration"):
        if getattr(args, name) is None:
            setattr(args, name, defaults[name])
    if args.warmup is None:
        args.warmup = 2.0 if args.short else 10.0
    if args.startups + args.judges > args.users:
        parser.error("--startups + --judges cannot exceed --users")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.startup_timeout = 60.0
    return args


def orchestrate(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Seed, index, serve, drive, sample; return every figure."""
    env = dict(os.environ)
    env["DATA_DIR"] = str(data_dir)
    env.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'kyoso.sqlite3'}")
    env["SIGN_IN_ATTEMPTS"] = "1000"
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "SIGN_IN_ATTEMPTS")})
    http_bench.check_catalogues()
    plan_path = data_dir / "plan.json"
    timings: dict[str, float] = {}
    if args.reuse:
        print(f"reusing the data set seeded in {data_dir}", flush=True)
    else:
        timings["migrate"] = run_step("migrate", [sys.executable, "-m", "app", "migrate"], env)
        seed_demo = [sys.executable, "-m", "app", "seed-demo", "--if-empty"]
        timings["seed-demo"] = run_step("seed-demo", seed_demo, env)
        seed_command = [
            sys.executable, str(BENCH_DIR / "seed_load.py"), "--plan", str(plan_path),
            "--challenges", str(args.challenges), "--submissions", str(args.submissions),
            "--scores", str(args.scores), "--outputs", str(args.outputs),
            "--startups", str(args.startups), "--judges", str(args.judges), "--seed", str(args.seed),
            *(["--no-versions"] if args.short else []),
        ]  # fmt: skip
        timings["seed"] = run_step("seed (bench/seed_load.py)", seed_command, env)
        timings["reindex"] = run_step("reindex", [sys.executable, "-m", "app", "reindex"], env)
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    if not args.reuse:
        seeding = f"{timings['seed']:.1f} s; reindex {timings['reindex']:.1f} s"
        print(f"seeded {plan['sizes']} in {seeding}", flush=True)
    if len(plan["startups"]) < args.startups or len(plan["judges"]) < args.judges:
        raise http_bench.BenchError(
            f"the seed has {len(plan['startups'])} startup users and {len(plan['judges'])} judges with work"
        )
    out_path = data_dir / "load.json"
    with http_bench.running_server(args, data_dir) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        pid = server_pid(port)
        idle_cpu, idle_rss = sample(process_tree(pid))
        print(
            f"server: uvicorn, {args.workers} worker(s) (pid {pid}) at {base_url}; {args.users} users for "
            f"{args.duration:.0f} s after {args.warmup:.0f} s of warm-up, think time {args.think} s",
            flush=True,
        )
        drive_command = [
            sys.executable, str(Path(__file__).resolve()), "--drive", str(plan_path), "--base-url", base_url,
            "--out", str(out_path), "--duration", str(args.duration), "--warmup", str(args.warmup),
            "--users", str(args.users), "--startups", str(args.startups), "--judges", str(args.judges),
            "--think", str(args.think), "--timeout", str(args.timeout), "--seed", str(args.seed),
            *(["--no-search"] if args.no_search else []),
        ]  # fmt: skip
        driver = subprocess.Popen(drive_command, cwd=PROJECT_ROOT, env=env)
        samples = watch(pid, driver)
        if driver.returncode != 0:
            raise http_bench.BenchError(f"the load generator exited {driver.returncode}")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    result["server"] = {**server_figures(samples, result["window"]), "rss_idle_mib": round(idle_rss, 1)}
    result["server"]["cpu_seconds_before"] = round(idle_cpu, 2)
    result["sizes"], result["seed_phases"], result["timings"] = plan["sizes"], plan["phases"], timings
    return result


def report(args: argparse.Namespace, result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = summarize(result)
    users = result["users"]
    print()
    print(
        f"{users['visitors']} visitors, {users['startups']} startup members, {users['judges']} judges; "
        f"{result['window']['seconds']:.0f} s measured; load average before: {result.get('loadavg', '?')}"
    )
    print_table(rows)
    server = result["server"]
    print(
        f"server: CPU {server['cpu_percent']:.0f}% of one core ({server['cpu_seconds']:.1f} s), "
        f"RSS idle {server['rss_idle_mib']:.0f} MiB, start {server['rss_start_mib']:.0f}, "
        f"peak {server['rss_peak_mib']:.0f}, end {server['rss_end_mib']:.0f} MiB"
    )
    print(
        f"load generator CPU: {result.get('driver_cpu_seconds', 0):.1f} s; "
        f"sign-in of {users['startups'] + users['judges']} "
        f"users: {result['sign_in_seconds']:.1f} s; statuses: {result['statuses']}"
    )
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["timings"].items())
    print(f"setup: {timings}")
    errors = sum(row["errors"] for row in rows if row["type"] in TYPES)
    html = next(row for row in rows if row["type"] == "HTML pages")
    verdict = "ok" if errors == 0 and html["p95_ms"] <= HTML_P95_TARGET_MS else "MISSED"
    print(f"targets (0 errors, HTML p95 <= {HTML_P95_TARGET_MS:.0f} ms): {verdict} "
          f"({errors} errors, HTML p95 {html['p95_ms']:.1f} ms)")  # fmt: skip
    for line in result["error_samples"]:
        print(f"  error: {line}", file=sys.stderr)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.plan:  # the load generator's process
        import resource

        result = asyncio.run(drive(args))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["driver_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
        Path(args.out).write_text(json.dumps(result), encoding="utf-8")
        return 0
    data_dir = args.reuse or Path(tempfile.mkdtemp(prefix="kyoso-load-"))
    loadavg = Path("/proc/loadavg").read_text().split()[:3]
    try:
        result = orchestrate(args, data_dir)
    except http_bench.BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep or args.reuse:
            print(f"kept {data_dir} (run again on it with --reuse {data_dir})")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    result["loadavg"] = " ".join(loadavg)
    rows = report(args, result)
    if args.json:
        figures = {key: value for key, value in result.items() if key != "latencies"}
        figures.update({"mode": "short" if args.short else "full", "think_s": args.think, "summary": rows})
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
