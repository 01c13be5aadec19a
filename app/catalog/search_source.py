"""Published catalogue entries as search documents, with the municipalities that adopted them.

One document per entry ("output:<id>"): name, descriptions, licence, maintainer, and the names of every
municipality with an adoption record (the entry's public page lists them all). Facets: licence, and the
prefectures with a confirmed adoption in use (as the catalogue's prefecture filter counts them).
Adoption services record a change of the output. `visible` asks `policies.can_view_output` again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from app.accounts.viewer import Viewer
from app.catalog import policies
from app.catalog.adoptions import COUNTED_STATUS
from app.catalog.facts import facts_of
from app.catalog.tables import Adoption, Output
from app.search.documents import SearchDocument
from app.search.keys import key_ids, paragraphs, row_ids

KIND = "output"


class OutputSource:
    """Published catalogue entries."""

    kind = KIND

    async def documents(self, refs: Collection[str] | None) -> list[SearchDocument]:
        """The current documents (2 queries for any number of refs)."""
        query = Output.select(
            Output.id,
            Output.slug,
            Output.name,
            Output.short_description_ja,
            Output.short_description_en,
            Output.long_description_ja,
            Output.long_description_en,
            Output.license,
            Output.maintainer_name,
            Output.maintainer_organization.name_ja.as_alias("maintainer_ja"),
            Output.maintainer_organization.name_en.as_alias("maintainer_en"),
            Output.published_at,
            Output.updated_at,
        ).where(Output.status == "published")
        if refs is not None:
            ids = row_ids(refs)
            if not ids:
                return []
            query = query.where(Output.id.is_in(ids))
        outputs = await query.order_by(Output.id).run()
        if not outputs:
            return []
        names: dict[int, list[str]] = defaultdict(list)
        prefectures: dict[int, list[str]] = defaultdict(list)
        for row in (
            await Adoption.select(
                Adoption.output,
                Adoption.status,
                Adoption.confirmed_at,
                Adoption.municipality.prefecture.as_alias("prefecture"),
                Adoption.municipality.name.as_alias("name"),
            )
            .where(Adoption.output.is_in([row["id"] for row in outputs]))
            .order_by(Adoption.municipality.code)
            .run()
        ):
            names[row["output"]].append(f"{row['prefecture']}{row['name'] or ''}")
            counted = row["confirmed_at"] is not None and row["status"] == COUNTED_STATUS
            if counted and row["prefecture"] not in prefectures[row["output"]]:
                prefectures[row["output"]].append(row["prefecture"])
        return [output_document(row, names[row["id"]], prefectures[row["id"]]) for row in outputs]

    async def visible(self, user: Any, keys: Collection[str]) -> set[str]:
        """The keys of entries the user may see now (1 query)."""
        viewer: Viewer | None = user
        by_id = key_ids(keys, KIND)
        if not by_id:
            return set()
        rows = await (
            Output.select(Output.id, Output.status, Output.created_by, Output.maintainer_organization)
            .where(Output.id.is_in(sorted(by_id)))
            .run()
        )
        return {by_id[row["id"]] for row in rows if policies.can_view_output(viewer, facts_of(row))}


def output_document(row: dict[str, Any], municipalities: list[str], prefectures: list[str]) -> SearchDocument:
    """One entry's document (the name is both titles: software names are not translated)."""
    adopters = " ".join(municipalities)
    return SearchDocument(
        key=f"{KIND}:{row['id']}",
        kind=KIND,
        title_ja=row["name"],
        title_en=row["name"],
        body_ja=paragraphs(
            row["short_description_ja"],
            row["long_description_ja"],
            row["maintainer_ja"] or row["maintainer_name"],
            row["license"],
            adopters,
        ),
        body_en=paragraphs(row["short_description_en"], row["long_description_en"], row["maintainer_en"]),
        url=f"/catalog/{row['slug']}",
        date=row["published_at"] or row["updated_at"],
        facets={"licence": [row["license"]] if row["license"] else [], "prefecture": prefectures},
    )
