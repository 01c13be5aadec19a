"""The real app served by uvicorn in a subprocess, on its own fresh database, for browser tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT
from tests.support.commands import fresh_postgres_database, run_app_command

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
BIND_ATTEMPTS = 3


class LiveServerError(RuntimeError):
    """The live server could not be prepared or did not come up."""


@dataclass
class LiveServer:
    """A running app: where it answers, its files, its database and its process."""

    base_url: str
    data_dir: Path
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        """The absolute address of `path` on this server."""
        return self.base_url + path

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote (for failure messages)."""
        return log_tail(self.log_path, lines)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file, or a note that it is empty."""
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty log)"


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, up to 10 s for a graceful shutdown, then SIGKILL."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> bool:
    """Poll /healthz until it answers ok; False if the process exited first (e.g. the port was taken)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(base_url=base_url, timeout=1.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                response = http.get("/healthz")
            except httpx.TransportError:
                pass
            else:
                if response.status_code == 200 and response.json() == {"status": "ok"}:
                    return True
            time.sleep(0.1)
    stop_process(process)
    raise LiveServerError(
        f"{base_url}/healthz did not answer within {STARTUP_TIMEOUT:.0f} s. Server log:\n{log_tail(log_path)}"
    )


def spawn_uvicorn(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start uvicorn serving the app on `port`, its output appended to `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.asgi:app",
                "--host",
                HOST,
                "--port",
                str(port),
                "--timeout-graceful-shutdown",
                "5",
            ],
            env={**env, "BASE_URL": f"http://{HOST}:{port}"},
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def start_live_server(
    tmp_dir: Path, *, on_postgres_url: str | None, seed_demo: bool = False
) -> Iterator[LiveServer]:
    """Serve the app on a free port with a fresh migrated database (PostgreSQL or SQLite) until exit."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    data_dir = tmp_dir / "data"
    data_dir.mkdir(exist_ok=True)
    log_path = tmp_dir / "server.log"
    database = (
        fresh_postgres_database(on_postgres_url, prefix="kyoso_e2e")
        if on_postgres_url
        else sqlite_database(tmp_dir / "live.sqlite3")
    )
    with database as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            # Every browser test signs people in from 127.0.0.1: the production limit (10 per 5 minutes per
            # address) would refuse the later ones. The limit itself is tested in tests/accounts.
            "SIGN_IN_ATTEMPTS": "1000",
        }
        env.pop("SECRET_KEY", None)  # the server keeps its own under DATA_DIR
        run_app_command("migrate", env=env)
        if seed_demo:
            run_app_command("seed-demo", env=env)
        process, base_url = None, ""
        for _ in range(BIND_ATTEMPTS):
            port = free_port()
            base_url = f"http://{HOST}:{port}"
            process = spawn_uvicorn(env, port, log_path)
            if wait_until_healthy(base_url, process, log_path):
                break
            process = None
        if process is None:
            raise LiveServerError(
                f"uvicorn exited before answering /healthz. Server log:\n{log_tail(log_path)}"
            )
        try:
            yield LiveServer(
                base_url=base_url,
                data_dir=data_dir,
                database_url=database_url,
                process=process,
                log_path=log_path,
            )
        finally:
            stop_process(process)
            shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def sqlite_database(path: Path) -> Iterator[str]:
    """A fresh SQLite file's URL (with its -wal/-shm companions removed afterwards)."""
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    try:
        yield f"sqlite:///{path.resolve()}"
    finally:
        for file in path.parent.glob(path.name + "*"):
            file.unlink(missing_ok=True)
