"""HTTP throughput and latency of Kyoso under wrk: /healthz (the floor) against / (a real page).

Run from the project root with the project's interpreter:

    .venv/bin/python bench/http_bench.py [--workers N] [--threads T] [--connections C] [--duration 10s]

It migrates and seeds a throwaway SQLite database in a temporary DATA_DIR (or the database that
DATABASE_URL names, when it is set), starts uvicorn on a free port, runs wrk with bench/report.lua
against each path, prints a table and stops the server. `--url` benchmarks a server that is already
running instead (nothing is started, migrated or seeded). Standard library only.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
REPORT_LUA = BENCH_DIR / "report.lua"
DEFAULT_PATHS = ("/healthz", "/")
BASELINE_PATH = "/healthz"
DURATION_PATTERN = re.compile(r"^\d+(\.\d+)?[smh]?$")


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


@dataclass
class Result:
    """One wrk run, from the BENCH lines that report.lua prints."""

    path: str
    values: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.values.get("rps", 0.0)

    @property
    def non_2xx(self) -> int:
        return int(self.values.get("non_2xx", 0))

    @property
    def socket_errors(self) -> int:
        keys = ("errors_connect", "errors_read", "errors_write", "errors_timeout")
        return int(sum(self.values.get(key, 0) for key in keys))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--threads", "-t", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", "-c", type=int, default=32, help="wrk open connections (default 32)")
    parser.add_argument(
        "--duration", "-d", default="10s", help="wrk duration per path, e.g. 10s, 1m (default 10s)"
    )
    parser.add_argument("--timeout", default="5s", help="wrk per-request timeout (default 5s)")
    parser.add_argument(
        "--warmup", default="2s", help="untimed wrk run per path before measuring; 0 skips it"
    )
    parser.add_argument(
        "--path",
        dest="paths",
        action="append",
        help="path to benchmark; repeat for several (default: /healthz and /)",
    )
    parser.add_argument("--accept-language", default="ja", help="Accept-Language header sent (default ja)")
    parser.add_argument("--port", type=int, default=0, help="port for the server (default: a free one)")
    parser.add_argument("--url", help="benchmark this already running server (e.g. http://127.0.0.1:8000)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for /healthz")
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR (server log inside)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON after the table")
    args = parser.parse_args(argv)
    args.paths = args.paths or list(DEFAULT_PATHS)
    if args.workers < 1 or args.threads < 1:
        parser.error("--workers and --threads must be at least 1")
    if args.connections < args.threads:
        parser.error("wrk needs --connections >= --threads")
    for name in ("duration", "timeout"):
        if not DURATION_PATTERN.match(getattr(args, name)):
            parser.error(f"--{name} looks like 10s, 1m or 30")
    if not DURATION_PATTERN.match(args.warmup):
        parser.error("--warmup looks like 2s, or 0 to skip")
    args.warmup_enabled = float(args.warmup.rstrip("smh")) > 0
    if any(not path.startswith("/") for path in args.paths):
        parser.error("--path must start with /")
    return args


def find_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError(
            "wrk is not installed. Install it with `apt-get install -y wrk` (Debian/Ubuntu, as root) "
            "or `brew install wrk` (macOS), then run this again."
        )
    return wrk


def check_catalogues() -> None:
    """The app refuses to render pages without compiled catalogues; say how to build them."""
    missing = [
        po.relative_to(PROJECT_ROOT)
        for po in sorted((PROJECT_ROOT / "locale").glob("*/LC_MESSAGES/messages.po"))
        if not po.with_suffix(".mo").exists()
    ]
    if missing:
        names = ", ".join(str(path) for path in missing)
        raise BenchError(f"{names} not compiled: run `.venv/bin/pybabel compile -d locale -D messages` first")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(args: list[str], env: dict[str, str]) -> None:
    """`python -m app ARGS` in the project root; its output is shown only if it fails."""
    command = [sys.executable, "-m", "app", *args]
    completed = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise BenchError(
            f"`python -m app {' '.join(args)}` exited {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}".rstrip()
        )


def get_status(url: str, accept_language: str, timeout: float = 5.0) -> int:
    """The HTTP status of GET `url` (redirects not followed), or 0 when nothing answers."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Accept-Language": accept_language})  # noqa: S310 (http URL built here)
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0


def wait_until_healthy(base_url: str, server: subprocess.Popen[bytes] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise BenchError(f"the server exited with code {server.returncode} before answering /healthz")
        if get_status(f"{base_url}/healthz", "en", timeout=1.0) == 200:
            return
        time.sleep(0.2)
    raise BenchError(f"{base_url}/healthz did not answer 200 within {timeout:.0f}s")


@contextmanager
def running_server(args: argparse.Namespace, data_dir: Path) -> Iterator[str]:
    """Migrate, seed and start uvicorn; yield its base URL; stop it with SIGTERM afterwards."""
    env = dict(os.environ)
    env["DATA_DIR"] = str(data_dir)
    if env.get("DATABASE_URL"):
        print(f"database: DATABASE_URL from the environment ({env['DATABASE_URL'].split('@')[-1]})")
    else:
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'kyoso.sqlite3'}"
        print(f"database: temporary SQLite in {data_dir}")

    check_catalogues()
    run_cli(["migrate"], env)
    run_cli(["seed-demo", "--if-empty"], env)

    port = args.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", "app.asgi:app",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(args.workers),
        "--log-level", "warning",
    ]  # fmt: skip
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(base_url, server, args.startup_timeout)
            yield base_url
        except BenchError:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
            if tail.strip():
                print(f"--- server log (last lines of {log_path}) ---\n{tail}", file=sys.stderr)
            raise
        finally:
            stop_server(server)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait, so uvicorn runs its shutdown (lifespan, workers); SIGKILL only as a last resort."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print("the server did not stop within 30s of SIGTERM; killing it", file=sys.stderr)
        server.kill()
        code = server.wait()
    if code not in (0, -signal.SIGTERM):
        print(f"the server exited with code {code}", file=sys.stderr)


def wrk_command(
    wrk: str, args: argparse.Namespace, url: str, duration: str, headers: Sequence[str] = ()
) -> list[str]:
    extra = [part for header in headers for part in ("-H", header)]
    return [
        wrk,
        f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}",
        "--timeout", args.timeout,
        "-H", f"Accept-Language: {args.accept_language}",
        *extra,
        "-s", str(REPORT_LUA),
        url,
    ]  # fmt: skip


def run_wrk(
    wrk: str, args: argparse.Namespace, base_url: str, path: str, headers: Sequence[str] = ()
) -> Result:
    url = base_url + path
    if args.warmup_enabled:
        subprocess.run(wrk_command(wrk, args, url, args.warmup, headers), capture_output=True, check=False)
    completed = subprocess.run(
        wrk_command(wrk, args, url, args.duration, headers), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise BenchError(
            f"wrk exited {completed.returncode} for {url}:\n{completed.stdout}{completed.stderr}"
        )
    result = Result(path)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH ") and "=" in line:
            key, _, value = line.removeprefix("BENCH ").partition("=")
            result.values[key] = float(value)
    if "rps" not in result.values:
        raise BenchError(
            f"wrk printed no BENCH lines for {url} (is {REPORT_LUA} intact?):\n{completed.stdout}"
        )
    return result


def print_ratio_table(results: Sequence[Result], width: int = 20) -> None:
    """rps, p95, non-2xx and each run's ratio to the first one (/healthz), one line per run."""
    floor = results[0].rps
    print(f"\n{'page':<{width}} {'rps':>8} {'p95 ms':>8} {'non-2xx':>8} {'ratio':>6}")
    for result in results:
        values = result.values
        print(
            f"{result.path:<{width}} {result.rps:>8.1f} {values.get('p95_ms', 0):>8.2f} "
            f"{int(values.get('non_2xx', 0)):>8} {result.rps / floor:>6.2f}"
        )


def print_table(results: list[Result]) -> None:
    headers = ("path", "rps", "p50 ms", "p95 ms", "p99 ms", "non-2xx", "sock err")
    rows = [
        (
            result.path,
            f"{result.rps:.1f}",
            f"{result.values.get('p50_ms', 0):.2f}",
            f"{result.values.get('p95_ms', 0):.2f}",
            f"{result.values.get('p99_ms', 0):.2f}",
            str(result.non_2xx),
            str(result.socket_errors),
        )
        for result in results
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))

    baseline = next((r for r in results if r.path == BASELINE_PATH), None)
    if baseline is not None and baseline.rps > 0:
        for result in results:
            if result is not baseline:
                print(f"ratio rps({result.path}) / rps({BASELINE_PATH}): {result.rps / baseline.rps:.3f}")
    for result in results:
        if result.non_2xx or result.socket_errors:
            print(
                f"warning: {result.path} had {result.non_2xx} non-2xx responses and {result.socket_errors} "
                "socket errors; its rps counts them too",
                file=sys.stderr,
            )


def benchmark(args: argparse.Namespace, wrk: str, base_url: str) -> list[Result]:
    for path in args.paths:
        status = get_status(base_url + path, args.accept_language)
        print(f"GET {path} -> {status or 'no answer'}")
    print(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} per path "
        f"(warm-up {args.warmup}), Accept-Language: {args.accept_language}"
    )
    results = []
    for path in args.paths:
        print(f"running {path} ...", flush=True)
        results.append(run_wrk(wrk, args, base_url, path))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk = find_wrk()
        if args.url:
            base_url = args.url.rstrip("/")
            wait_until_healthy(base_url, None, args.startup_timeout)
            print(f"server: {base_url} (already running)")
            results = benchmark(args, wrk, base_url)
        else:
            data_dir = Path(tempfile.mkdtemp(prefix="kyoso-bench-"))
            try:
                with running_server(args, data_dir) as base_url:
                    print(f"server: uvicorn, {args.workers} worker(s) at {base_url}")
                    results = benchmark(args, wrk, base_url)
            finally:
                if args.keep:
                    print(f"kept {data_dir}")
                else:
                    shutil.rmtree(data_dir, ignore_errors=True)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    print()
    print_table(results)
    if args.json:
        print(
            json.dumps({"workers": args.workers, "results": [{"path": r.path, **r.values} for r in results]})
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def signed_in_cookie(base_url: str, email: str, password: str) -> str:
    """Sign `email` in through the real form and return the Cookie header value of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base_url + "/signin", timeout=10).read()
    token = next(cookie.value for cookie in jar if cookie.name == "kyoso_csrf")
    form = urllib.parse.urlencode(
        {"email": email, "password": password, "_csrf_token": token, "next": "/account"}
    ).encode()
    # base_url is the http://127.0.0.1 server the bench started.
    opener.open(urllib.request.Request(base_url + "/signin", data=form), timeout=10).read()  # noqa: S310
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "kyoso_session" not in cookies:
        raise BenchError(f"signing {email} in failed")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())
