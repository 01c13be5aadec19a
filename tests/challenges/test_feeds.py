"""The Atom feed and the iCalendar files, parsed back with feedparser and icalendar."""

from __future__ import annotations

from calendar import timegm
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest
from icalendar import Calendar
from litestar import Litestar
from piccolo.engine.base import Engine

from app.challenges.api import CONTROLLERS as API_CONTROLLERS
from app.challenges.feeds import CONTROLLERS as FEED_CONTROLLERS
from app.clock import utcnow
from app.settings import Settings
from tests.challenges.factories import app_with, make_bureau_named, make_challenge, make_official
from tests.support.client import WebClient
from tests.support.people import make_bureau
from tests.support.queries import assert_query_budget, count_queries

ATOM = "/feeds/challenges.atom"
DEADLINES = "/feeds/deadlines.ics"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
XSS = "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def feeds_app(settings: Settings) -> Litestar:
    """The app with the feed (and open data) controllers."""
    return app_with(settings, [*FEED_CONTROLLERS, *API_CONTROLLERS])


@pytest.fixture
async def feeds(feeds_app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """An anonymous client on a fresh database."""
    async with WebClient.for_app(feeds_app) as web:
        yield web


class Author:
    """A bureau and its official, and the instant the test stands at."""

    def __init__(self, bureau_id: int, author_id: int, now: datetime) -> None:
        self.bureau_id, self.author_id, self.now = bureau_id, author_id, now

    async def challenge(self, slug: str, **options: Any) -> int:
        return await make_challenge(
            bureau_id=self.bureau_id, author_id=self.author_id, slug=slug, now=self.now, **options
        )


async def make_author() -> Author:
    bureau_id = await make_bureau("digital-services")
    return Author(bureau_id, await make_official(bureau_id), utcnow())


async def test_atom_lists_newest_first_with_titles_links_and_authors(feeds: WebClient) -> None:
    author = await make_author()
    for number in range(3):
        await author.challenge(
            f"feed-{number}",
            title_ja=f"課題{number}",
            title_en="" if number == 1 else f"Challenge {number}",
            summary_ja=f"**概要**{number}",
            published_at=author.now - timedelta(days=10 - number),
            themes=["防災"],
        )
    await author.challenge("feed-draft", status="draft")
    await author.challenge("feed-review", status="in_review")
    response = await feeds.get(ATOM)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "set-cookie" not in response.headers
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.title == "協創 — 新着の課題"
    assert [entry.title for entry in parsed.entries] == [
        "課題2 (Challenge 2)",
        "課題1",
        "課題0 (Challenge 0)",
    ]
    assert [entry.link for entry in parsed.entries] == [
        f"http://testserver/challenges/feed-{number}" for number in (2, 1, 0)
    ]
    newest = parsed.entries[0]
    assert newest.id == "http://testserver/challenges/feed-2"
    assert newest.summary == "概要2"
    assert newest.author == "デジタルサービス局"
    assert [tag.term for tag in newest.tags] == ["防災"]
    published = datetime.fromtimestamp(timegm(newest.published_parsed), UTC)
    assert published == (author.now - timedelta(days=8)).replace(microsecond=0)
    assert "draft" not in response.text
    assert "review" not in response.text


async def test_atom_holds_the_fifty_newest_in_two_queries(feeds: WebClient) -> None:
    author = await make_author()
    for number in range(53):
        await author.challenge(
            f"many-{number:02d}", published_at=author.now - timedelta(minutes=100 - number)
        )
    with count_queries() as counted:
        response = await feeds.get(ATOM)
    assert_query_budget(counted, 2)
    entries = feedparser.parse(response.content).entries
    assert len(entries) == 50
    assert entries[0].link.endswith("/many-52")
    assert entries[-1].link.endswith("/many-03")


async def test_atom_filtered_by_bureau_and_theme_names_them_in_its_title(feeds: WebClient) -> None:
    author = await make_author()
    other = await make_bureau_named("kensetsu", name_ja="建設局", name_en="Construction", now=author.now)
    await author.challenge("ours", themes=["防災"])
    await make_challenge(
        bureau_id=other, author_id=author.author_id, slug="theirs", now=author.now, themes=["AI"]
    )
    parsed = feedparser.parse((await feeds.http.get(ATOM, params={"bureau": "kensetsu"})).content)
    assert parsed.feed.title == "協創 — 新着の課題（建設局）"
    assert [entry.link for entry in parsed.entries] == ["http://testserver/challenges/theirs"]
    parsed = feedparser.parse((await feeds.http.get(ATOM, params={"theme": "防災"})).content)
    assert parsed.feed.title == "協創 — 新着の課題（テーマ「防災」）"
    assert [entry.link for entry in parsed.entries] == ["http://testserver/challenges/ours"]
    both = await feeds.http.get(ATOM, params={"bureau": "kensetsu", "theme": "防災"})
    parsed = feedparser.parse(both.content)
    assert parsed.feed.title == "協創 — 新着の課題（建設局・テーマ「防災」）"
    assert parsed.entries == []
    assert (await feeds.get(f"{ATOM}?bureau=no-such-bureau")).status_code == 404
    assert (await feeds.get(f"{ATOM}?theme=%00")).status_code == 400


async def test_atom_escapes_what_officials_typed(feeds: WebClient) -> None:
    author = await make_author()
    await author.challenge("xss", title_ja="<script>alert(1)</script>\x01", title_en=XSS, summary_ja=XSS)
    response = await feeds.get(ATOM)
    assert response.status_code == 200
    assert "<script" not in response.text
    assert "<img" not in response.text
    root = ElementTree.fromstring(response.content)  # noqa: S314 (the feed under test, not untrusted input)
    for element in root.iter():
        assert element.tag.startswith(ATOM_NS), element.tag  # no foreign (HTML) elements
        assert not any(name.lower().startswith("on") for name in element.attrib)
        assert not element.attrib.get("href", "http").startswith("javascript:")
    [entry] = feedparser.parse(response.content).entries
    assert entry.link == "http://testserver/challenges/xss"
    # Atom type="text": readers show what the official typed as text (escaped in the XML), never as markup.
    assert entry.title_detail.type == "text/plain"
    assert entry.summary_detail.type == "text/plain"
    assert entry.title.startswith("<script>alert(1)</script>")
    for link in entry.links:
        assert not link.href.startswith("javascript:")


def events_of(content: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(content)
    assert str(calendar["PRODID"]) == "-//Kyoso//Challenges//JA"
    assert str(calendar["VERSION"]) == "2.0"
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


async def test_challenge_calendar_has_one_event_per_phase_at_the_stored_instant(feeds: WebClient) -> None:
    author = await make_author()
    deadline = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 17:00 JST
    await author.challenge(
        "ics-one",
        title_ja="防災; アプリ, 実証",
        applications_open_at=datetime(2026, 10, 1, 0, 0, tzinfo=UTC),
        questions_close_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        applications_close_at=deadline,
        screening_at=None,
        pitch_at=datetime(2026, 12, 20, 4, 30, tzinfo=UTC),
        results_at=datetime(2027, 1, 15, 1, 0, tzinfo=UTC),
    )
    response = await feeds.get("/challenges/ics-one/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = events_of(response.content)
    assert set(events) == {
        "ics-one-applications-open@kyoso",
        "ics-one-questions-close@kyoso",
        "ics-one-applications-close@kyoso",
        "ics-one-pitch@kyoso",
        "ics-one-results@kyoso",
    }
    close = events["ics-one-applications-close@kyoso"]
    assert close["DTSTART"].dt == deadline
    assert close["DTSTART"].dt.utcoffset() == timedelta(0)
    assert "DTSTART:20261201T080000Z" in response.text
    assert str(close["SUMMARY"]) == "応募締切: 防災; アプリ, 実証"
    assert str(close["URL"]) == "http://testserver/challenges/ics-one"
    assert close["DTSTAMP"].dt.tzinfo is not None
    assert str(events["ics-one-pitch@kyoso"]["SUMMARY"]) == "ピッチイベント: 防災; アプリ, 実証"
    assert events["ics-one-pitch@kyoso"]["DTSTART"].dt == datetime(2026, 12, 20, 4, 30, tzinfo=UTC)
    again = await feeds.get("/challenges/ics-one/calendar.ics")
    assert again.content == response.content  # stable UIDs and DTSTAMP: calendars update, never duplicate


async def test_unpublished_challenges_have_no_calendar(feeds: WebClient) -> None:
    author = await make_author()
    await author.challenge("hidden-draft", status="draft")
    await author.challenge("hidden-review", status="in_review")
    await author.challenge("shown-archived", status="archived", close_in=timedelta(days=-100))
    for slug in ("hidden-draft", "hidden-review", "no-such-challenge"):
        response = await feeds.get(f"/challenges/{slug}/calendar.ics")
        assert response.status_code == 404, slug
    assert (await feeds.get("/challenges/shown-archived/calendar.ics")).status_code == 200


async def test_deadlines_calendar_lists_only_open_challenges(feeds: WebClient) -> None:
    author = await make_author()
    await author.challenge("open-a", title_ja="課題A", close_in=timedelta(days=5, hours=3))
    await author.challenge("open-b", title_ja="課題B", close_in=timedelta(days=40))
    await author.challenge("open-no-deadline", close_in=None)
    await author.challenge("past", close_in=timedelta(hours=-2))
    await author.challenge("closed", status="closed", close_in=timedelta(days=3))
    await author.challenge("draft", status="draft")
    await author.challenge("review", status="in_review")
    response = await feeds.get(DEADLINES)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = events_of(response.content)
    assert set(events) == {"open-a-applications-close@kyoso", "open-b-applications-close@kyoso"}
    event = events["open-a-applications-close@kyoso"]
    assert str(event["SUMMARY"]) == "応募締切: 課題A"
    assert event["DTSTART"].dt == (author.now + timedelta(days=5, hours=3)).replace(microsecond=0)
    assert str(event["URL"]) == "http://testserver/challenges/open-a"
