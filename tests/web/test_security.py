"""CSRF on every unsafe method, security headers on every response, body size limits."""

from __future__ import annotations

import pytest
from litestar import Litestar

from app.web.security import CONTENT_SECURITY_POLICY
from tests.support.client import WebClient
from tests.support.people import make_user

HTML_ROUTES = ["/", "/signin", "/signup", "/account", "/organizations/new", "/admin/bureaus", "/no-such-page"]


@pytest.mark.parametrize("path", [*HTML_ROUTES, "/healthz", "/readyz", "/static/css/kyoso.css"])
async def test_security_headers_everywhere(client: WebClient, path: str) -> None:
    response = await client.get(path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    # HSTS only over https (see test_hsts_and_secure_cookies_under_https).
    assert "strict-transport-security" not in response.headers


async def test_every_get_route_has_headers_signed_in(client: WebClient, app: Litestar) -> None:
    # Enumerate the app's own routes so a page added later is covered without editing this test.
    admin = await make_user("admin@example.jp", role="admin")
    await client.sign_in(admin.email, admin.password)
    examples = {
        "{code:str}": "en",
        "{organization_id:int}": "1",
        "{token:str}": "x",
        "{slug:str}": "no-such",
        "{attachment_id:int}": "1",
        "{filename:str}": "x.pdf",
        "{notification_id:int}": "1",
        "{submission_id:int}": "1",
        "{file_id:int}": "1",
        "{field_id:int}": "1",
        "{round_id:int}": "1",
        "{criterion_id:int}": "1",
        "{assignment_id:int}": "1",
        "{round_judge_id:int}": "1",
        "{proposal_id:int}": "1",
        "{slot_file:str}": "1.ics",
        "{collaboration_id:int}": "1",
        "{adoption_id:int}": "1",
        "{provider_id:str}": "x",
        "{payment_id:int}": "1",
        "{ticket_id:int}": "1",
        "{type_id:int}": "1",
    }
    paths = set()
    for route in app.routes:
        if "GET" not in getattr(route, "methods", set()) or route.path.startswith(("/schema", "/static")):
            continue
        path = route.path
        for placeholder, example in examples.items():
            path = path.replace(placeholder, example)
        assert "{" not in path, f"add an example value for {route.path}"
        paths.add(path)
    assert len(paths) >= 10
    for path in sorted(paths):
        response = await client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff", path


async def test_no_inline_script_in_pages(client: WebClient) -> None:
    page = (await client.get("/")).text
    assert "<script>" not in page
    assert " on" + "click=" not in page
    assert page.count("<script ") == page.count('<script src="/static/')


async def test_post_without_csrf_token_is_a_403_page(client: WebClient) -> None:
    response = await client.post("/signin", {"email": "a@example.jp", "password": "x"}, csrf=False)
    assert response.status_code == 403
    assert "この操作は許可されていません" in response.text
    assert "Traceback" not in response.text


async def test_post_with_a_wrong_csrf_token_is_refused(client: WebClient) -> None:
    await client.get("/signin")
    response = await client.post(
        "/signin", {"email": "a@example.jp", "password": "x", "_csrf_token": "forged" * 20}, csrf=False
    )
    assert response.status_code == 403


async def test_csrf_token_in_the_htmx_header_is_accepted(client: WebClient) -> None:
    response = await client.post("/signin", {"email": "a@example.jp", "password": "x"}, htmx=True)
    assert response.status_code == 422


async def test_body_size_limit(client: WebClient) -> None:
    response = await client.post("/signin", {"email": "a@example.jp", "password": "x" * 1_100_000})
    assert response.status_code == 413
    assert "送信されたデータが大きすぎます" in response.text


async def test_cookies_are_httponly_and_lax(client: WebClient) -> None:
    person = await make_user("cookie@example.jp")
    response = await client.post("/signin", {"email": person.email, "password": person.password})
    cookies = response.headers.get_list("set-cookie")
    session = next(cookie for cookie in cookies if cookie.startswith("kyoso_session="))
    assert "HttpOnly" in session
    assert "SameSite=Lax" in session or "samesite=lax" in session.lower()
    csrf = (await client.get("/")).headers.get_list("set-cookie")
    assert all("HttpOnly" in cookie for cookie in csrf)


async def test_the_home_page_is_cached_for_visitors_only(client: WebClient) -> None:
    person = await make_user("home@example.jp")
    anonymous = await client.get("/")
    assert "アカウント登録" in anonymous.text
    await client.sign_in(person.email, person.password)
    signed_in = await client.get("/")
    assert "マイアカウント" in signed_in.text
    assert "アカウント登録" not in signed_in.text.split("</header>")[0]


async def test_sign_out_deletes_the_session_cookie(client: WebClient) -> None:
    """The deleting Set-Cookie has Max-Age=0 (a past Expires alone loses to the configured Max-Age)."""
    person = await make_user("leaving@example.jp")
    await client.sign_in(person.email, person.password)

    response = await client.sign_out()

    cookies = response.headers.get_list("set-cookie")
    deletions = [value for value in cookies if value.startswith("kyoso_session=")]
    assert deletions
    assert all("Max-Age=0" in value for value in deletions)
    assert "kyoso_session" not in client.http.cookies


def test_no_route_handler_is_typed_any(app: Litestar) -> None:
    """Every handler names what it returns."""
    # A handler typed `-> Any` is served as application/json even when it returns a page: the browser
    # showed the e-mail confirmation page's source.
    from typing import Any

    untyped = sorted(
        f"{route.path} {handler.handler_name}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.parsed_fn_signature.return_type.annotation is Any
    )
    assert untyped == []
