"""`python -m app worker` as its own process: it delivers what the web process queued, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from piccolo.engine.base import Engine

from app.clock import utcnow
from app.database.sqlite import KyosoSQLiteEngine
from app.notifications.outbox import notify_users
from app.notifications.tables import Notification
from app.settings import PROJECT_ROOT
from tests.conftest import POSTGRES_URL
from tests.support.people import make_user
from tests.support.smtp import SmtpServer

CONTEXT = {
    "slug": "bousai",
    "title_ja": "防災情報の多言語化",
    "title_en": "Multilingual alerts",
    "answer": "3か月",
}


async def test_worker_process_delivers_and_stops_cleanly(
    database: Engine,  # type: ignore[type-arg]
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    """A row queued here is sent by the separate worker process to the real SMTP server."""
    person = await make_user("reader@example.jp")
    await notify_users("question_answered", [person.id], CONTEXT, link="/challenges/bousai", now=utcnow())
    url = f"sqlite:///{database.path}" if isinstance(database, KyosoSQLiteEngine) else POSTGRES_URL
    env = {**os.environ, "DATABASE_URL": url, "SMTP_URL": smtp_server.url, "DATA_DIR": str(tmp_path)}
    worker = subprocess.Popen(  # noqa: ASYNC220 (a child process the test watches while it polls)
        [sys.executable, "-m", "app", "worker"], env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        for _ in range(300):
            if smtp_server.to("reader@example.jp"):
                break
            await asyncio.sleep(0.1)
        assert len(smtp_server.to("reader@example.jp")) == 1
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=20)
    assert worker.returncode in (0, 130), output
    assert "Worker started" in output
    row = await Notification.select(Notification.email_status).first().run()
    assert row["email_status"] == "sent"
