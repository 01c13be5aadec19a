"""Judges: conflicts first, blind review without leaks, scores as append-only events, finalize and unlock."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from app.accounts.tables import Membership, Organization
from app.accounts.viewer import load_viewer
from app.clock import utcnow
from app.judging import scorecards
from app.judging.scorecard_routes import CONTROLLERS
from app.judging.tables import (
    Assignment,
    AuditEvent,
    ConflictDeclaration,
    Criterion,
    CurrentScore,
    Round,
    Scorecard,
    ScoreEvent,
)
from app.settings import Settings
from app.submissions.files import upload_folder
from app.submissions.tables import Submission, SubmissionFile, SubmissionVersion
from tests.challenges.factories import app_with
from tests.submissions.factories import Contest, add_field, make_contest, pdf_bytes
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_user
from tests.support.queries import assert_query_budget, count_queries

SUMMARY = "防災情報を届ける提案の本文"
LEVELS = json.dumps({"1": {"ja": "不十分", "en": "Poor"}, "5": {"ja": "非常に優れている", "en": "Excellent"}})


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the scorecard controllers registered (until asgi.py does)."""
    return app_with(settings, CONTROLLERS)


@dataclass
class Panel:
    """A round with two criteria, one submitted application, two assigned judges and the people around."""

    contest: Contest
    round_id: int
    criteria: list[int]
    other_criterion: int
    submission_id: int
    file_id: int
    judge: Person
    judge2: Person
    base: str


async def make_round(challenge_id: int, now: datetime, **columns: Any) -> int:
    """A document round open for scoring around `now`."""
    values: dict[str, Any] = {
        "challenge": challenge_id, "position": 1, "kind": "document", "name_ja": "書類審査",
        "name_en": "Document screening", "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=1), "created_at": now, **columns,
    }  # fmt: skip
    rows = await Round.insert(Round(**values)).run()
    return int(rows[0]["id"])


async def make_criterion(round_id: int, position: int) -> int:
    """A 1..5 criterion with level descriptors."""
    rows = await Criterion.insert(
        Criterion(
            round=round_id, position=position, name_ja=f"新規性{position}", name_en=f"Novelty {position}",
            description_ja="課題への新しい解き方か", description_en="", weight=1.0, scale_min=1, scale_max=5,
            levels=LEVELS,
        )
    ).run()  # fmt: skip
    return int(rows[0]["id"])


async def submitted(
    contest: Contest, settings: Settings, *, receipt: str, extra: dict[str, Any]
) -> tuple[int, int]:
    """A submitted application with a version and a PDF; returns (submission id, file id)."""
    now = utcnow()
    rows = await Submission.insert(
        Submission(
            challenge=contest.challenge_id, organization=contest.organization_id, status="submitted",
            active_slot=None, receipt_number=receipt, summary=SUMMARY, created_by=contest.founder.id,
            created_at=now, updated_at=now, submitted_at=now, withdraw_reason="",
        )
    ).run()  # fmt: skip
    submission_id = int(rows[0]["id"])
    stored_name = secrets.token_hex(16)
    folder = upload_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(pdf_bytes(1))
    display_name = extra.get("display_name", "pitch deck.pdf")
    files = await SubmissionFile.insert(
        SubmissionFile(
            submission=submission_id, field=contest.fields["deck"], stored_name=stored_name,
            display_name=display_name, kind="pdf", size_bytes=100, pages=1, sha256="0" * 64,
            uploaded_by=contest.founder.id, uploaded_at=now,
        )
    ).run()  # fmt: skip
    answers = {
        str(contest.fields["pitch"]): {"label_ja": "提案内容", "kind": "long_text", "value": "防災アプリ"},
        str(contest.fields["office"]): {"label_ja": "所在地", "kind": "single_choice", "value": "0"},
        **extra.get("answers", {}),
    }
    content = {
        "summary": extra.get("summary", SUMMARY),
        "answers": answers,
        "files": [{"field": contest.fields["deck"], "display_name": display_name, "sha256": "0" * 64,
                   "size_bytes": 100, "pages": 1, "stored_name": stored_name}],
        "team": extra.get(
            "team", [{"user": contest.founder.id, "display_name": "founder", "email": contest.founder.email}]
        ),
        "consents": [],
    }  # fmt: skip
    await SubmissionVersion.insert(
        SubmissionVersion(
            submission=submission_id, number=1, content=json.dumps(content, ensure_ascii=False),
            submitted_by=contest.founder.id, submitted_at=now,
        )
    ).run()  # fmt: skip
    return submission_id, int(files[0]["id"])


async def assign(round_id: int, submission_id: int, judge_id: int) -> int:
    """An active assignment."""
    rows = await Assignment.insert(
        Assignment(round=round_id, submission=submission_id, judge=judge_id, assigned_at=utcnow())
    ).run()
    return int(rows[0]["id"])


async def make_panel(
    settings: Settings, *, blind: bool = False, extra: dict[str, Any] | None = None
) -> Panel:
    """A contest, its open round, one submission assigned to two judges."""
    contest = await make_contest()
    now = utcnow()
    round_id = await make_round(contest.challenge_id, now, blind=blind, **(extra or {}).get("round", {}))
    criteria = [await make_criterion(round_id, 1), await make_criterion(round_id, 2)]
    other_round = await make_round(contest.challenge_id, now, position=2, kind="pitch")
    other_criterion = await make_criterion(other_round, 1)
    submission_id, file_id = await submitted(
        contest, settings, receipt="KY-2026-0001-0001", extra=extra or {}
    )
    judge = await make_user("judge1@review.example.jp", role="judge")
    judge2 = await make_user("judge2@review.example.jp", role="judge")
    for person in (judge, judge2):
        await assign(round_id, submission_id, person.id)
    base = f"/judging/rounds/{round_id}/submissions/{submission_id}"
    return Panel(contest, round_id, criteria, other_criterion, submission_id, file_id, judge, judge2, base)


@pytest.fixture
async def panel(client: WebClient, settings: Settings) -> Panel:
    """An ordinary (not blind) panel on a fresh database."""
    return await make_panel(settings)


async def declare_none(client: WebClient, panel: Panel, judge: Person | None = None) -> None:
    """Sign in as the judge and declare no conflict."""
    person = judge or panel.judge
    await client.sign_in(person.email, person.password)
    response = await client.post(f"{panel.base}/conflict", {"answer": "none"})
    assert response.status_code == 303, response.text


async def score(client: WebClient, panel: Panel, criterion: int, value: str, version: int) -> Any:
    """Save one criterion as the page's HTMX does."""
    return await client.post(
        f"{panel.base}/scores/{criterion}", {f"score-{criterion}": value, "version": str(version)}, htmx=True
    )


async def counts() -> tuple[int, int, int]:
    """(score events, current scores, audit events)."""
    return await ScoreEvent.count().run(), await CurrentScore.count().run(), await AuditEvent.count().run()


async def replayed(scorecard_id: int) -> dict[int, float | None]:
    """The current scores derived from the events alone (the last event of each criterion wins)."""
    events = (
        await ScoreEvent.select()
        .where(ScoreEvent.scorecard == scorecard_id)
        .order_by(ScoreEvent.version)
        .run()
    )
    values: dict[int, float | None] = {}
    for event in events:
        assert event["old_value"] == values.get(event["criterion"])  # each event starts where the last ended
        values[event["criterion"]] = event["new_value"]
    return values


async def cached(scorecard_id: int) -> dict[int, float | None]:
    """The CurrentScore cache of a scorecard."""
    rows = await CurrentScore.select().where(CurrentScore.scorecard == scorecard_id).run()
    return {row["criterion"]: row["value"] for row in rows}


async def test_the_submission_is_hidden_until_no_conflict_is_declared(
    client: WebClient, panel: Panel
) -> None:
    """The question shows only the receipt number and the organization; answers come after 'no conflict'."""
    await client.sign_in(panel.judge.email, panel.judge.password)
    question = await client.get(panel.base)
    assert question.status_code == 200
    assert question.headers["cache-control"] == "private, no-store"
    assert "KY-2026-0001-0001" in question.text
    assert "株式会社テスト" in question.text
    assert SUMMARY not in question.text
    assert "防災アプリ" not in question.text
    assert (await client.get(f"{panel.base}/files/{panel.file_id}")).status_code == 404
    assert (await score(client, panel, panel.criteria[0], "3", 0)).status_code == 404
    unanswered = await client.post(f"{panel.base}/conflict", {})
    assert unanswered.status_code == 422
    assert await ConflictDeclaration.count().run() == 0
    assert (await client.post(f"{panel.base}/conflict", {"answer": "none"})).status_code == 303
    page = await client.get(panel.base)
    assert SUMMARY in page.text
    assert "防災アプリ" in page.text
    assert "東京都内" in page.text
    assert "非常に優れている" in page.text
    assert "/static/js/scorecard.js" in page.text
    download = await client.get(f"{panel.base}/files/{panel.file_id}")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["cache-control"] == "private, no-store"
    assert download.headers["x-content-type-options"] == "nosniff"
    actions = await AuditEvent.select(AuditEvent.action).run()
    assert [row["action"] for row in actions] == ["conflict.declared"]


async def test_a_declared_conflict_closes_the_submission_for_good(client: WebClient, panel: Panel) -> None:
    """A reason is required; afterwards the scorecard is 404, even if a later row says 'no conflict'."""
    await client.sign_in(panel.judge.email, panel.judge.password)
    no_reason = await client.post(f"{panel.base}/conflict", {"answer": "conflict", "reason": " "})
    assert no_reason.status_code == 422
    assert await ConflictDeclaration.count().run() == 0
    declared = await client.post(f"{panel.base}/conflict", {"answer": "conflict", "reason": "元同僚です"})
    assert declared.status_code == 303
    assert declared.headers["location"] == "/judging"
    await ConflictDeclaration.insert(
        ConflictDeclaration(
            submission=panel.submission_id, judge=panel.judge.id, conflicted=False, reason="",
            source="declared", declared_at=utcnow(),
        )
    ).run()  # fmt: skip
    for path in (panel.base, f"{panel.base}/files/{panel.file_id}"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert SUMMARY not in response.text
    assert (await client.post(f"{panel.base}/conflict", {"answer": "none"})).status_code == 404
    assert (await score(client, panel, panel.criteria[0], "3", 0)).status_code == 404
    assert await ScoreEvent.count().run() == 0
    dashboard = await client.get("/judging")
    assert (
        "Conflict of interest" in dashboard.text
        or "利益相反" in dashboard.text
        or dashboard.status_code == 200
    )


async def test_a_member_of_the_applicant_is_flagged_automatically(client: WebClient, panel: Panel) -> None:
    """Membership in the applicant organization is a conflict, recorded as 'auto' when first checked."""
    await Membership.insert(
        Membership(
            user=panel.judge.id, organization=panel.contest.organization_id, role="member", joined_at=utcnow()
        )
    ).run()
    await client.sign_in(panel.judge.email, panel.judge.password)
    assert (await client.get(panel.base)).status_code == 404
    assert (await client.post(f"{panel.base}/conflict", {"answer": "none"})).status_code == 404
    rows = await ConflictDeclaration.select().run()
    assert [(row["source"], row["conflicted"], row["reason"]) for row in rows] == [
        ("auto", True, "member_of_applicant")
    ]
    assert await AuditEvent.count().where(AuditEvent.action == "conflict.flagged").run() == 1
    dashboard = await client.get("/judging")
    assert f'{panel.base}"' not in dashboard.text  # no link to a conflicted submission


async def test_scores_are_events_and_the_current_score_is_their_replay(
    client: WebClient, panel: Panel
) -> None:
    """Each save appends an event (old → new), bumps the version and locks the rubric, all audited."""
    await declare_none(client, panel)
    first = await score(client, panel, panel.criteria[0], "3", 0)
    assert first.status_code == 200, first.text
    assert 'id="scorecard-version"' in first.text
    assert 'value="1"' in first.text
    assert (await score(client, panel, panel.criteria[1], "5", 1)).status_code == 200
    assert (await score(client, panel, panel.criteria[0], "4", 2)).status_code == 200
    card = await Scorecard.select().first().run()
    assert card["version"] == 3
    assert card["judge"] == panel.judge.id
    assert (
        await replayed(card["id"])
        == await cached(card["id"])
        == {panel.criteria[0]: 4.0, panel.criteria[1]: 5.0}
    )
    assert await ScoreEvent.count().run() == 3
    assert (await Round.select(Round.rubric_locked_at).where(Round.id == panel.round_id).first().run())[
        "rubric_locked_at"
    ] is not None
    assert await AuditEvent.count().where(AuditEvent.action == "score.recorded").run() == 3
    page = await client.get(panel.base)
    assert (
        f'id="criterion-{panel.criteria[0]}-4" name="score-{panel.criteria[0]}" value="4" checked'
        in page.text
    )


async def test_a_stale_save_gets_409_and_writes_nothing(client: WebClient, panel: Panel) -> None:
    """A save based on an old version (another tab) is refused beside its criterion."""
    await declare_none(client, panel)
    assert (await score(client, panel, panel.criteria[0], "3", 0)).status_code == 200
    before = await counts()
    stale = await score(client, panel, panel.criteria[1], "2", 0)
    assert stale.status_code == 409
    assert stale.headers["hx-retarget"] == f"#criterion-{panel.criteria[1]}-state"
    assert await counts() == before


@pytest.mark.parametrize(("value", "status"), [("9", 422), ("0", 422), ("abc", 422), ("3.5", 422), ("", 422)])
async def test_a_value_off_the_scale_is_refused(
    client: WebClient, panel: Panel, value: str, status: int
) -> None:
    """Out of the scale or not a whole number: 422 with the scale named, nothing written."""
    await declare_none(client, panel)
    before = await counts()
    response = await score(client, panel, panel.criteria[0], value, 0)
    assert response.status_code == status
    assert "1" in response.text
    assert "5" in response.text
    assert await counts() == before
    assert await Scorecard.count().run() == 0


async def test_a_criterion_of_another_round_is_404(client: WebClient, panel: Panel) -> None:
    """Scoring the same submission against another round's rubric: 404, nothing written."""
    await declare_none(client, panel)
    before = await counts()
    assert (await score(client, panel, panel.other_criterion, "3", 0)).status_code == 404
    assert (await score(client, panel, 999_999, "3", 0)).status_code == 404
    assert await counts() == before


@pytest.mark.parametrize("when", ["before", "after"])
async def test_scoring_outside_the_window_is_refused(client: WebClient, panel: Panel, when: str) -> None:
    """Before the window opens or once it closed (end exclusive): 422 with a message, nothing written."""
    await declare_none(client, panel)
    now = utcnow()
    window = (
        {Round.opens_at: now + timedelta(hours=1)}
        if when == "before"
        else {Round.closes_at: now - timedelta(seconds=1)}
    )
    await Round.update(window).where(Round.id == panel.round_id).run()
    before = await counts()
    refused = await score(client, panel, panel.criteria[0], "3", 0)
    assert refused.status_code == 422
    assert "Scoring" in refused.text or "採点" in refused.text
    assert (await client.post(f"{panel.base}/comment", {"comment": "x"}, htmx=True)).status_code == 422
    assert await counts() == before
    page = await client.get(panel.base)
    assert page.status_code == 200
    assert " disabled" in page.text


async def test_finalize_needs_every_score_and_unlock_needs_the_official(
    client: WebClient, other_client: WebClient, panel: Panel
) -> None:
    """Gaps are named and nothing is finalized; final locks scoring; only the official unlocks, audited."""
    await Round.update({Round.comments_required: True}).where(Round.id == panel.round_id).run()
    await declare_none(client, panel)
    assert (await score(client, panel, panel.criteria[0], "3", 0)).status_code == 200
    gaps = await client.post(f"{panel.base}/finalize", {"comment": ""})
    assert gaps.status_code == 422
    assert f'id="criterion-{panel.criteria[1]}-error"' in gaps.text
    assert 'id="comment-error"' in gaps.text
    assert (await Scorecard.select(Scorecard.state).first().run())["state"] == "open"
    assert (await score(client, panel, panel.criteria[1], "4", 1)).status_code == 200
    done = await client.post(f"{panel.base}/finalize", {"comment": "実現性が高い", "comment_shareable": "1"})
    assert done.status_code == 303, done.text
    card = await Scorecard.select().first().run()
    assert (card["state"], card["comment"], card["comment_shareable"]) == ("final", "実現性が高い", True)
    assert (await score(client, panel, panel.criteria[1], "5", 2)).status_code == 422
    unlock = {"judge": str(panel.judge.id)}
    assert (await client.post(f"{panel.base}/unlock", unlock)).status_code == 404  # the judge cannot
    port = await make_user("port@city.example.jp", role="official", bureau_id=await make_bureau("port"))
    await other_client.sign_in(port.email, port.password)
    assert (await other_client.post(f"{panel.base}/unlock", unlock)).status_code == 404
    await other_client.sign_out()
    await other_client.sign_in(panel.contest.official.email, panel.contest.official.password)
    reopened = await other_client.post(f"{panel.base}/unlock", {**unlock, "next": "/bureau/challenges"})
    assert reopened.status_code == 303
    card = await Scorecard.select().first().run()
    assert card["state"] == "open"
    assert card["unlocked_by"] == panel.contest.official.id
    trail = [
        row["action"]
        for row in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.sequence).run()
    ]
    assert trail[-2:] == ["scorecard.finalized", "scorecard.unlocked"]
    assert (await score(client, panel, panel.criteria[1], "5", 2)).status_code == 200


async def test_a_judge_never_sees_another_judges_scores(
    client: WebClient, other_client: WebClient, panel: Panel
) -> None:
    """Judge 2's scores and comment appear on none of judge 1's pages or fragments."""
    await declare_none(other_client, panel, panel.judge2)
    assert (await score(other_client, panel, panel.criteria[0], "5", 0)).status_code == 200
    assert (
        await other_client.post(f"{panel.base}/comment", {"comment": "JUDGE-TWO-SECRET"}, htmx=True)
    ).status_code == 200
    await declare_none(client, panel)
    page = await client.get(panel.base)
    assert "JUDGE-TWO-SECRET" not in page.text
    assert " checked" not in page.text
    assert 'id="scorecard-version" name="version" value="0"' in page.text  # judge 2's version is not theirs
    saved = await score(client, panel, panel.criteria[0], "2", 0)
    assert saved.status_code == 200
    assert "JUDGE-TWO-SECRET" not in saved.text
    assert "JUDGE-TWO-SECRET" not in (await client.get("/judging")).text


@pytest.mark.parametrize("who", ["unassigned_judge", "startup", "other_bureau_official"])
async def test_outsiders_get_404_everywhere(client: WebClient, panel: Panel, who: str) -> None:
    """Not assigned: page, conflict, score, comment, finalize and file are 404 and nothing is written."""
    if who == "unassigned_judge":
        person = await make_user("judge3@review.example.jp", role="judge")
    elif who == "startup":
        person = panel.contest.founder
    else:
        person = await make_user("port@city.example.jp", role="official", bureau_id=await make_bureau("port"))
    await client.sign_in(person.email, person.password)
    for path in (panel.base, f"{panel.base}/files/{panel.file_id}"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert SUMMARY not in response.text
    for path, data in (
        (f"{panel.base}/conflict", {"answer": "none"}),
        (f"{panel.base}/scores/{panel.criteria[0]}", {f"score-{panel.criteria[0]}": "3", "version": "0"}),
        (f"{panel.base}/comment", {"comment": "x"}),
        (f"{panel.base}/finalize", {}),
    ):
        assert (await client.post(path, data)).status_code == 404, path
    assert await ConflictDeclaration.count().run() == 0
    assert await Scorecard.count().run() == 0


def random_word(prefix: str) -> str:
    """A string that cannot appear on a page by chance."""
    return f"{prefix}{secrets.token_hex(6)}"


async def test_blind_review_leaks_nothing_identifying(client: WebClient, settings: Settings) -> None:
    """Random organization, team, email strings and a hidden field appear on no judge-reachable response."""
    org_ja, org_en = random_word("株式会社秘密"), random_word("SecretCorp")
    team_name, team_email = random_word("teammate"), random_word("member") + "@leak.example"
    hidden_value = random_word("identifying-")
    # The identifying strings also sit inside a visible answer and the file name: they must be scrubbed.
    extra = {
        "answers": {
            "pitch-copy": {"label_ja": "補足", "kind": "long_text", "value": f"{org_ja}の{team_name}が開発"},
        },
        "team": [{"user": 1, "display_name": team_name, "email": team_email}],
        "display_name": f"{org_en} deck.pdf",
        "summary": f"{SUMMARY} ({org_en}, {team_email})",
    }
    panel = await make_panel(settings, blind=True, extra=extra)
    hidden_field = await add_field(panel.contest.challenge_id, "short_text", "代表者名", position=9)
    await (
        Round.update({Round.hidden_field_ids: json.dumps([hidden_field])})
        .where(Round.id == panel.round_id)
        .run()
    )
    version = await SubmissionVersion.select().first().output(load_json=True).run()
    content = version["content"]
    content["answers"][str(hidden_field)] = {
        "label_ja": "代表者名",
        "kind": "short_text",
        "value": hidden_value,
    }
    await (
        SubmissionVersion.update({SubmissionVersion.content: json.dumps(content, ensure_ascii=False)})
        .where(SubmissionVersion.id == version["id"])
        .run()
    )
    await (
        Organization.update({Organization.name_ja: org_ja, Organization.name_en: org_en})
        .where(Organization.id == panel.contest.organization_id)
        .run()
    )
    forbidden = [org_ja, org_en, team_name, team_email, hidden_value]
    responses = []
    await client.sign_in(panel.judge.email, panel.judge.password)
    responses.append(await client.get("/judging"))
    responses.append(await client.get(panel.base))
    responses.append(await client.post(f"{panel.base}/conflict", {"answer": "none"}))
    responses.append(await client.get(panel.base))
    responses.append(await client.get(panel.base, htmx=True))
    responses.append(await score(client, panel, panel.criteria[0], "3", 0))
    responses.append(await score(client, panel, panel.criteria[1], "4", 0))  # stale fragment
    responses.append(await score(client, panel, panel.criteria[1], "9", 1))  # error fragment
    responses.append(await client.post(f"{panel.base}/comment", {"comment": "良い"}, htmx=True))
    responses.append(await client.post(f"{panel.base}/finalize", {"comment": "良い"}))
    download = await client.get(f"{panel.base}/files/{panel.file_id}")
    assert download.status_code == 200
    assert 'filename="submission-' in download.headers["content-disposition"]
    responses.append(download)
    responses.append(await client.get("/judging"))
    assert SUMMARY in responses[3].text  # the content itself is shown, only identifying strings are not
    for response in responses:
        headers = " ".join(f"{key}: {value}" for key, value in response.headers.items())
        body = response.content.decode("utf-8", errors="replace")
        for secret in forbidden:
            assert secret not in body, (response.url, secret)
            assert secret not in headers, (response.url, secret)


async def test_200_concurrent_saves_with_one_version_lose_nothing(client: WebClient, panel: Panel) -> None:
    """Exactly the accepted saves are events; the others are counted as stale; the cache equals the replay."""
    await declare_none(client, panel)
    user = await load_viewer(panel.judge.id)
    now = utcnow()

    async def save(index: int) -> str:
        try:
            await scorecards.record_score(
                user,
                panel.round_id,
                panel.submission_id,
                panel.criteria[index % 2],
                str(1 + index % 5),
                0,
                now=now,
            )
        except scorecards.StaleScore:
            return "stale"
        return "saved"

    outcomes = await asyncio.gather(*(save(index) for index in range(200)))
    saved, stale = outcomes.count("saved"), outcomes.count("stale")
    assert saved + stale == 200
    assert saved == 1
    card = await Scorecard.select().first().run()
    assert card["version"] == saved
    assert await ScoreEvent.count().run() == saved
    assert await replayed(card["id"]) == await cached(card["id"])
    assert await AuditEvent.count().where(AuditEvent.action == "score.recorded").run() == saved


async def test_the_dashboard_with_200_assignments_fits_the_query_budget(
    client: WebClient, panel: Panel
) -> None:
    """200 assignments: progress per round, pending first, in at most 8 SQL statements."""
    now = utcnow()
    rows = await Submission.insert(
        *(
            Submission(
                challenge=panel.contest.challenge_id, organization=panel.contest.organization_id,
                status="submitted", active_slot=None, receipt_number=f"KY-2026-0001-{n:04d}", summary="",
                created_by=panel.contest.founder.id, created_at=now, updated_at=now, withdraw_reason="",
            )
            for n in range(2, 201)
        )
    ).run()  # fmt: skip
    await Assignment.insert(
        *(
            Assignment(round=panel.round_id, submission=row["id"], judge=panel.judge.id, assigned_at=now)
            for row in rows
        )
    ).run()
    await declare_none(client, panel)
    assert (await score(client, panel, panel.criteria[0], "3", 0)).status_code == 200
    assert (await score(client, panel, panel.criteria[1], "3", 1)).status_code == 200
    assert (await client.post(f"{panel.base}/finalize", {"comment": "ok"})).status_code == 303
    with count_queries() as counted:
        page = await client.get("/judging")
    assert page.status_code == 200
    assert_query_budget(counted, 8)
    assert "1 / 200" in page.text
    assert page.text.index("KY-2026-0001-0002") < page.text.index("KY-2026-0001-0001")  # pending first
