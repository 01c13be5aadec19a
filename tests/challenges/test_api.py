"""The open data API and CSV: filters, pages, what is never shown, sanitized HTML, errors, query budget."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar import Litestar
from piccolo.engine.base import Engine

from app.challenges.api import CONTROLLERS
from app.challenges.lifecycle import PublicStage
from app.challenges.queries import encode_cursor
from app.clock import utcnow
from app.settings import Settings
from tests.challenges.factories import (
    app_with,
    make_bureau_named,
    make_challenge,
    make_official,
    make_question,
)
from tests.support.client import WebClient
from tests.support.people import make_bureau, make_user
from tests.support.queries import assert_query_budget, count_queries

LIST = "/api/v1/challenges"
XSS = "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def open_data_app(settings: Settings) -> Litestar:
    """The app with the open data controllers."""
    return app_with(settings, CONTROLLERS)


@pytest.fixture
async def api(open_data_app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """An anonymous client of the open data API on a fresh database."""
    async with WebClient.for_app(open_data_app) as web:
        yield web


@dataclass(frozen=True)
class World:
    """A bureau with an official, and the instant the test stands at."""

    bureau_id: int
    author_id: int
    now: datetime


async def make_world() -> World:
    bureau_id = await make_bureau("digital-services")
    return World(bureau_id=bureau_id, author_id=await make_official(bureau_id), now=utcnow())


async def challenge(world: World, slug: str, **options: Any) -> int:
    return await make_challenge(
        bureau_id=world.bureau_id, author_id=world.author_id, slug=slug, now=world.now, **options
    )


async def slugs(api: WebClient, query: str = "") -> list[str]:
    response = await api.get(f"{LIST}?limit=100{query}")
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


async def every_state(world: World) -> None:
    """One challenge in each stored state, plus a published one past its deadline."""
    await challenge(world, "open-one")
    await challenge(world, "past-deadline", close_in=timedelta(hours=-1))
    await challenge(world, "closed-one", status="closed", close_in=timedelta(days=-3))
    await challenge(world, "judging-one", status="judging", close_in=timedelta(days=-5))
    await challenge(world, "results-one", status="results_published", close_in=timedelta(days=-30))
    await challenge(world, "archived-one", status="archived", close_in=timedelta(days=-90))
    await challenge(world, "draft-one", status="draft")
    await challenge(world, "review-one", status="in_review")


async def test_an_item_has_every_field_in_utc_with_the_licence(api: WebClient) -> None:
    world = await make_world()
    close = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    await challenge(
        world,
        "smart-bousai",
        title_ja="スマート防災",
        title_en="Smart disaster prevention",
        summary_ja="**避難**を速く。",
        themes=["防災", "AI"],
        applications_close_at=close,
        screening_at=close + timedelta(days=7),
        pitch_at=close + timedelta(days=14, hours=1, minutes=30),
        results_at=close + timedelta(days=30),
        poc_budget_jpy=12_000_000,
        selection_count=2,
    )
    response = await api.get(LIST)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "set-cookie" not in response.headers
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert body["license"] == "CC BY 4.0"
    assert body["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert body["next_cursor"] is None
    [item] = body["items"]
    assert item["slug"] == "smart-bousai"
    assert item["url"] == "http://testserver/challenges/smart-bousai"
    assert item["bureau"] == {
        "slug": "digital-services",
        "name_ja": "デジタルサービス局",
        "name_en": "Digital Services",
    }
    assert item["title"] == {"ja": "スマート防災", "en": "Smart disaster prevention"}
    assert item["summary"]["ja"] == "避難を速く。"
    assert item["themes"] == ["AI", "防災"]
    assert item["poc_budget_jpy"] == 12_000_000
    assert item["selection_count"] == 2
    assert item["timeline"] == {
        "applications_open_at": (world.now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "questions_close_at": None,
        "applications_close_at": "2026-12-01T08:00:00Z",
        "screening_at": "2026-12-08T08:00:00Z",
        "pitch_at": "2026-12-15T09:30:00Z",
        "results_at": "2026-12-31T08:00:00Z",
    }
    assert item["published_at"] == world.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert item["updated_at"] == world.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = ("published", "open") if world.now < close else ("closed", "reviewing")
    assert (item["status"], item["stage"]) == expected


async def test_status_filter_uses_the_effective_stage_and_never_shows_drafts(api: WebClient) -> None:
    world = await make_world()
    await every_state(world)
    assert set(await slugs(api)) == {
        "open-one",
        "past-deadline",
        "closed-one",
        "judging-one",
        "results-one",
        "archived-one",
    }
    assert await slugs(api, "&status=open") == ["open-one"]
    assert set(await slugs(api, "&status=reviewing")) == {"past-deadline", "closed-one", "judging-one"}
    assert await slugs(api, "&status=results") == ["results-one"]
    assert await slugs(api, "&status=ended") == ["archived-one"]
    items = {item["slug"]: item for item in (await api.get(f"{LIST}?status=reviewing")).json()["items"]}
    assert (items["past-deadline"]["status"], items["past-deadline"]["stage"]) == ("closed", "reviewing")
    assert items["judging-one"]["status"] == "judging"
    for slug in ("draft-one", "review-one"):
        response = await api.get(f"{LIST}/{slug}")
        assert response.status_code == 404
        assert response.json()["status_code"] == 404


async def test_bureau_and_theme_filters_combine(api: WebClient) -> None:
    world = await make_world()
    other = await make_bureau_named("kensetsu", name_ja="建設局", name_en="Construction", now=world.now)
    await challenge(world, "a-bousai", themes=["防災"])
    await challenge(world, "a-mobility", themes=["モビリティ", "AI"])
    await make_challenge(
        bureau_id=other, author_id=world.author_id, slug="b-bousai", now=world.now, themes=["防災"]
    )
    await make_challenge(
        bureau_id=other, author_id=world.author_id, slug="b-draft", now=world.now, status="draft"
    )
    assert set(await slugs(api, "&bureau=kensetsu")) == {"b-bousai"}
    assert set(await slugs(api, "&theme=防災")) == {"a-bousai", "b-bousai"}
    assert set(await slugs(api, "&bureau=digital-services&theme=防災")) == {"a-bousai"}
    assert set(await slugs(api, "&theme=AI&status=open")) == {"a-mobility"}
    assert await slugs(api, "&bureau=no-such-bureau") == []
    assert await slugs(api, "&theme=無い") == []


async def test_updated_since_needs_a_time_zone(api: WebClient) -> None:
    world = await make_world()
    since = world.now - timedelta(days=2)
    await challenge(world, "old", updated_at=world.now - timedelta(days=10))
    await challenge(world, "recent", updated_at=world.now - timedelta(days=1))
    utc_text = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    jst_text = since.astimezone(timezone(timedelta(hours=9))).isoformat()
    assert await slugs(api, f"&updated_since={utc_text}") == ["recent"]
    response = await api.http.get(LIST, params={"updated_since": jst_text})
    assert [item["slug"] for item in response.json()["items"]] == ["recent"]
    assert set(await slugs(api, "&updated_since=2000-01-01T00:00:00Z")) == {"old", "recent"}

    naive = await api.get(f"{LIST}?updated_since=2026-01-01T00:00:00")
    assert naive.status_code == 400
    assert naive.headers["content-type"].startswith("application/json")
    error = naive.json()
    assert "time zone" in error["detail"]
    assert error["errors"][0]["key"] == "updated_since"
    malformed = await api.get(f"{LIST}?updated_since=yesterday")
    assert malformed.status_code == 400
    assert "ISO 8601" in malformed.json()["detail"]


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("status=draft", "status"),
        ("status=OPEN", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("limit=99999999999999999999999999", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + encode_cursor(10**12), "cursor"),
        ("bureau=%00", "bureau"),
        ("theme=a%00b", "theme"),
        ("updated_since=2026-13-01T00:00:00Z", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B09:00", "updated_since"),
    ],
)
async def test_invalid_parameters_are_a_400_in_json(api: WebClient, query: str, key: str) -> None:
    response = await api.get(f"{LIST}?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == 400
    assert key in [error["key"] for error in body["errors"]]
    assert body["detail"]


async def test_cursor_walks_every_item_exactly_once(api: WebClient) -> None:
    world = await make_world()
    expected = set()
    for number in range(23):
        # Shared deadlines and missing ones: the order must still be total.
        close_in = None if number % 7 == 0 else timedelta(days=1 + number % 4)
        await challenge(world, f"walk-{number:02d}", close_in=close_in)
        expected.add(f"walk-{number:02d}")
    await challenge(world, "walk-draft", status="draft")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "5", **({"cursor": cursor} if cursor else {})}
        response = await api.http.get(LIST, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 5
        seen.extend(item["slug"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == expected


async def test_detail_has_markdown_html_eligibility_and_answered_questions(api: WebClient) -> None:
    world = await make_world()
    asker = await make_user("founder@startup.example.jp")
    challenge_id = await challenge(
        world,
        "detail-one",
        body_ja="## 背景\n\n**重要**な課題。[詳細](https://city.example.jp/a)",
        background_en="Some *background*.",
        eligibility=[{"ja": "市内に拠点", "en": "Office in the city"}, {"ja": "法人", "en": ""}],
    )
    await make_question(
        challenge_id,
        asker_id=asker.id,
        body="予算の上限は？",
        asked_at=world.now - timedelta(days=3),
        answer="1,000万円です。",
        answered_by=world.author_id,
        answered_at=world.now - timedelta(days=2),
    )
    await make_question(challenge_id, asker_id=asker.id, body="未回答の質問", asked_at=world.now)
    response = await api.get(f"{LIST}/detail-one")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "detail-one"
    assert body["license"] == "CC BY 4.0"
    assert body["body"]["markdown"]["ja"].startswith("## 背景")
    html = body["body"]["html"]["ja"]
    assert "<h2>背景</h2>" in html
    assert "<strong>重要</strong>" in html
    assert 'href="https://city.example.jp/a"' in html
    assert body["background"]["html"]["en"].strip() == "<p>Some <em>background</em>.</p>"
    assert body["problem"] == {"markdown": {"ja": "", "en": ""}, "html": {"ja": "", "en": ""}}
    assert body["eligibility"] == [{"ja": "市内に拠点", "en": "Office in the city"}, {"ja": "法人", "en": ""}]
    assert body["questions"] == [
        {
            "question": "予算の上限は？",
            "answer": "1,000万円です。",
            "answered_at": (world.now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    assert "founder" not in response.text
    assert "未回答の質問" not in response.text


async def test_detail_of_unknown_or_unpublished_is_a_json_404(api: WebClient) -> None:
    world = await make_world()
    await challenge(world, "secret-draft", status="draft")
    await challenge(world, "secret-review", status="in_review")
    for slug in ("secret-draft", "secret-review", "no-such-challenge", "%00", "x" * 200):
        response = await api.get(f"{LIST}/{slug}")
        assert response.status_code == 404, slug
        assert response.json()["status_code"] == 404
        assert "secret" not in response.text


class TagCollector(HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_inert(html: str) -> None:
    """No script element, no event handler attribute, no javascript: URL (text showing them is fine)."""
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    parser = TagCollector()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in {"script", "img", "iframe", "object", "embed"}
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, name, value)


async def test_rendered_html_cannot_run_script(api: WebClient) -> None:
    world = await make_world()
    fields = {
        f"{name}_{lang}": XSS
        for name in ("body", "background", "problem", "outcome")
        for lang in ("ja", "en")
    }
    await challenge(world, "xss", summary_ja=XSS, **fields)
    response = await api.get(f"{LIST}/xss")
    assert response.status_code == 200
    body = response.json()
    for name in ("body", "background", "problem", "outcome"):
        assert body[name]["markdown"]["ja"] == XSS  # the source is data; its HTML is what must be safe
        for lang in ("ja", "en"):
            html = body[name]["html"][lang]
            assert_inert(html)
            assert 'href="javascript:' not in html
            assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "<" not in body["summary"]["ja"].replace("<script>alert(1)</script>", "").replace(
        "<img src=x onerror=alert(1)>", ""
    )


async def test_csv_has_a_bom_a_header_and_neutralized_formulas(api: WebClient) -> None:
    world = await make_world()
    await challenge(
        world,
        "csv-one",
        title_ja='=HYPERLINK("https://evil.example","click")',
        title_en="+SUM(1,2)",
        summary_ja="-1+2",
        themes=["@risk", "防災"],
        applications_close_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        poc_budget_jpy=3_000_000,
    )
    await challenge(world, "csv-two", title_ja="普通の課題", close_in=timedelta(days=400))
    await challenge(world, "csv-draft", status="draft")
    response = await api.get("/challenges.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="challenges.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = response.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:8] == [
        "slug",
        "bureau",
        "bureau_name_ja",
        "bureau_name_en",
        "status",
        "stage",
        "title_ja",
        "title_en",
    ]
    assert {"poc_budget_jpy", "applications_close_at_jst", "url"} <= set(header)
    by_slug = {row["slug"]: row for row in rows}
    assert set(by_slug) == {"csv-one", "csv-two"}
    one = by_slug["csv-one"]
    assert one["title_ja"] == '\'=HYPERLINK("https://evil.example","click")'
    assert one["title_en"] == "'+SUM(1,2)"
    assert one["summary_ja"] == "'-1+2"
    assert one["themes"] == "'@risk;防災"
    assert one["applications_close_at_jst"] == "2026-12-01 17:00"
    assert one["poc_budget_jpy"] == "3000000"
    assert one["bureau"] == "digital-services"
    assert one["url"] == "http://testserver/challenges/csv-one"
    assert by_slug["csv-two"]["title_ja"] == "普通の課題"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value

    filtered = await api.get("/challenges.csv?status=open&bureau=digital-services")
    slugs_open = [row["slug"] for row in csv.DictReader(io.StringIO(filtered.content.decode("utf-8-sig")))]
    assert "csv-two" in slugs_open
    assert "csv-draft" not in slugs_open
    bad = await api.get("/challenges.csv?status=drafts")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["key"] == "status"


async def test_list_and_csv_stay_within_two_queries(api: WebClient) -> None:
    world = await make_world()
    for number in range(30):
        await challenge(world, f"budget-{number:02d}", themes=["防災", f"theme-{number % 3}"])
    for url in (f"{LIST}?limit=100", f"{LIST}?limit=10&theme=防災&status=open", "/challenges.csv"):
        with count_queries() as counted:
            response = await api.get(url)
        assert response.status_code == 200, response.text
        assert_query_budget(counted, 2)
    assert len((await api.get(f"{LIST}?limit=100")).json()["items"]) == 30


async def test_openapi_documents_the_open_data_api(api: WebClient) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    listing = schema["paths"]["/api/v1/challenges"]["get"]
    assert listing["tags"] == ["open data"]
    assert "CC BY 4.0" in listing["description"]
    assert {parameter["name"] for parameter in listing["parameters"]} >= {
        "status",
        "bureau",
        "theme",
        "updated_since",
        "limit",
        "cursor",
    }
    detail = schema["paths"]["/api/v1/challenges/{slug}"]["get"]
    assert "CC BY 4.0" in detail["description"]
    assert "CC BY 4.0" in schema["paths"]["/challenges.csv"]["get"]["description"]
    components = schema["components"]["schemas"]
    assert {"ChallengeList", "ChallengeItem", "ChallengeDetail", "Timeline", "ApiError"} <= set(components)
    assert "next_cursor" in components["ChallengeList"]["properties"]


# Values that broke (or would break) a naive implementation: NUL (PostgreSQL refuses it), SQL, huge numbers.
JUNK = ["", " ", "\x00", "a\x00b", "%", "'; DROP TABLE challenge; --", "😀" * 30, "\u202e", "null", "[]"]


def junk(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(JUNK), st.text(max_size=max_size))


def stage_values() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([stage.value for stage in PublicStage]), junk(20))


def instants() -> st.SearchStrategy[str]:
    zones = st.sampled_from(
        [UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]
    )
    aware = st.datetimes(timezones=zones).map(lambda moment: moment.isoformat())
    naive = st.datetimes().map(lambda moment: moment.isoformat())
    extremes = st.sampled_from(["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-12:00", "2026-01-01"])
    return st.one_of(aware, naive, extremes, junk(40))


def cursors() -> st.SearchStrategy[str]:
    issued = st.integers(min_value=-(2**70), max_value=2**70).map(encode_cursor)
    huge = st.sampled_from([2**63, 10**30, -1]).map(encode_cursor)
    return st.one_of(issued, huge, junk(40), st.binary(max_size=30).map(lambda raw: raw.hex()))


FILTER_PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "status": stage_values(),
        "bureau": st.one_of(st.sampled_from(["digital-services", "kensetsu"]), junk(80)),
        "theme": st.one_of(st.sampled_from(["防災", "AI"]), junk(60)),
        "updated_since": instants(),
        "limit": st.one_of(st.integers(min_value=-(10**30), max_value=10**30).map(str), junk(10)),
        "cursor": cursors(),
    },
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=FILTER_PARAMS)
@example(params={"bureau": "\x00", "theme": "a\x00b"})
@example(params={"cursor": encode_cursor(10**30), "limit": "100"})
@example(params={"updated_since": "0001-01-01T00:00:00+09:00", "status": "open"})
@example(params={"updated_since": "9999-12-31T23:59:59-12:00", "limit": "-1"})
@example(params={"limit": "1" + "0" * 40, "cursor": "\x00"})
async def test_no_combination_of_parameters_is_a_server_error(api: WebClient, params: dict[str, str]) -> None:
    if not await slugs(api):
        world = await make_world()
        await challenge(world, "fuzz-open", themes=["防災", "AI"])
        await challenge(world, "fuzz-past", close_in=timedelta(days=-1))
        await challenge(world, "fuzz-draft", status="draft")
    for url in (LIST, "/challenges.csv"):
        response = await api.http.get(url, params=params)
        assert response.status_code < 500, (url, params, response.text)
        assert response.status_code in {200, 400}, (url, params, response.status_code)
        if response.status_code == 400:
            assert response.json()["status_code"] == 400
        elif url == LIST:
            assert "fuzz-draft" not in [item["slug"] for item in response.json()["items"]]
        else:
            assert "fuzz-draft" not in response.content.decode("utf-8-sig")
