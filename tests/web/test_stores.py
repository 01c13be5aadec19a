"""Sessions and rate limits in Redis when REDIS_URL is set; expired file sessions are purged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from dataclasses import replace
from pathlib import Path

from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from piccolo.engine.base import Engine

from app.asgi import create_app
from app.settings import Settings
from app.web.sessions import purge_expired_sessions_forever
from tests.support.client import WebClient
from tests.support.peers import require_peer
from tests.support.people import make_user

REDIS_URL = os.environ.get("KYOSO_TEST_REDIS", "redis://127.0.0.1:6379/15")


async def test_sessions_live_in_redis_when_configured(settings: Settings, database: Engine) -> None:  # type: ignore[type-arg]
    require_peer("Redis", REDIS_URL.replace("redis://", "tcp://"))
    app = create_app(replace(settings, redis_url=REDIS_URL))
    sessions = app.stores.get("sessions")
    assert isinstance(sessions, RedisStore)
    person = await make_user(f"redis-{uuid.uuid4().hex[:6]}@example.jp")
    async with WebClient.for_app(app) as client:
        await client.sign_in(person.email, person.password)
        session_id = client.http.cookies["kyoso_session"]
        assert await sessions.exists(session_id)
        assert (await client.get("/account")).status_code == 200
        await client.sign_out()
        assert not await sessions.exists(session_id)
    await sessions._redis.aclose()  # type: ignore[attr-defined]


async def test_expired_file_sessions_are_purged(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "sessions", create_directories=True)
    await store.set("expired", b"x", expires_in=1)
    await store.set("alive", b"y", expires_in=3600)
    assert len(list((tmp_path / "sessions").iterdir())) == 2
    await asyncio.sleep(1.1)
    purge = asyncio.create_task(purge_expired_sessions_forever(store))
    await asyncio.sleep(0.2)
    purge.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await purge
    # `exists()` already hides expired keys: look at the files themselves.
    assert len(list((tmp_path / "sessions").iterdir())) == 1
    assert await store.get("alive") == b"y"
