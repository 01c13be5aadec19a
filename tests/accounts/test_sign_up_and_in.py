"""Sign up, sign in and sign out through the real forms."""

from __future__ import annotations

from app.web.sessions import SESSION_COOKIE
from tests.support.client import WebClient
from tests.support.people import PASSWORD, make_user
from tests.support.queries import assert_query_budget, count_queries


async def test_sign_up_creates_the_account_and_signs_in(client: WebClient) -> None:
    response = await client.post(
        "/signup",
        {"display_name": "未来 創", "email": "Founder@Example.JP", "password": "tsukiji fish market sunrise"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    account = await client.get("/account")
    assert account.status_code == 200
    assert "founder@example.jp" in account.text
    assert "協創へようこそ" in account.text


async def test_sign_up_keeps_what_was_typed_and_explains_each_error(client: WebClient) -> None:
    response = await client.post(
        "/signup", {"display_name": "", "email": "not-an-email", "password": "short"}
    )
    assert response.status_code == 422
    assert 'value="not-an-email"' in response.text
    assert "name@example.jp のような形式" in response.text
    assert "12文字以上にしてください" in response.text
    assert 'aria-describedby="field-email-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "short" not in response.text.split('id="field-password"')[1].split(">")[0]


async def test_sign_up_refuses_common_and_demo_passwords(client: WebClient) -> None:
    for password in ("password1234", "123456789012", "kyoso-demo-2026"):
        response = await client.post(
            "/signup", {"display_name": "x", "email": "a@example.jp", "password": password}
        )
        assert response.status_code == 422, password
        assert "推測されやすい" in response.text


async def test_duplicate_email_gets_a_clear_message(client: WebClient) -> None:
    await make_user("taken@example.jp")
    response = await client.post(
        "/signup",
        {"display_name": "x", "email": "TAKEN@example.jp", "password": "tsukiji fish market sunrise"},
    )
    assert response.status_code == 422
    assert "このメールアドレスのアカウントはすでにあります" in response.text


async def test_sign_up_form_errors_come_back_as_a_fragment_for_htmx(client: WebClient) -> None:
    response = await client.post("/signup", {"email": "bad"}, htmx=True)
    assert response.status_code == 422
    assert response.text.lstrip().startswith("<form")
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["vary"]


async def test_htmx_sign_up_redirects_with_a_header(client: WebClient) -> None:
    response = await client.post(
        "/signup",
        {"display_name": "x", "email": "h@example.jp", "password": "tsukiji fish market sunrise"},
        htmx=True,
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/account"


async def test_sign_in_same_message_for_unknown_email_and_wrong_password(client: WebClient) -> None:
    await make_user("known@example.jp")
    unknown = await client.post("/signin", {"email": "nobody@example.jp", "password": PASSWORD})
    wrong = await client.post("/signin", {"email": "known@example.jp", "password": "wrong password here"})
    assert unknown.status_code == wrong.status_code == 422
    assert "メールアドレスまたはパスワードが正しくありません" in unknown.text
    assert unknown.text.replace("nobody", "known") == wrong.text.replace(
        client.http.cookies.get("kyoso_csrf", ""), client.http.cookies.get("kyoso_csrf", "")
    )


async def test_sign_in_rotates_the_session_id_and_sign_out_ends_it(
    client: WebClient, other_client: WebClient
) -> None:
    person = await make_user("rotate@example.jp")
    await client.sign_in(person.email, person.password)
    first = client.http.cookies[SESSION_COOKIE]
    await client.sign_in(person.email, person.password)
    second = client.http.cookies[SESSION_COOKIE]
    assert second != first
    # The old id no longer signs anyone in.
    stale = await other_client.http.get("/account", headers={"cookie": f"{SESSION_COOKIE}={first}"})
    assert stale.status_code == 303
    await client.sign_out()
    assert (await client.get("/account")).status_code == 303
    replay = await other_client.http.get("/account", headers={"cookie": f"{SESSION_COOKIE}={second}"})
    assert replay.status_code == 303


async def test_anonymous_pages_store_no_session(client: WebClient) -> None:
    for path in ("/", "/signin", "/signup", "/healthz"):
        response = await client.get(path)
        assert SESSION_COOKIE not in response.headers.get("set-cookie", ""), path


async def test_sign_in_returns_to_a_local_next_page_only(client: WebClient) -> None:
    person = await make_user("next@example.jp")
    local = await client.post(
        "/signin", {"email": person.email, "password": PASSWORD, "next": "/organizations/new"}
    )
    assert local.headers["location"] == "/organizations/new"
    await client.sign_out()
    evil = await client.post(
        "/signin", {"email": person.email, "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert evil.headers["location"] == "/account"


async def test_signed_out_visitor_is_sent_to_sign_in(client: WebClient) -> None:
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Faccount"


async def test_sign_in_is_rate_limited(client: WebClient) -> None:
    for _ in range(10):
        assert (await client.post("/signin", {"email": "a@example.jp", "password": "x"})).status_code == 422
    limited = await client.post("/signin", {"email": "a@example.jp", "password": "x"})
    assert limited.status_code == 429
    assert "試行回数が多すぎます" in limited.text
    assert limited.headers["retry-after"] == "300"


async def test_account_page_query_budget(client: WebClient) -> None:
    person = await make_user("budget@example.jp")
    await client.sign_in(person.email, person.password)
    with count_queries() as counted:
        response = await client.get("/account")
    assert response.status_code == 200
    # viewer + organizations + bureaus + whether the email address is confirmed
    assert_query_budget(counted, 4)
