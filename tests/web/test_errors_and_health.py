"""Error pages and the health endpoints."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, get
from piccolo.engine.base import Engine

from app.asgi import create_app
from app.database.registry import use_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.settings import Settings
from tests.support.client import WebClient


async def test_healthz(client: WebClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client: WebClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "current"}


async def test_readyz_reports_pending_migrations(client: WebClient, tmp_path: Path, database: Engine) -> None:  # type: ignore[type-arg]
    empty = KyosoSQLiteEngine(path=str(tmp_path / "empty.sqlite3"))
    use_engine(empty)
    try:
        response = await client.get("/readyz")
    finally:
        use_engine(database)
        await empty.close_idle_connections()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert any(name.startswith("accounts:") for name in body["pending_migrations"])


async def test_readyz_reports_an_unreachable_database(
    client: WebClient, tmp_path: Path, database: Engine
) -> None:  # type: ignore[type-arg]
    unreachable = KyosoSQLiteEngine(path=str(tmp_path / "missing-dir" / "db.sqlite3"))
    use_engine(unreachable)
    try:
        response = await client.get("/readyz")
    finally:
        use_engine(database)
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_method_not_allowed_is_a_page(client: WebClient) -> None:
    response = await client.post("/")
    assert response.status_code == 405
    assert "ここではこの操作はできません" in response.text


async def test_unexpected_errors_are_a_calm_500_page(settings: Settings, database: Engine) -> None:  # type: ignore[type-arg]
    @get("/boom")
    async def boom() -> str:
        raise RuntimeError("secret internal detail")

    app: Litestar = create_app(settings)
    app.register(boom)
    async with WebClient.for_app(app) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert "システムで問題が発生しました" in response.text
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


async def test_htmx_errors_get_the_fragment(client: WebClient) -> None:
    response = await client.get("/no-such-page", htmx=True)
    assert response.status_code == 404
    assert response.text.lstrip().startswith('<section class="error-page"')


async def test_api_clients_get_json_errors(client: WebClient) -> None:
    response = await client.get("/no-such-page", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.json() == {"status_code": 404}
