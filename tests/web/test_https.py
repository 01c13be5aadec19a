"""Under an https BASE_URL: HSTS and Secure cookies."""

from __future__ import annotations

from dataclasses import replace

from piccolo.engine.base import Engine

from app.asgi import create_app
from app.settings import Settings
from tests.support.client import WebClient
from tests.support.people import make_user


async def test_hsts_and_secure_cookies_under_https(settings: Settings, database: Engine) -> None:  # type: ignore[type-arg]
    app = create_app(replace(settings, base_url="https://kyoso.example.jp"))
    person = await make_user("secure@example.jp")
    async with WebClient.for_app(app) as client:
        client.http.base_url = "https://testserver"  # type: ignore[assignment]
        page = await client.get("/")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert all("Secure" in cookie for cookie in page.headers.get_list("set-cookie"))
        response = await client.post("/signin", {"email": person.email, "password": person.password})
        session = next(c for c in response.headers.get_list("set-cookie") if c.startswith("kyoso_session="))
        assert "Secure" in session
