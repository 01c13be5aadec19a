"""Published results as public search documents: the winners (and finalists, if shown) of a challenge.

One document per challenge with published results ("result:<challenge id>"), with what the public results
page shows: the challenge's title, and each selected organization's name and latest summary.
`publish_results` records a change of it. Nothing is indexed before publication (nobody may learn
anything early), and `visible` checks again that the results are published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from app.judging.feedback import LATEST_VERSION_ONLY, PUBLISHED
from app.judging.tables import ResultProposal
from app.search.documents import SearchDocument
from app.search.keys import key_ids, paragraphs, row_ids
from app.submissions.state import SubmissionStatus
from app.submissions.tables import SubmissionVersion

KIND = "result"
SHOWN = (SubmissionStatus.WINNER.value, SubmissionStatus.ADVANCED.value)


async def published_results(challenge_ids: list[int] | None) -> dict[int, dict[str, Any]]:
    """Challenge id -> its latest published proposal and the challenge's columns (1 query)."""
    challenge = ResultProposal.challenge
    query = ResultProposal.select(
        challenge.as_alias("challenge_id"),
        ResultProposal.show_finalists,
        ResultProposal.published_at,
        challenge.slug.as_alias("slug"),
        challenge.title_ja.as_alias("title_ja"),
        challenge.title_en.as_alias("title_en"),
        challenge._.bureau._.slug.as_alias("bureau_slug"),
    ).where(ResultProposal.published_at.is_not_null() & challenge.status.is_in(list(PUBLISHED)))
    if challenge_ids is not None:
        query = query.where(challenge.is_in(challenge_ids))
    rows = await query.order_by(ResultProposal.published_at).run()
    # Ordered by publication: the latest proposal of a challenge wins.
    return {row["challenge_id"]: row for row in rows}


class ResultSource:
    """Published results of challenges."""

    kind = KIND

    async def documents(self, refs: Collection[str] | None) -> list[SearchDocument]:
        """The current documents (2 queries for any number of refs)."""
        ids = None if refs is None else row_ids(refs)
        if ids == []:
            return []
        results = await published_results(ids)
        if not results:
            return []
        submission = SubmissionVersion.submission
        selected: dict[int, list[str]] = defaultdict(list)
        for row in (
            await SubmissionVersion.select(
                submission._.challenge.as_alias("challenge_id"),
                submission._.status.as_alias("status"),
                submission._.organization._.name_ja.as_alias("organization_ja"),
                submission._.organization._.name_en.as_alias("organization_en"),
                SubmissionVersion.content,
            )
            .where(
                submission._.challenge.is_in(sorted(results))
                & submission._.status.is_in(list(SHOWN))
                & LATEST_VERSION_ONLY
            )
            .order_by(submission._.receipt_number)
            .output(load_json=True)
            .run()
        ):
            result = results[row["challenge_id"]]
            if row["status"] == SubmissionStatus.WINNER.value or result["show_finalists"]:
                summary = (row["content"] or {}).get("summary", "")
                selected[row["challenge_id"]].append(
                    paragraphs(row["organization_ja"], row["organization_en"], summary)
                )
        return [result_document(row, selected[challenge_id]) for challenge_id, row in results.items()]

    async def visible(self, user: Any, keys: Collection[str]) -> set[str]:
        """The keys whose results are published (public to everyone; 1 query)."""
        by_id = key_ids(keys, KIND)
        if not by_id:
            return set()
        return {by_id[challenge_id] for challenge_id in await published_results(sorted(by_id))}


def result_document(row: dict[str, Any], selected: list[str]) -> SearchDocument:
    """One challenge's results document."""
    return SearchDocument(
        key=f"{KIND}:{row['challenge_id']}",
        kind=KIND,
        title_ja=row["title_ja"],
        title_en=row["title_en"],
        body_ja=paragraphs(*selected),
        body_en="",
        url=f"/challenges/{row['slug']}/results",
        date=row["published_at"],
        facets={"bureau": [row["bureau_slug"]]},
    )
