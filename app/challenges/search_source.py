"""Published challenges as search documents, with their answered questions folded into the body.

One document per challenge ("challenge:<id>"): title, summary, body, background, problem, outcome, themes,
the bureau's name, and every answered question with its answer (askers are never named). Q&A is folded in,
not indexed separately, so a question follows its challenge's visibility and bureau without changes of its
own: `answer_question` records a change of the challenge. Only public statuses are indexed; `visible`
asks `policies.can_view_challenge` again for every hit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from app.accounts.viewer import Viewer
from app.challenges import policies
from app.challenges.lifecycle import PUBLIC_STATUSES, ChallengeFacts, Status, public_stage
from app.challenges.tables import Challenge, ChallengeTheme, Question
from app.search.documents import SearchDocument
from app.search.keys import key_ids, paragraphs, row_ids

KIND = "challenge"
TEXT_COLUMNS = ("summary", "body", "background", "problem", "outcome")
FACT_COLUMNS = (
    Challenge.id,
    Challenge.bureau,
    Challenge.status,
    Challenge.author,
    Challenge.applications_open_at,
    Challenge.questions_close_at,
    Challenge.applications_close_at,
)


class ChallengeSource:
    """Published challenges and their answered Q&A."""

    kind = KIND

    async def documents(self, refs: Collection[str] | None) -> list[SearchDocument]:
        """The current documents (3 queries for any number of refs)."""
        query = Challenge.select(
            *Challenge.all_columns(exclude=[Challenge.eligibility]),
            Challenge.bureau.slug.as_alias("bureau_slug"),
            Challenge.bureau.name_ja.as_alias("bureau_name_ja"),
            Challenge.bureau.name_en.as_alias("bureau_name_en"),
        ).where(Challenge.status.is_in([status.value for status in PUBLIC_STATUSES]))
        if refs is not None:
            ids = row_ids(refs)
            if not ids:
                return []
            query = query.where(Challenge.id.is_in(ids))
        challenges = await query.order_by(Challenge.id).run()
        if not challenges:
            return []
        ids = [row["id"] for row in challenges]
        themes: dict[int, list[str]] = defaultdict(list)
        for row in (
            await ChallengeTheme.select(ChallengeTheme.challenge, ChallengeTheme.theme)
            .where(ChallengeTheme.challenge.is_in(ids))
            .order_by(ChallengeTheme.id)
            .run()
        ):
            themes[row["challenge"]].append(row["theme"])
        answered: dict[int, list[str]] = defaultdict(list)
        for row in (
            await Question.select(Question.challenge, Question.body, Question.answer)
            .where(Question.challenge.is_in(ids) & Question.answered_at.is_not_null())
            .order_by(Question.answered_at, Question.id)
            .run()
        ):
            answered[row["challenge"]].append(f"{row['body']}\n{row['answer']}")
        return [challenge_document(row, themes[row["id"]], answered[row["id"]]) for row in challenges]

    async def visible(self, user: Any, keys: Collection[str]) -> set[str]:
        """The keys of challenges the user may see now (1 query)."""
        viewer: Viewer | None = user
        by_id = key_ids(keys, KIND)
        if not by_id:
            return set()
        rows = await Challenge.select(*FACT_COLUMNS).where(Challenge.id.is_in(sorted(by_id))).run()
        return {
            by_id[row["id"]]
            for row in rows
            if policies.can_view_challenge(viewer, ChallengeFacts.from_row(row))
        }


def challenge_document(row: dict[str, Any], themes: list[str], answered: list[str]) -> SearchDocument:
    """One challenge's document (themes and the bureau are searchable words as well as facets)."""
    shared = [" ".join(themes), *answered]
    stage = public_stage(Status(row["status"]))
    return SearchDocument(
        key=f"{KIND}:{row['id']}",
        kind=KIND,
        title_ja=row["title_ja"],
        title_en=row["title_en"],
        body_ja=paragraphs(*(row[f"{name}_ja"] for name in TEXT_COLUMNS), row["bureau_name_ja"], *shared),
        body_en=paragraphs(*(row[f"{name}_en"] for name in TEXT_COLUMNS), row["bureau_name_en"]),
        url=f"/challenges/{row['slug']}",
        date=row["published_at"] or row["updated_at"],
        facets={
            "bureau": [row["bureau_slug"]],
            "status": [stage.value] if stage else [],
            "theme": themes,
        },
    )
