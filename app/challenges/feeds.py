"""Feeds of published challenges: Atom for readers, iCalendar for calendars. The libraries escape."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app.accounts.tables import Bureau
from app.challenges.api import (
    LICENSE,
    LICENSE_URL,
    BureauParam,
    ThemeParam,
    challenge_url,
    public_challenge,
    public_filters,
    select_public,
    to_second,
)
from app.challenges.lifecycle import PHASES, PublicStage
from app.challenges.markdown import plain_text
from app.challenges.queries import attach_themes
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.settings import Settings

ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ICS_MEDIA_TYPE = "text/calendar"  # Litestar adds "; charset=utf-8" to text/ types
FEED_TITLE = "協創 — 新着の課題"
FEED_SIZE = 50
MAX_DEADLINES = 1_000
PRODID = "-//Kyoso//Challenges//JA"
FEED_TAGS = ["feeds"]

# Each phase of the timeline as a calendar event: the stable part of its UID and its Japanese name.
PHASE_EVENTS: Mapping[str, tuple[str, str]] = {
    "applications_open_at": ("applications-open", "応募受付開始"),
    "questions_close_at": ("questions-close", "質問締切"),
    "applications_close_at": ("applications-close", "応募締切"),
    "screening_at": ("screening", "書類審査"),
    "pitch_at": ("pitch", "ピッチイベント"),
    "results_at": ("results", "結果発表"),
}
if tuple(PHASE_EVENTS) != PHASES:
    raise RuntimeError("Every phase of lifecycle.PHASES needs its calendar event here")

# Characters XML 1.0 forbids; lxml refuses them, so a stray one in a title must not break the feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: str) -> str:
    """`text` without characters XML cannot carry (escaping is feedgen's job)."""
    return _NOT_XML.sub("", text)


def entry_title(row: Mapping[str, Any]) -> str:
    """The Japanese title, with the English one in parentheses when there is one."""
    title = str(row["title_ja"])
    return f"{title} ({row['title_en']})" if row["title_en"] else title


async def bureau_name(slug: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """The Japanese name of the filtered bureau (from the rows when any); 404 for an unknown bureau."""
    if rows:
        return str(rows[0]["bureau_name_ja"])
    bureau = await Bureau.select(Bureau.name_ja).where(Bureau.slug == slug).first().run()
    if bureau is None:
        raise NotFoundException(detail="No bureau has this slug.")
    return str(bureau["name_ja"])


def atom_feed(
    rows: Sequence[Mapping[str, Any]], *, title: str, self_url: str, base_url: str, now: datetime
) -> bytes:
    """The Atom document of `rows`, newest first."""
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(xml_text(title))
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=f"{base_url}/challenges", rel="alternate", type="text/html")
    feed.language("ja")
    feed.author({"name": "協創 (Kyoso)"})
    feed.rights(f"{LICENSE} {LICENSE_URL}")
    feed.generator("Kyoso")
    feed.updated(max((to_second(row["updated_at"]) for row in rows), default=to_second(now)))
    for row in rows:
        url = challenge_url(base_url, row["slug"])
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(xml_text(entry_title(row)))
        entry.link(href=url, rel="alternate", type="text/html")
        entry.updated(to_second(row["updated_at"]))
        if row["published_at"] is not None:
            entry.published(to_second(row["published_at"]))
        entry.summary(xml_text(plain_text(row["summary_ja"])))
        entry.author({"name": xml_text(str(row["bureau_name_ja"]))})
        for theme in row.get("themes", []):
            entry.category(term=xml_text(theme))
    document: bytes = feed.atom_str(pretty=True)
    return document


def calendar(name: str) -> Calendar:
    """An empty VCALENDAR of Kyoso."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def phase_event(row: Mapping[str, Any], phase: str, base_url: str) -> Event:
    """The event of one phase of a challenge, with a UID that stays the same across downloads."""
    key, label = PHASE_EVENTS[phase]
    url = challenge_url(base_url, row["slug"])
    event = Event()
    event.add("uid", f"{row['slug']}-{key}@kyoso")
    event.add("dtstamp", to_second(row["updated_at"]))
    event.add("last-modified", to_second(row["updated_at"]))
    event.add("dtstart", to_second(row[phase]))
    event.add("summary", f"{label}: {row['title_ja']}")
    event.add("description", f"{row['bureau_name_ja']}\n{plain_text(row['summary_ja'])}\n\n{url}")
    event.add("url", url)
    return event


def ics_response(cal: Calendar) -> Response[bytes]:
    """A calendar download."""
    return Response(cal.to_ical(), media_type=ICS_MEDIA_TYPE)


class FeedController(Controller):
    """Atom and iCalendar feeds of published challenges (GET only: no CSRF cookie)."""

    tags = FEED_TAGS
    opt = {"exclude_from_csrf": True}  # noqa: RUF012 (Litestar reads this class attribute)

    @get(
        "/feeds/challenges.atom",
        name="challenges_atom",
        summary="Atom feed of new challenges",
        description=(
            f"The {FEED_SIZE} most recently published challenges, optionally of one bureau or theme. "
            f"Licence: {LICENSE} ({LICENSE_URL})."
        ),
    )
    async def challenges_atom(
        self, settings: NamedDependency[Settings], bureau: BureauParam = None, theme: ThemeParam = None
    ) -> Response[bytes]:
        """Newest published challenges first (two queries, three for a bureau without any)."""
        filters = public_filters(None, bureau, theme, sort="newest")
        now = utcnow()
        rows = await select_public(filters, now=now, limit=FEED_SIZE)
        await attach_themes(rows)
        narrowed = []
        if filters.bureau:
            narrowed.append(await bureau_name(filters.bureau, rows))
        if filters.theme:
            narrowed.append(f"テーマ「{filters.theme}」")
        title = FEED_TITLE + (f"（{'・'.join(narrowed)}）" if narrowed else "")
        query = urlencode(
            {key: value for key, value in asdict(filters).items() if key in {"bureau", "theme"} and value}
        )
        self_url = f"{settings.base_url}/feeds/challenges.atom" + (f"?{query}" if query else "")
        return Response(
            atom_feed(rows, title=title, self_url=self_url, base_url=settings.base_url, now=now),
            media_type=ATOM_MEDIA_TYPE,
        )

    @get(
        "/challenges/{slug:str}/calendar.ics",
        name="challenge_calendar",
        summary="Timeline of a challenge (iCalendar)",
        description="One event per phase that has a date. Times are UTC.",
    )
    async def challenge_calendar(
        self, settings: NamedDependency[Settings], slug: FromPath[str]
    ) -> Response[bytes]:
        """The timeline of a published challenge; 404 for any other."""
        row = await public_challenge(
            slug,
            now=utcnow(),
            columns=(
                Challenge.slug,
                Challenge.title_ja,
                Challenge.summary_ja,
                Challenge.bureau.name_ja.as_alias("bureau_name_ja"),
                Challenge.updated_at,
                *(getattr(Challenge, phase) for phase in PHASES),
            ),
        )
        cal = calendar(f"協創: {row['title_ja']}")
        for phase in PHASES:
            if row[phase] is not None:
                cal.add_component(phase_event(row, phase, settings.base_url))
        return ics_response(cal)

    @get(
        "/feeds/deadlines.ics",
        name="deadlines_calendar",
        summary="Application deadlines of open challenges (iCalendar)",
        description="One event per challenge accepting applications, at its deadline (UTC).",
    )
    async def deadlines_calendar(
        self, settings: NamedDependency[Settings], bureau: BureauParam = None, theme: ThemeParam = None
    ) -> Response[bytes]:
        """Every open challenge's application deadline (one query)."""
        filters = public_filters(PublicStage.OPEN, bureau, theme)
        rows = await select_public(filters, now=utcnow(), limit=MAX_DEADLINES)
        cal = calendar("協創: 応募締切")
        for row in rows:
            if row["applications_close_at"] is not None:
                cal.add_component(phase_event(row, "applications_close_at", settings.base_url))
        return ics_response(cal)


CONTROLLERS = [FeedController]
