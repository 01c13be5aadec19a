"""The Atom feed of the catalogue: newly published outputs and newly confirmed adoptions, newest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator
from litestar import Controller, Response, get
from litestar.di import NamedDependency

from app.catalog.open_data import (
    ITEM_COLUMNS,
    PUBLISHED,
    confirmed_adoptions_query,
    output_url,
    strings,
)
from app.catalog.tables import Output
from app.challenges.api import LICENSE, LICENSE_URL, to_second
from app.challenges.feeds import ATOM_MEDIA_TYPE, FEED_TAGS, xml_text
from app.clock import utcnow
from app.settings import Settings

FEED_TITLE = "協創 — 新着のオープンソース成果物と導入事例"
FEED_SIZE = 50
# The feed is Japanese like the challenges feed; readers get the same document whatever their language.
ADOPTION_VERBS = {"adopted": "導入", "evaluating": "導入検討", "stopped": "利用終了"}


def municipality_name(row: Mapping[str, Any]) -> str:
    """A municipality as it is written: 東京都千代田区 (a prefecture's own row has no name)."""
    return f"{row['municipality_prefecture']}{row['municipality_name']}"


async def feed_events(limit: int = FEED_SIZE) -> list[tuple[datetime, str, Mapping[str, Any]]]:
    """The newest publications and confirmations, newest first: (instant, kind, row). Two queries."""
    outputs = await (
        Output.select(*ITEM_COLUMNS)
        .where((Output.status == PUBLISHED) & Output.published_at.is_not_null())
        .order_by(Output.published_at, ascending=False)
        .order_by(Output.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
        .run()
    )
    adoptions = await confirmed_adoptions_query(newest_first=True).limit(limit).run()
    events: list[tuple[datetime, str, Mapping[str, Any]]] = [
        *((row["published_at"], "output", row) for row in outputs),
        *((row["confirmed_at"], "adoption", row) for row in adoptions),
    ]
    events.sort(key=lambda event: (event[0], event[1], event[2]["id"]), reverse=True)
    return events[:limit]


def catalog_feed(
    events: Sequence[tuple[datetime, str, Mapping[str, Any]]], *, self_url: str, base_url: str, now: datetime
) -> bytes:
    """The Atom document of `events` (already newest first)."""
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(FEED_TITLE)
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=f"{base_url}/catalog", rel="alternate", type="text/html")
    feed.language("ja")
    feed.author({"name": "協創 (Kyoso)"})
    feed.rights(f"{LICENSE} {LICENSE_URL}")
    feed.generator("Kyoso")
    feed.updated(max((to_second(moment) for moment, _, _ in events), default=to_second(now)))
    for moment, kind, row in events:
        entry = feed.add_entry(order="append")
        if kind == "output":
            url = output_url(base_url, row["slug"])
            entry.id(url)
            entry.title(xml_text(f"新しい成果物: {row['name']}"))
            entry.link(href=url, rel="alternate", type="text/html")
            entry.published(to_second(moment))
            entry.updated(to_second(moment))
            entry.summary(xml_text(str(row["short_description_ja"] or row["short_description_en"] or "")))
            maintainer = row["maintainer_organization_name"] or row["maintainer_name"]
            if maintainer:
                entry.author({"name": xml_text(str(maintainer))})
            entry.category(term="output")
            for category in strings(row["categories"]):
                entry.category(term=xml_text(category))
        else:
            url = output_url(base_url, row["output_slug"])
            verb = ADOPTION_VERBS.get(row["status"], row["status"])
            entry.id(f"{url}#adoption-{row['id']}")
            entry.title(xml_text(f"{municipality_name(row)}が{row['output_name']}を{verb}"))
            entry.link(href=url, rel="alternate", type="text/html")
            entry.published(to_second(moment))
            entry.updated(to_second(moment))
            summary = f"{municipality_name(row)} (全国地方公共団体コード {row['municipality_code']})"
            if row["deployment_url"]:
                summary += f" {row['deployment_url']}"
            entry.summary(xml_text(summary))
            entry.category(term="adoption")
    document: bytes = feed.atom_str(pretty=True)
    return document


class CatalogFeedController(Controller):
    """The catalogue's Atom feed (GET only: no CSRF cookie)."""

    tags = FEED_TAGS
    opt = {"exclude_from_csrf": True}  # noqa: RUF012 (Litestar reads this class attribute)

    @get(
        "/feeds/catalog.atom",
        name="catalog_atom",
        summary="Atom feed of new catalogue entries and adoptions",
        description=(
            f"The {FEED_SIZE} newest events of the catalogue: published open-source outputs and adoptions "
            f"their maintainer confirmed. Licence: {LICENSE} ({LICENSE_URL})."
        ),
    )
    async def catalog_atom(self, settings: NamedDependency[Settings]) -> Response[bytes]:
        """Newest events first (two queries)."""
        now = utcnow()
        return Response(
            catalog_feed(
                await feed_events(),
                self_url=f"{settings.base_url}/feeds/catalog.atom",
                base_url=settings.base_url,
                now=now,
            ),
            media_type=ATOM_MEDIA_TYPE,
        )


CONTROLLERS = [CatalogFeedController]
