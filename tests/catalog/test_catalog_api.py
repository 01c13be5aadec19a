"""The catalogue's open data: filters, pages, municipality codes, dumps parsed back, what never appears."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar import Litestar
from piccolo.engine.base import Engine

from app.catalog.api import CONTROLLERS
from app.catalog.codes import with_check_digit
from app.catalog.tables import Adoption, Municipality, Output
from app.challenges.queries import encode_cursor
from app.clock import utcnow
from app.settings import Settings
from tests.challenges.factories import app_with, make_challenge
from tests.support.client import WebClient
from tests.support.people import make_bureau, make_user
from tests.support.queries import assert_query_budget, count_queries

LIST = "/api/v1/outputs"
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the catalogue's open data controllers."""
    return app_with(settings, CONTROLLERS)


@pytest.fixture
async def api(app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """An anonymous client on a fresh database."""
    async with WebClient.for_app(app) as web:
        yield web


async def author() -> int:
    return (await make_user("catalog@city.example.jp", role="official", bureau_id=await make_bureau())).id


async def output(slug: str, created_by: int, *, status: str = "published", **columns: Any) -> int:
    """An Output row inserted directly."""
    moment = columns.pop("moment", NOW)
    values: dict[str, Any] = {
        "slug": slug,
        "name": f"Software {slug}",
        "short_description_ja": f"{slug} の概要",
        "short_description_en": f"About {slug}",
        "long_description_ja": "",
        "long_description_en": "",
        "repository_url": f"https://git.example.jp/{slug}",
        "landing_url": "",
        "license": "MIT",
        "license_is_open": True,
        "development_status": "stable",
        "categories": ["it-development"],
        "maintainer_name": "Example Lab",
        "version": "1.0.0",
        "status": status,
        "created_by": created_by,
        "created_at": moment,
        "updated_at": moment,
        "published_at": moment if status == "published" else None,
        **columns,
    }
    rows = await Output.insert(Output(**values)).run()
    return int(rows[0]["id"])


async def municipality(prefix: str, prefecture: str, name: str = "") -> int:
    rows = await Municipality.insert(
        Municipality(
            code=with_check_digit(prefix), prefecture=prefecture, name=name, prefecture_kana="", name_kana=""
        )
    ).run()
    return int(rows[0]["id"])


async def adoption(
    output_id: int, municipality_id: int, recorded_by: int, *, confirmed: bool = True, **columns: Any
) -> int:
    values: dict[str, Any] = {
        "output": output_id,
        "municipality": municipality_id,
        "status": "adopted",
        "deployment_url": "https://city.example.jp/app",
        "fork_url": "",
        "recorded_by": recorded_by,
        "recorded_at": NOW,
        "updated_at": NOW,
        "confirmed_by": recorded_by if confirmed else None,
        "confirmed_at": NOW + timedelta(days=1) if confirmed else None,
        "one_per_pair": f"{output_id}:{municipality_id}",
        **columns,
    }
    rows = await Adoption.insert(Adoption(**values)).run()
    return int(rows[0]["id"])


async def slugs(api: WebClient, query: str = "") -> list[str]:
    response = await api.get(f"{LIST}?limit=100{query}")
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


async def catalogue() -> dict[str, int]:
    """Entries in every state, municipalities, confirmed and unconfirmed adoptions."""
    user = await author()
    ids = {
        "bousai-map": await output(
            "bousai-map", user, categories=["it-development", "emergency"], development_status="beta"
        ),
        "closed-license": await output(
            "closed-license", user, license="LicenseRef-proprietary", license_is_open=False
        ),
        "old-one": await output(
            "old-one", user, moment=NOW - timedelta(days=100), development_status="obsolete"
        ),
        "draft-one": await output("draft-one", user, status="draft"),
        "review-one": await output("review-one", user, status="in_review"),
    }
    chiyoda = await municipality("13101", "東京都", "千代田区")
    sapporo = await municipality("01100", "北海道", "札幌市")
    ids["chiyoda"], ids["sapporo"] = chiyoda, sapporo
    await adoption(ids["bousai-map"], chiyoda, user)
    await adoption(ids["old-one"], chiyoda, user, status="stopped", fork_url="https://git.example.jp/fork")
    await adoption(ids["bousai-map"], sapporo, user, confirmed=False)
    await adoption(ids["draft-one"], sapporo, user)  # confirmed, but of a draft: never shown
    return ids


async def test_list_shows_published_entries_with_every_field(api: WebClient) -> None:
    await catalogue()
    response = await api.get(LIST)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in response.headers
    body = response.json()
    assert body["data_license"] == "CC BY 4.0"
    assert body["next_cursor"] is None
    assert [item["slug"] for item in body["items"]] == ["bousai-map", "closed-license", "old-one"]
    item = body["items"][0]
    assert item["url"] == "http://testserver/catalog/bousai-map"
    assert item["short_description"] == {"ja": "bousai-map の概要", "en": "About bousai-map"}
    assert item["categories"] == ["it-development", "emergency"]
    assert item["license"] == "MIT"
    assert item["license_is_open"] is True
    assert item["development_status"] == "beta"
    assert item["maintainer"] == "Example Lab"
    assert item["published_at"] == "2026-11-01T03:00:00Z"
    assert item["source_challenge"] is None


async def test_filters_combine(api: WebClient) -> None:
    await catalogue()
    assert await slugs(api, "&category=emergency") == ["bousai-map"]
    assert await slugs(api, "&category=it-development&development_status=beta") == ["bousai-map"]
    assert await slugs(api, "&category=it") == []  # a category matches only itself
    assert await slugs(api, "&license_open=false") == ["closed-license"]
    assert await slugs(api, "&license_open=true&development_status=obsolete") == ["old-one"]
    assert await slugs(api, "&updated_since=2026-10-01T00:00:00Z") == ["bousai-map", "closed-license"]
    assert await slugs(api, "&updated_since=2026-11-01T12:00:00%2B09:00") == ["bousai-map", "closed-license"]
    assert await slugs(api, "&updated_since=2026-11-01T13:00:00%2B09:00") == []


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("category=IT%20dev", "category"),
        ("category=%25", "category"),
        ("development_status=released", "development_status"),
        ("license_open=maybe", "license_open"),
        ("updated_since=2026-01-01T00:00:00", "updated_since"),
        ("updated_since=yesterday", "updated_since"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=nope", "cursor"),
        ("cursor=" + encode_cursor(10**12), "cursor"),
    ],
)
async def test_invalid_parameters_are_a_400_in_json(api: WebClient, query: str, key: str) -> None:
    response = await api.get(f"{LIST}?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400
    assert key in [error["key"] for error in body["errors"]]


async def test_cursor_walks_every_entry_exactly_once(api: WebClient) -> None:
    user = await author()
    for number in range(17):
        await output(f"walk-{number:02d}", user)
    await output("walk-draft", user, status="draft")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        response = await api.http.get(LIST, params={"limit": "5", **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(item["slug"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert seen == [f"walk-{number:02d}" for number in range(17)]


async def test_detail_has_markdown_html_and_confirmed_adoptions_only(api: WebClient) -> None:
    ids = await catalogue()
    await (
        Output.update(
            {
                Output.long_description_ja: "## 概要\n\n<script>alert(1)</script>**防災**",
                Output.screenshots: ["https://img.example.jp/1.png"],
            }
        )
        .where(Output.id == ids["bousai-map"])
        .run()
    )
    response = await api.get(f"{LIST}/bousai-map")
    assert response.status_code == 200
    body = response.json()
    assert body["data_license"] == "CC BY 4.0"
    assert body["license"] == "MIT"
    assert "<strong>防災</strong>" in body["long_description"]["html"]["ja"]
    assert "<script" not in body["long_description"]["html"]["ja"]
    assert body["screenshots"] == ["https://img.example.jp/1.png"]
    assert body["adoptions"] == [
        {
            "municipality": {"code": "131016", "prefecture": "東京都", "name": "千代田区"},
            "status": "adopted",
            "deployment_url": "https://city.example.jp/app",
            "fork_url": "",
            "confirmed_at": "2026-11-02T03:00:00Z",
        }
    ]
    for slug in ("draft-one", "review-one", "no-such", "%00", "x" * 200):
        missing = await api.get(f"{LIST}/{slug}")
        assert missing.status_code == 404, slug
        assert missing.json()["status_code"] == 404


async def test_source_challenge_only_when_public(api: WebClient) -> None:
    user = await author()
    bureau = await make_bureau("kensetsu")
    public = await make_challenge(
        bureau_id=bureau, author_id=user, slug="shown", now=utcnow(), status="archived"
    )
    hidden = await make_challenge(
        bureau_id=bureau, author_id=user, slug="hidden", now=utcnow(), status="draft"
    )
    await output("from-public", user, source_challenge=public)
    await output("from-draft", user, source_challenge=hidden)
    items = {item["slug"]: item for item in (await api.get(LIST)).json()["items"]}
    assert items["from-public"]["source_challenge"] == "shown"
    assert items["from-draft"]["source_challenge"] is None


async def test_municipality_adoptions(api: WebClient) -> None:
    await catalogue()
    response = await api.get("/api/v1/municipalities/131016/adoptions")
    assert response.status_code == 200
    body = response.json()
    assert body["municipality"] == {"code": "131016", "prefecture": "東京都", "name": "千代田区"}
    assert [(item["output"]["slug"], item["status"]) for item in body["items"]] == [
        ("bousai-map", "adopted"),
        ("old-one", "stopped"),
    ]
    assert body["items"][1]["fork_url"] == "https://git.example.jp/fork"
    assert body["items"][0]["output"]["url"] == "http://testserver/catalog/bousai-map"
    # Full-width digits and a hyphen are the same code.
    assert (await api.get("/api/v1/municipalities/１３１０１-６/adoptions")).json() == body
    # Sapporo's only adoptions are unconfirmed or of a draft.
    sapporo = await api.get(f"/api/v1/municipalities/{with_check_digit('01100')}/adoptions")
    assert sapporo.status_code == 200
    assert sapporo.json()["items"] == []


@pytest.mark.parametrize(
    ("code", "status", "needle"),
    [
        ("131017", 400, "check digit"),
        ("13101", 400, "six digits"),
        ("abcdef", 400, "six digits"),
        ("1310166", 400, "six digits"),
        (with_check_digit("27100"), 404, "No municipality"),
    ],
)
async def test_unknown_and_malformed_codes(api: WebClient, code: str, status: int, needle: str) -> None:
    await catalogue()
    response = await api.get(f"/api/v1/municipalities/{code}/adoptions")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status
    assert needle in body["detail"]
    if status == 400:
        assert body["errors"][0]["key"] == "code"


async def test_csv_dump_parses_back(api: WebClient) -> None:
    ids = await catalogue()
    await (
        Output.update({Output.name: '=HYPERLINK("https://evil.example")'})
        .where(Output.id == ids["closed-license"])
        .run()
    )
    response = await api.get("/catalog/dump.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="catalog.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    pairs = [(row["slug"], row["municipality_code"]) for row in rows]
    assert pairs == [("bousai-map", "131016"), ("closed-license", ""), ("old-one", "131016")]
    by_slug = {row["slug"]: row for row in rows}
    assert by_slug["bousai-map"]["categories"] == "it-development;emergency"
    assert by_slug["bousai-map"]["adoption_status"] == "adopted"
    assert by_slug["bousai-map"]["adoption_confirmed_at_jst"] == "2026-11-02 12:00"
    assert by_slug["bousai-map"]["published_at_jst"] == "2026-11-01 12:00"
    assert by_slug["closed-license"]["name"] == '\'=HYPERLINK("https://evil.example")'
    assert by_slug["closed-license"]["license_is_open"] == "false"
    assert by_slug["old-one"]["adoption_status"] == "stopped"
    assert "draft-one" not in response.text
    assert "review-one" not in response.text
    assert "011002" not in response.text  # Sapporo's adoptions are unconfirmed or of a draft


async def test_json_dump_parses_back(api: WebClient) -> None:
    await catalogue()
    response = await api.get("/catalog/dump.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["data_license"] == "CC BY 4.0"
    assert body["data_license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    outputs = {entry["slug"]: entry for entry in body["outputs"]}
    assert set(outputs) == {"bousai-map", "closed-license", "old-one"}
    assert [a["municipality"]["code"] for a in outputs["bousai-map"]["adoptions"]] == ["131016"]
    assert outputs["closed-license"]["adoptions"] == []
    assert outputs["old-one"]["adoptions"][0]["status"] == "stopped"


async def test_queries_stay_within_budget(api: WebClient) -> None:
    user = await author()
    place = await municipality("13101", "東京都", "千代田区")
    for number in range(25):
        output_id = await output(f"budget-{number:02d}", user)
        if number % 2:
            await adoption(output_id, place, user)
    for url, budget in ((f"{LIST}?limit=100", 1), ("/catalog/dump.csv", 2), ("/catalog/dump.json", 2)):
        with count_queries() as counted:
            response = await api.get(url)
        assert response.status_code == 200, response.text
        assert_query_budget(counted, budget)


async def test_openapi_documents_the_catalogue_api(api: WebClient) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    listing = schema["paths"]["/api/v1/outputs"]["get"]
    assert listing["tags"] == ["open data"]
    assert "CC BY 4.0" in listing["description"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "category",
        "development_status",
        "license_open",
        "updated_since",
        "limit",
        "cursor",
    }
    for path in (
        "/api/v1/outputs/{slug}",
        "/api/v1/municipalities/{code}/adoptions",
        "/catalog/dump.csv",
        "/catalog/dump.json",
    ):
        assert "CC BY 4.0" in schema["paths"][path]["get"]["description"], path
    components = schema["components"]["schemas"]
    assert {"OutputList", "OutputItem", "OutputDetail", "MunicipalityAdoptions", "CatalogDump"} <= set(
        components
    )


JUNK = ["", " ", "\x00", "a\x00b", "%", "'; DROP TABLE output; --", "😀" * 30, "\u202e", "null", "[]", "_"]


def junk(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(JUNK), st.text(max_size=max_size))


FILTER_PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "category": st.one_of(st.sampled_from(["emergency", "it-development", "a-" * 40]), junk(70)),
        "development_status": st.one_of(st.sampled_from(["beta", "stable", "obsolete"]), junk(20)),
        "license_open": st.one_of(st.sampled_from(["true", "false", "1", "0"]), junk(10)),
        "updated_since": st.one_of(
            st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat()),
            st.sampled_from(["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-12:00"]),
            junk(40),
        ),
        "limit": st.one_of(st.integers(min_value=-(10**30), max_value=10**30).map(str), junk(10)),
        "cursor": st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(encode_cursor), junk(40)),
    },
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=FILTER_PARAMS)
@example(params={"category": "\x00", "cursor": "\x00"})
@example(params={"cursor": encode_cursor(10**30), "limit": "100"})
@example(params={"updated_since": "0001-01-01T00:00:00+09:00", "development_status": "beta"})
async def test_no_combination_of_parameters_is_a_server_error(api: WebClient, params: dict[str, str]) -> None:
    if not await slugs(api):
        await catalogue()
    response = await api.http.get(LIST, params=params)
    assert response.status_code in {200, 400}, (params, response.status_code, response.text)
    if response.status_code == 200:
        assert not {"draft-one", "review-one"} & {item["slug"] for item in response.json()["items"]}


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    code=st.one_of(
        st.text(max_size=12), st.from_regex(r"[0-9０-９\-]{0,10}", fullmatch=True), st.sampled_from(JUNK)
    )
)
@example(code="131016")
@example(code="9" * 40)
async def test_no_municipality_code_is_a_server_error(api: WebClient, code: str) -> None:
    response = await api.http.get(f"/api/v1/municipalities/{quote(code, safe='')}/adoptions")
    assert response.status_code in {200, 400, 404}, (code, response.status_code, response.text)
