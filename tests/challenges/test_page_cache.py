"""Public pages are cached for anonymous visitors only; nobody ever receives another person's page."""

from __future__ import annotations

from app.challenges.tables import Challenge
from tests.challenges.test_public_pages import publish
from tests.support.client import WebClient
from tests.support.people import make_bureau, make_organization, make_user
from tests.support.queries import count_queries


async def test_anonymous_pages_come_from_the_cache(client: WebClient) -> None:
    bureau_id = await make_bureau()
    official = await make_user("official@city.example", role="official", bureau_id=bureau_id)
    await publish("cached", bureau_id, official)
    first = await client.get("/challenges/cached")
    with count_queries() as counted:
        second = await client.get("/challenges/cached")
    assert second.text == first.text
    assert counted.value == 0
    assert "x-csrftoken" not in second.text  # cached HTML never carries a visitor's token


async def test_a_signed_in_page_is_never_served_to_anyone_else(
    client: WebClient, other_client: WebClient
) -> None:
    bureau_id = await make_bureau()
    official = await make_user("official@city.example", role="official", bureau_id=bureau_id)
    await publish("private-bits", bureau_id, official)
    founder = await make_user("founder@startup.example")
    await make_organization(founder)
    await client.sign_in(founder.email, founder.password)
    mine = await client.get("/challenges/private-bits")
    assert "質問を送信" in mine.text  # the question form only a signed-in startup member sees
    anonymous = await other_client.get("/challenges/private-bits")
    assert "質問を送信" not in anonymous.text
    assert "founder" not in anonymous.text
    again = await client.get("/challenges/private-bits")
    assert "質問を送信" in again.text  # and the signed-in user never gets the anonymous copy
    listing_signed_in = await client.get("/challenges")
    listing_anonymous = await other_client.get("/challenges")
    assert "マイアカウント" in listing_signed_in.text
    assert "マイアカウント" not in listing_anonymous.text


async def test_cache_separates_languages_and_queries(client: WebClient) -> None:
    bureau_id = await make_bureau()
    official = await make_user("official@city.example", role="official", bureau_id=bureau_id)
    await publish("lang", bureau_id, official)
    ja = await client.get("/challenges")
    en = await client.get("/challenges", headers={"accept-language": "en"})
    assert '<html lang="ja">' in ja.text
    assert '<html lang="en">' in en.text
    empty = await client.get("/challenges?theme=none-such")
    assert "課題 lang" not in empty.text


async def test_changes_clear_the_cache(client: WebClient, other_client: WebClient) -> None:
    bureau_id = await make_bureau()
    official = await make_user("official@city.example", role="official", bureau_id=bureau_id)
    await publish("changing", bureau_id, official)
    assert "あと" in (await client.get("/challenges/changing")).text
    await other_client.sign_in(official.email, official.password)
    closed = await other_client.post("/challenges/changing/transitions/close")
    assert closed.status_code == 303
    assert (await Challenge.select(Challenge.status).first().run())["status"] == "closed"
    assert "審査中" in (await client.get("/challenges/changing")).text


async def test_cached_pages_keep_security_headers_and_set_no_cookies(client: WebClient) -> None:
    bureau_id = await make_bureau()
    official = await make_user("official@city.example", role="official", bureau_id=bureau_id)
    await publish("headers", bureau_id, official)
    await client.get("/challenges/headers")
    client.http.cookies.clear()
    cached = await client.get("/challenges/headers")
    assert cached.status_code == 200
    assert "content-security-policy" in cached.headers
    assert cached.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in cached.headers
    assert "HX-Request" in cached.headers["vary"]
    fragment = await client.get("/challenges?status=open", htmx=True)
    page = await client.get("/challenges?status=open")
    assert fragment.text != page.text  # an HTMX swap and a page never share a cache entry
