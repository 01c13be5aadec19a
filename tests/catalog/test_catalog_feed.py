"""The catalogue's Atom feed, parsed back with feedparser: new outputs and confirmed adoptions only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from app.catalog.catalog_feeds import CONTROLLERS, FEED_SIZE
from app.catalog.codes import with_check_digit
from app.catalog.tables import Adoption, Municipality, Output
from app.settings import Settings
from tests.challenges.factories import app_with
from tests.support.client import WebClient
from tests.support.people import make_bureau, make_user

FEED = "/feeds/catalog.atom"
START = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the catalogue feed."""
    return app_with(settings, CONTROLLERS)


@pytest.fixture
async def feeds(app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """An anonymous client on a fresh database."""
    async with WebClient.for_app(app) as web:
        yield web


async def author() -> int:
    return (await make_user("catalog@city.example.jp", role="official", bureau_id=await make_bureau())).id


async def output(
    slug: str, user: int, published_at: datetime | None, status: str = "published", **extra: Any
) -> int:
    rows = await Output.insert(
        Output(
            slug=slug,
            name=extra.pop("name", f"Software {slug}"),
            short_description_ja=f"{slug} の概要",
            short_description_en="",
            long_description_ja="",
            long_description_en="",
            repository_url=f"https://git.example.jp/{slug}",
            landing_url="",
            license="MIT",
            license_is_open=True,
            categories=["it-development"],
            maintainer_name="Example Lab",
            version="1.0",
            status=status,
            created_by=user,
            created_at=START,
            updated_at=published_at or START,
            published_at=published_at,
            **extra,
        )
    ).run()
    return int(rows[0]["id"])


async def municipality(prefix: str, prefecture: str, name: str) -> int:
    rows = await Municipality.insert(
        Municipality(
            code=with_check_digit(prefix), prefecture=prefecture, name=name, prefecture_kana="", name_kana=""
        )
    ).run()
    return int(rows[0]["id"])


async def adoption(output_id: int, municipality_id: int, user: int, confirmed_at: datetime | None) -> int:
    rows = await Adoption.insert(
        Adoption(
            output=output_id,
            municipality=municipality_id,
            status="adopted",
            deployment_url="https://city.example.jp/bousai",
            fork_url="",
            recorded_by=user,
            recorded_at=START,
            updated_at=START,
            confirmed_by=user if confirmed_at else None,
            confirmed_at=confirmed_at,
            one_per_pair=f"{output_id}:{municipality_id}",
        )
    ).run()
    return int(rows[0]["id"])


async def test_feed_lists_outputs_and_confirmed_adoptions_newest_first(feeds: WebClient) -> None:
    user = await author()
    bousai = await output("bousai-map", user, START + timedelta(days=1), name="防災マップ")
    await output("kosodate", user, START + timedelta(days=3))
    draft = await output("secret-draft", user, None, status="draft")
    await output("in-review", user, None, status="in_review")
    chiyoda = await municipality("13101", "東京都", "千代田区")
    sapporo = await municipality("01100", "北海道", "札幌市")
    adopted = await adoption(bousai, chiyoda, user, START + timedelta(days=5))
    await adoption(bousai, sapporo, user, None)  # unconfirmed
    await adoption(draft, sapporo, user, START + timedelta(days=6))  # of a draft

    response = await feeds.get(FEED)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "set-cookie" not in response.headers
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    assert parsed.feed.rights == "CC BY 4.0 https://creativecommons.org/licenses/by/4.0/"
    assert parsed.feed.language == "ja"
    ids = [entry.id for entry in parsed.entries]
    assert ids == [
        f"http://testserver/catalog/bousai-map#adoption-{adopted}",
        "http://testserver/catalog/kosodate",
        "http://testserver/catalog/bousai-map",
    ]
    first = parsed.entries[0]
    assert first.title == "東京都千代田区が防災マップを導入"
    assert "131016" in first.summary
    assert first.link == "http://testserver/catalog/bousai-map"
    assert datetime(*first.published_parsed[:6], tzinfo=UTC) == START + timedelta(days=5)
    output_entry = parsed.entries[2]
    assert output_entry.title == "新しい成果物: 防災マップ"
    assert output_entry.summary == "bousai-map の概要"
    assert {tag.term for tag in output_entry.tags} == {"output", "it-development"}
    assert datetime(*parsed.feed.updated_parsed[:6], tzinfo=UTC) == START + timedelta(days=5)
    for hidden in ("secret-draft", "in-review", "札幌"):
        assert hidden not in response.text


async def test_empty_feed_is_valid(feeds: WebClient) -> None:
    parsed = feedparser.parse((await feeds.get(FEED)).content)
    assert not parsed.bozo
    assert parsed.entries == []


async def test_feed_is_capped_and_survives_characters_xml_cannot_carry(feeds: WebClient) -> None:
    user = await author()
    for number in range(FEED_SIZE + 5):
        await output(
            f"many-{number:02d}", user, START + timedelta(hours=number), name=f"<b>名前\x0b{number}</b>"
        )
    parsed = feedparser.parse((await feeds.get(FEED)).content)
    assert not parsed.bozo, parsed.bozo_exception
    assert len(parsed.entries) == FEED_SIZE
    assert parsed.entries[0].id == f"http://testserver/catalog/many-{FEED_SIZE + 4:02d}"
    assert parsed.entries[0].title == f"新しい成果物: <b>名前{FEED_SIZE + 4}</b>"
    assert parsed.entries[0].title_detail.type == "text/plain"
