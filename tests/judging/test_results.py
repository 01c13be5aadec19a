"""Ranking, advancement, pitch slots, the two-person decision on results, publication, feedback, exports.

The scores are a hand-checkable example. Two criteria on 1–5, weight 1 each, so a judge's total is
12.5 · (a − 1 + b − 1) points. Judge 1 spreads widely, judges 2 and 3 narrowly and in the other order:

    totals      S1     S2     S3    S4        raw mean: S1 58.3, S3 50, S4 50, S2 41.7  → raw ranks 1, 2, 2, 4
    judge 1    100      0     50    50        z (per judge): judge 1 gives S1 +√2, S2 −√2; judges 2 and 3
    judge 2   37.5   62.5     50    50        give S1 −√2, S2 +√2; S3 and S4 are 0 everywhere
    judge 3   37.5   62.5     50    50        normalized mean: S2 +0.47, S3 0, S4 0, S1 −0.47

so with normalization S2 ranks first and S1 last (places moved +3 and −3), and S3/S4 tie either way.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import openpyxl
import pytest
from litestar import Litestar

from app.accounts.corporate_number import with_check_digit
from app.accounts.tables import Membership, Organization
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.judging import pitch
from app.judging.results_routes import CONTROLLERS
from app.judging.tables import (
    Assignment,
    AuditEvent,
    Criterion,
    CurrentScore,
    ResultProposal,
    Round,
    Scorecard,
    ScoreEvent,
)
from app.notifications.tables import Notification
from app.settings import Settings
from app.submissions.tables import Submission, SubmissionVersion
from app.web.templating import render_string
from tests.challenges.factories import app_with
from tests.submissions.factories import Contest, make_contest
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_user

SLUG = "smart-city"
PRIVATE = "private, no-store"
# (criterion A, criterion B) per judge and submission: see the module docstring.
SCORES = {
    1: {1: (5, 5), 2: (1, 1), 3: (3, 3), 4: (3, 3)},
    2: {1: (2, 3), 2: (3, 4), 3: (3, 3), 4: (3, 3)},
    3: {1: (2, 3), 2: (3, 4), 3: (3, 3), 4: (3, 3)},
}
SHARED_COMMENT = "課題の理解が明確です。"
PRIVATE_COMMENT = "内部メモ：価格が高すぎる"


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the results controllers registered."""
    return app_with(settings, CONTROLLERS)


@dataclass(frozen=True)
class Judged:
    """A challenge in judging: four applications, one scored round, officials, judges and outsiders."""

    contest: Contest
    official_b: Person
    other_official: Person
    judges: tuple[Person, ...]
    startups: tuple[Person, ...]  # the member of each application's organization, S1..S4
    submissions: tuple[int, ...]
    round_id: int
    criteria: tuple[int, int]


async def make_application(contest: Contest, number: int, founder: Person | None) -> tuple[Person, int]:
    """S<number>: an organization (the contest's own for S1) with a submitted application of two versions."""
    now = utcnow()
    if founder is None:
        person = await make_user(f"ceo{number}@startup{number}.example")
        rows = await Organization.insert(
            Organization(
                name_ja=f"応募企業{number}",
                name_en=f"Applicant {number}",
                corporate_number=with_check_digit(f"0204012345{number:02d}"),
                website="",
                profile="",
                created_at=now,
            )
        ).run()
        organization_id = int(rows[0]["id"])
        await Membership.insert(
            Membership(user=person.id, organization=organization_id, role="owner", joined_at=now)
        ).run()
    else:
        person, organization_id = founder, contest.organization_id
    rows = await Submission.insert(
        Submission(
            challenge=contest.challenge_id,
            organization=organization_id,
            status="submitted",
            receipt_number=f"KY-2026-0001-{number:04d}",
            summary=f"下書き{number}",
            created_by=person.id,
            created_at=now,
            updated_at=now,
            submitted_at=now,
        )
    ).run()
    submission_id = int(rows[0]["id"])
    for version in (1, 2):
        content = {"summary": f"提案{number}の概要 v{version}", "answers": {}, "files": []}
        await SubmissionVersion.insert(
            SubmissionVersion(
                submission=submission_id,
                number=version,
                content=json.dumps(content, ensure_ascii=False),
                submitted_by=person.id,
                submitted_at=now,
            )
        ).run()
    return person, submission_id


async def make_round(challenge_id: int, *, kind: str = "document", position: int = 1) -> int:
    """A round ranked by normalized scores whose rule advances the top 1."""
    rows = await Round.insert(
        Round(
            challenge=challenge_id,
            position=position,
            kind=kind,
            name_ja="書類審査" if kind == "document" else "ピッチ審査",
            name_en="Document screening" if kind == "document" else "Pitch",
            normalize=True,
            advancement_rule="top_n",
            advancement_value=1,
            created_at=utcnow(),
        )
    ).run()
    return int(rows[0]["id"])


async def score(
    round_id: int,
    submission_id: int,
    judge: Person,
    criteria: tuple[int, int],
    values: tuple[int, int],
    **card: object,
) -> None:
    """A scorecard (final unless told) with its events and current scores."""
    now = utcnow()
    final = card.pop("state", "final") == "final"
    rows = await Scorecard.insert(
        Scorecard(
            round=round_id,
            submission=submission_id,
            judge=judge.id,
            version=2,
            state="final" if final else "open",
            comment=str(card.get("comment", "")),
            comment_shareable=bool(card.get("shareable", False)),
            finalized_at=now if final else None,
        )
    ).run()
    scorecard_id = int(rows[0]["id"])
    for version, (criterion_id, value) in enumerate(zip(criteria, values, strict=True), start=1):
        await ScoreEvent.insert(
            ScoreEvent(
                scorecard=scorecard_id,
                criterion=criterion_id,
                old_value=None,
                new_value=value,
                version=version,
                judge=judge.id,
                happened_at=now,
            )
        ).run()
        await CurrentScore.insert(
            CurrentScore(scorecard=scorecard_id, criterion=criterion_id, value=value, updated_at=now)
        ).run()


@pytest.fixture
async def judged(client: WebClient) -> Judged:
    """The example of the module docstring, with the challenge in judging."""
    contest = await make_contest(close_in=timedelta(days=1))
    await Challenge.update({Challenge.status: "judging"}).where(Challenge.id == contest.challenge_id).run()
    official_b = await make_user("official-b@city.example.jp", role="official", bureau_id=contest.bureau_id)
    other_official = await make_user(
        "official@other.example.jp", role="official", bureau_id=await make_bureau("other")
    )
    startups, submissions = [], []
    for number in (1, 2, 3, 4):
        person, submission_id = await make_application(
            contest, number, contest.founder if number == 1 else None
        )
        startups.append(person)
        submissions.append(submission_id)
    round_id = await make_round(contest.challenge_id)
    criteria = []
    for position, (name_ja, name_en) in enumerate([("新規性", "Novelty"), ("実現性", "Feasibility")]):
        rows = await Criterion.insert(
            Criterion(
                round=round_id,
                position=position,
                name_ja=name_ja,
                name_en=name_en,
                description_ja="",
                description_en="",
                weight=1.0,
                scale_min=1,
                scale_max=5,
            )
        ).run()
        criteria.append(int(rows[0]["id"]))
    judges = tuple([await make_user(f"judge-{n}@jury.example") for n in (1, 2, 3)])
    pair = (criteria[0], criteria[1])
    for judge_number, judge in enumerate(judges, start=1):
        for number, submission_id in enumerate(submissions, start=1):
            await Assignment.insert(
                Assignment(round=round_id, submission=submission_id, judge=judge.id, assigned_at=utcnow())
            ).run()
            comment = {(1, 1): SHARED_COMMENT, (2, 1): PRIVATE_COMMENT}.get((judge_number, number), "")
            await score(
                round_id, submission_id, judge, pair, SCORES[judge_number][number],
                comment=comment, shareable=comment == SHARED_COMMENT,
            )  # fmt: skip
    # A fourth judge's open scorecard: it must not count until it is final.
    late = await make_user("judge-late@jury.example")
    await score(round_id, submissions[0], late, pair, (1, 1), state="open")
    return Judged(
        contest, official_b, other_official, judges, tuple(startups), tuple(submissions), round_id, pair
    )


def ranked(html: str) -> dict[int, dict[str, str]]:
    """Per submission id, the data attributes of its ranking row."""
    rows = {}
    for match in re.finditer(r'<tr data-submission="(\d+)"([^>]*)>', html):
        rows[int(match.group(1))] = dict(re.findall(r'data-([\w-]+)="([^"]*)"', match.group(2)))
    return rows


async def sign_in(client: WebClient, person: Person) -> None:
    """Sign in as `person` (signing out whoever was signed in)."""
    await client.sign_out()
    await client.sign_in(person.email, person.password)


async def statuses(ids: tuple[int, ...]) -> list[str]:
    """The statuses of these submissions, in this order."""
    rows = (
        await Submission.select(Submission.id, Submission.status).where(Submission.id.is_in(list(ids))).run()
    )
    by_id = {row["id"]: row["status"] for row in rows}
    return [by_id[i] for i in ids]


async def audit_actions() -> list[str]:
    """The audit trail's actions in order."""
    rows = await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.sequence).run()
    return [row["action"] for row in rows]


async def test_the_ranking_shows_raw_and_normalized_side_by_side(client: WebClient, judged: Judged) -> None:
    """The hand-checked example: ranks, places moved, ties, final count, agreement, charts."""
    await sign_in(client, judged.contest.official)
    page = await client.get(f"/challenges/{SLUG}/rounds/{judged.round_id}/ranking")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == PRIVATE
    s1, s2, s3, s4 = judged.submissions
    rows = ranked(page.text)
    assert {sid: (row["raw-rank"], row["normalized-rank"], row["moved"]) for sid, row in rows.items()} == {
        s1: ("1", "4", "-3"), s2: ("4", "1", "3"), s3: ("2", "2", "0"), s4: ("2", "2", "0"),
    }  # fmt: skip
    assert list(rows) == [s2, s3, s4, s1]  # the official (normalized) order
    assert rows[s1]["raw-mean"] == "58.33"
    assert rows[s2]["raw-mean"] == "41.67"
    assert rows[s2]["normalized-mean"] == "0.47"
    assert rows[s1]["normalized-mean"] == "-0.47"
    assert page.text.count('title="Tie"') + page.text.count('title="同順位"') == 2
    assert 'data-final="12"' in page.text  # the late judge's open scorecard does not count
    assert "0.11" in page.text  # Kendall's W of the example
    assert page.text.count("<svg") == 2
    assert "judge-1" in page.text
    checked = re.findall(r'name="advance" value="(\d+)" checked', page.text)
    assert checked == [str(s2)]  # top 1 of the normalized ranking


async def test_advancement_results_and_feedback_end_to_end(client: WebClient, judged: Judged) -> None:
    """Advance (adjusted, with a reason), propose, refuse self-approval, approve, publish, read it all."""
    s1, s2, s3, _s4 = judged.submissions
    official = judged.contest.official
    ranking = f"/challenges/{SLUG}/rounds/{judged.round_id}/ranking"
    await sign_in(client, official)

    refused = await client.post(ranking, {"advance": [str(s2), str(s3)]})
    assert refused.status_code == 422
    assert "reason" in refused.text or "理由" in refused.text
    assert await statuses(judged.submissions) == ["submitted"] * 4
    done = await client.post(
        ranking, {"advance": [str(s2), str(s3)], "reason": "S3 is strong on feasibility"}
    )
    assert done.status_code == 303, done.text
    assert await statuses(judged.submissions) == ["not_selected", "advanced", "advanced", "not_selected"]
    notes = (
        await Notification.select(Notification.user, Notification.context)
        .where(Notification.kind == "application_advanced")
        .output(load_json=True)
        .run()
    )
    advanced_by_user = {row["user"]: row["context"]["advanced"] for row in notes}
    startups = judged.startups
    assert advanced_by_user[startups[1].id] is True
    assert advanced_by_user[startups[2].id] is True
    assert advanced_by_user[startups[3].id] is False
    assert advanced_by_user[judged.contest.colleague.id] is False
    assert (await Round.select(Round.advanced_at).where(Round.id == judged.round_id).first().run())[
        "advanced_at"
    ]
    again = await client.post(ranking, {"advance": [str(s2)]})
    assert again.status_code == 422  # confirmed once; nothing changes

    # Pitch day: a slot for a finalist, its invitation, and the applicant's fragment.
    pitch_round = await make_round(judged.contest.challenge_id, kind="pitch", position=2)
    slots = f"/challenges/{SLUG}/rounds/{pitch_round}/slots"
    bad = await client.post(
        slots, {"submission": str(s2), "starts_at": "2026-12-10T10:00", "ends_at": "2026-12-10T09:00"}
    )
    assert bad.status_code == 422
    saved = await client.post(
        slots,
        {"submission": str(s2), "starts_at": "2026-12-10T10:00", "ends_at": "2026-12-10T10:20",
         "place": "都庁第一本庁舎 7階", "meeting_url": ""},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    (slot,) = await pitch.slots_for_submission(s2)
    assert slot["starts_at"].isoformat() == "2026-12-10T01:00:00+00:00"
    fragment = render_string("judging/_pitch_slot.html", {"pitch_slots": [slot]})
    assert "都庁第一本庁舎 7階" in fragment
    assert f"/pitch-slots/{slot['id']}.ics" in fragment

    await sign_in(client, startups[1])
    ics = await client.get(f"/pitch-slots/{slot['id']}.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "DTSTART:20261210T010000Z" in ics.text
    assert "都庁第一本庁舎 7階" in ics.text
    await sign_in(client, startups[0])
    assert (await client.get(f"/pitch-slots/{slot['id']}.ics")).status_code == 404

    # Before publication nothing is public.
    for url in (
        f"/challenges/{SLUG}/results",
        f"/challenges/{SLUG}/review-summary",
        f"/submissions/{s1}/feedback",
    ):
        assert (await client.get(url)).status_code == 404, url

    # Official A proposes; A may not approve; publishing before approval is refused; B approves.
    proposal_url = f"/challenges/{SLUG}/results/proposal"
    await sign_in(client, official)
    proposed = await client.post(
        proposal_url, {f"decision-{s2}": "winner", f"decision-{s3}": "advanced", "show_finalists": "1"}
    )
    assert proposed.status_code == 303, proposed.text
    proposal_id = (await ResultProposal.select(ResultProposal.id).first().run())["id"]
    trail = await audit_actions()
    own = await client.post(f"{proposal_url}/{proposal_id}/approve")
    assert own.status_code == 403
    assert "another official" in own.text or "別の" in own.text or "他の" in own.text
    early = await client.post(f"{proposal_url}/{proposal_id}/publish")
    assert early.status_code == 422
    assert await audit_actions() == trail
    row = await ResultProposal.select().where(ResultProposal.id == proposal_id).first().run()
    assert row["approved_at"] is None
    assert row["published_at"] is None
    await sign_in(client, judged.official_b)
    assert (await client.post(f"{proposal_url}/{proposal_id}/approve")).status_code == 303
    published = await client.post(f"{proposal_url}/{proposal_id}/publish")
    assert published.status_code == 303, published.text

    assert await statuses(judged.submissions) == ["not_selected", "winner", "advanced", "not_selected"]
    after = await client.get(proposal_url)
    assert f'data-submission="{s2}" data-decision="winner"' in after.text
    assert f"{proposal_url}/{proposal_id}/publish" not in after.text
    challenge = (
        await Challenge.select(Challenge.status)
        .where(Challenge.id == judged.contest.challenge_id)
        .first()
        .run()
    )
    assert challenge["status"] == "results_published"
    assert (await audit_actions())[-4:] == [
        "pitch.slot_saved",
        "results.proposed",
        "results.approved",
        "results.published",
    ]
    assert "round.advanced" in await audit_actions()
    told = (
        await Notification.select(Notification.user, Notification.context)
        .where(Notification.kind == "results_published")
        .output(load_json=True)
        .run()
    )
    decisions = {row["user"]: row["context"]["decision"] for row in told}
    assert decisions == {
        official_id: decision
        for official_id, decision in [
            (startups[0].id, "not_selected"), (judged.contest.colleague.id, "not_selected"),
            (startups[1].id, "winner"), (startups[2].id, "advanced"), (startups[3].id, "not_selected"),
        ]
    }  # fmt: skip

    # The public results: winners and (as chosen) finalists with their latest summaries.
    await client.sign_out()
    results = await client.get(f"/challenges/{SLUG}/results")
    assert results.status_code == 200
    assert f'data-winner="{s2}"' in results.text
    assert "提案2の概要 v2" in results.text
    assert "提案2の概要 v1" not in results.text
    assert "下書き2" not in results.text
    assert f'data-finalist="{s3}"' in results.text
    assert "提案3の概要 v2" in results.text
    assert "提案1の概要" not in results.text
    assert "提案4の概要" not in results.text

    summary = await client.get(f"/challenges/{SLUG}/review-summary")
    assert summary.status_code == 200
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', summary.text))
    assert counts["applications"] == "4"
    assert counts["winners"] == "1"
    assert "judge-" not in summary.text
    assert "58.3" not in summary.text

    # Each applicant's own feedback: averages and shared comments only.
    await sign_in(client, judged.contest.founder)
    own_feedback = await client.get(f"/submissions/{s1}/feedback")
    assert own_feedback.status_code == 200
    assert own_feedback.headers["cache-control"] == PRIVATE
    means = re.findall(r"<td data-mean>([^<]+)</td>", own_feedback.text)
    assert means == ["3.00", "3.67"]  # (5+2+2)/3 and (5+3+3)/3
    assert SHARED_COMMENT in own_feedback.text
    assert PRIVATE_COMMENT not in own_feedback.text
    assert "judge-" not in own_feedback.text
    assert "5.00" not in own_feedback.text
    assert (await client.get(f"/submissions/{s2}/feedback")).status_code == 404
    await sign_in(client, official)
    assert (await client.get(f"/submissions/{s1}/feedback")).status_code == 404


async def test_the_review_summary_counts_rounds_without_personal_scores(
    client: WebClient, judged: Judged
) -> None:
    """Applications, per-round assigned/scored counts, rubric weights and the method, once published."""
    await (
        Challenge.update({Challenge.status: "results_published"})
        .where(Challenge.id == judged.contest.challenge_id)
        .run()
    )
    page = await client.get(f"/challenges/{SLUG}/review-summary")
    assert page.status_code == 200
    counts = re.findall(r'data-count="(\w+)">(\d+)<', page.text)
    assert counts == [
        ("applications", "4"), ("winners", "0"), ("assigned", "4"), ("judges", "3"), ("scored", "4"),
        ("scorecards", "12"),
    ]  # fmt: skip
    assert "新規性" in page.text
    assert "50%" in page.text
    assert "judge-" not in page.text
    assert "58.3" not in page.text
    assert SHARED_COMMENT not in page.text


async def test_score_exports_parse_back(client: WebClient, judged: Judged) -> None:
    """CSV (BOM, every scorecard, open ones marked) and XLSX hold the same cells."""
    await sign_in(client, judged.contest.official)
    base = f"/challenges/{SLUG}/rounds/{judged.round_id}"
    exported = await client.get(f"{base}/scores.csv")
    assert exported.status_code == 200
    assert exported.headers["cache-control"] == PRIVATE
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert len(body) == 13
    assert any(cell.startswith("新規性") for cell in header)
    assert any(cell.startswith("実現性") for cell in header)
    judge_one = next(row for row in body if row[0] == "KY-2026-0001-0001" and row[2] == "judge-1")
    assert judge_one[6:9] == ["5", "5", "100.00"]
    assert SHARED_COMMENT in judge_one
    workbook = openpyxl.load_workbook(io.BytesIO((await client.get(f"{base}/scores.xlsx")).content))
    cells = [[cell or "" for cell in row] for row in workbook.active.iter_rows(values_only=True)]
    assert cells == rows


@pytest.mark.parametrize("who", ["startup", "judge", "other_official", "official_b"])
async def test_outsiders_get_404_on_official_pages(client: WebClient, judged: Judged, who: str) -> None:
    """Startups, judges and another bureau's officials learn nothing; a bureau colleague sees it all."""
    person = {
        "startup": judged.contest.founder,
        "judge": judged.judges[0],
        "other_official": judged.other_official,
        "official_b": judged.official_b,
    }[who]
    await sign_in(client, person)
    pitch_round = await make_round(judged.contest.challenge_id, kind="pitch", position=2)
    base = f"/challenges/{SLUG}/rounds/{judged.round_id}"
    urls = [
        f"{base}/ranking", f"{base}/scores.csv", f"{base}/scores.xlsx",
        f"/challenges/{SLUG}/rounds/{pitch_round}/slots", f"/challenges/{SLUG}/results/proposal",
    ]  # fmt: skip
    for url in urls:
        expected = 200 if who == "official_b" else 404
        assert (await client.get(url)).status_code == expected, url
    if who != "official_b":
        posted = await client.post(f"{base}/ranking", {"advance": str(judged.submissions[1])})
        assert posted.status_code == 404
        assert (await client.post(f"/challenges/{SLUG}/results/proposal", {})).status_code == 404
        assert await statuses(judged.submissions) == ["submitted"] * 4


async def test_a_round_of_another_challenge_is_not_found(client: WebClient, judged: Judged) -> None:
    """The slug and the round must match."""
    await sign_in(client, judged.contest.official)
    assert (await client.get(f"/challenges/other-slug/rounds/{judged.round_id}/ranking")).status_code == 404
    assert (await client.get("/pitch-slots/999.ics")).status_code == 404
    assert (await client.get("/pitch-slots/nothing")).status_code == 404
