"""Submitted applications as staff-only search documents: the latest version's summary and text answers.

One document per submission ("submission:<id>") once it has a submitted version and until it is withdrawn.
Its access tags are "bureau:<owning bureau id> organization:<applicant id>", so the search page filters by
the viewer's tags and `visible` asks `policies.can_view_submission` again: the owning bureau's officials,
admins and the applicant's members find it. Judges search nothing confidential: they read applications
through judging's pages, where blind rounds hide who applied; the organization's name is in the document
only because nobody but the applicant and the bureau can ever be shown it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from piccolo.columns.combination import WhereRaw

from app.accounts.viewer import Viewer
from app.search.documents import SearchDocument
from app.search.keys import key_ids, paragraphs, row_ids
from app.submissions import policies
from app.submissions.services import FACT_COLUMNS
from app.submissions.state import FieldKind, SubmissionFacts, SubmissionStatus
from app.submissions.tables import Submission, SubmissionVersion

KIND = "submission"
# Drafts were never submitted; a withdrawn application leaves the index.
INDEXED_STATUSES = [
    status.value
    for status in (
        SubmissionStatus.SUBMITTED,
        SubmissionStatus.ADVANCED,
        SubmissionStatus.NOT_SELECTED,
        SubmissionStatus.WINNER,
    )
]
TEXT_KINDS = frozenset({FieldKind.SHORT_TEXT, FieldKind.LONG_TEXT, FieldKind.NUMBER, FieldKind.URL})
LATEST_VERSION_ONLY = WhereRaw(
    '"submission_version"."number" = (SELECT MAX(later."number") FROM "submission_version" later'
    ' WHERE later."submission" = "submission_version"."submission")'
)


class SubmissionSource:
    """Submitted applications, for the owning bureau and the applicant."""

    kind = KIND

    async def documents(self, refs: Collection[str] | None) -> list[SearchDocument]:
        """The current documents (1 query for any number of refs)."""
        submission = SubmissionVersion.submission
        query = SubmissionVersion.select(
            submission.as_alias("submission_id"),
            SubmissionVersion.content,
            SubmissionVersion.submitted_at,
            submission.receipt_number.as_alias("receipt_number"),
            submission.organization.as_alias("organization_id"),
            submission._.organization._.name_ja.as_alias("organization_ja"),
            submission._.organization._.name_en.as_alias("organization_en"),
            submission._.challenge._.bureau.as_alias("bureau_id"),
            submission._.challenge._.bureau._.slug.as_alias("bureau_slug"),
            submission._.challenge._.slug.as_alias("challenge_slug"),
            submission._.challenge._.title_ja.as_alias("challenge_ja"),
            submission._.challenge._.title_en.as_alias("challenge_en"),
        ).where(submission._.status.is_in(INDEXED_STATUSES) & LATEST_VERSION_ONLY)
        if refs is not None:
            ids = row_ids(refs)
            if not ids:
                return []
            query = query.where(submission.is_in(ids))
        rows = await query.order_by(submission).output(load_json=True).run()
        return [submission_document(row) for row in rows]

    async def visible(self, user: Any, keys: Collection[str]) -> set[str]:
        """The keys of applications the user may see now (1 query)."""
        viewer: Viewer | None = user
        by_id = key_ids(keys, KIND)
        if not by_id or viewer is None:
            return set()
        rows = await Submission.select(*FACT_COLUMNS).where(Submission.id.is_in(sorted(by_id))).run()
        return {
            by_id[row["id"]]
            for row in rows
            if policies.can_view_submission(viewer, SubmissionFacts.from_row(row))
        }


def answer_texts(content: Mapping[str, Any]) -> list[str]:
    """The text answers of a version, each after its question's label."""
    texts = []
    for answer in (content.get("answers") or {}).values():
        value = answer.get("value")
        if answer.get("kind") in TEXT_KINDS and value not in (None, ""):
            texts.append(f"{answer.get('label_ja', '')}\n{value}")
    return texts


def submission_document(row: dict[str, Any]) -> SearchDocument:
    """One application's document: receipt number and applicant as the title, the challenge in the body."""
    content: Mapping[str, Any] = row["content"] or {}
    receipt = row["receipt_number"] or ""
    return SearchDocument(
        key=f"{KIND}:{row['submission_id']}",
        kind=KIND,
        title_ja=f"{receipt} {row['organization_ja']}".strip(),
        title_en=f"{receipt} {row['organization_en']}".strip() if row["organization_en"] else "",
        body_ja=paragraphs(content.get("summary", ""), *answer_texts(content), row["challenge_ja"]),
        body_en=row["challenge_en"] or "",
        url=f"/submissions/{row['submission_id']}",
        date=row["submitted_at"],
        access=f"bureau:{row['bureau_id']} organization:{row['organization_id']}",
        facets={"bureau": [row["bureau_slug"]]},
    )
