"""Judges of a round: invitations by account and by link, balanced assignment, conflicts, drop-out."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from litestar import Litestar

from app.accounts.tables import Membership
from app.clock import utcnow
from app.judging.setup_routes import CONTROLLERS
from app.judging.tables import Assignment, AuditEvent, ConflictDeclaration, Round, RoundJudge
from app.notifications.tables import Notification
from app.settings import Settings
from app.submissions.tables import Submission
from tests.challenges.factories import app_with
from tests.judging.test_rounds import ROUNDS, as_official, create_round
from tests.submissions.factories import Contest, make_contest
from tests.support.client import WebClient
from tests.support.people import Person, make_organization, make_user


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the judging set-up controllers registered."""
    return app_with(settings, CONTROLLERS)


async def applications(
    contest: Contest, count: int, *, status: str = "submitted"
) -> list[tuple[int, Person]]:
    """`count` submitted applications, each from its own organization; returns (submission id, owner)."""
    now = utcnow()
    made = []
    for number in range(count):
        owner = await make_user(f"founder{number}@applicant.example")
        organization_id = await make_organization(owner, f"0504012345{number:02d}")
        rows = await Submission.insert(
            Submission(
                challenge=contest.challenge_id,
                organization=organization_id,
                status=status,
                active_slot=f"{contest.challenge_id}:{organization_id}",
                receipt_number=f"KY-2026-0001-{number + 1:04d}",
                summary="概要",
                created_by=owner.id,
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
        ).run()
        made.append((int(rows[0]["id"]), owner))
    return made


async def invite(client: WebClient, round_id: int, email: str, *, htmx: bool = False) -> None:
    """Invite a judge through the form."""
    response = await client.post(f"{ROUNDS}/{round_id}/judges", {"email": email}, htmx=htmx)
    assert response.status_code in (200, 303), response.text


async def active_pairs(round_id: int) -> set[tuple[int, int]]:
    """(judge, submission) of every assignment in force."""
    rows = await (
        Assignment.select(Assignment.judge, Assignment.submission)
        .where((Assignment.round == round_id) & Assignment.removed_at.is_null())
        .run()
    )
    return {(row["judge"], row["submission"]) for row in rows}


async def test_invite_an_existing_judge_and_an_email_invitee(
    client: WebClient, other_client: WebClient
) -> None:
    contest = await make_contest()
    judge = await make_user("Judge@Example.jp", role="judge")
    await as_official(client, contest)
    round_id = await create_round(client)
    await invite(client, round_id, " JUDGE@example.jp ")
    await invite(client, round_id, "newcomer@example.org", htmx=True)

    rows = await RoundJudge.select().where(RoundJudge.round == round_id).order_by(RoundJudge.id).run()
    assert [(row["email"], row["user"]) for row in rows] == [
        ("judge@example.jp", judge.id),
        ("newcomer@example.org", None),
    ]
    to_user = await Notification.select().where(Notification.user == judge.id).first().run()
    assert to_user is not None
    assert (to_user["kind"], to_user["link"]) == ("judge_invitation", "/judging")
    assert json.loads(to_user["context"])["round_name_ja"] == "書類審査"
    by_mail = await Notification.select().where(Notification.email_to == "newcomer@example.org").first().run()
    assert by_mail is not None
    context = json.loads(by_mail["context"])
    assert context["slug"] == "smart-city"
    assert context["closes_at"] == "2026-12-15T08:00:00+00:00"
    path = context["invitation_path"]
    assert path.startswith("/judging/invitations/")

    again = await client.post(f"{ROUNDS}/{round_id}/judges", {"email": "judge@example.jp"})
    assert again.status_code == 422
    assert "This person is already a judge of this round." in again.text
    assert await RoundJudge.count().run() == 2

    # Forged or damaged links are refused; the real one binds whoever signs in and accepts it.
    assert (await other_client.get(path + "x")).status_code == 400
    assert (await other_client.get("/judging/invitations/forged.token")).status_code == 400
    anonymous = await other_client.get(path)
    assert anonymous.status_code == 200
    assert f"/signin?next={path}" in anonymous.text
    newcomer = await make_user("newcomer-account@example.org")
    await other_client.sign_in(newcomer.email, newcomer.password)
    assert (await other_client.post(path + "x")).status_code == 400
    accepted = await other_client.post(path)
    assert accepted.status_code == 303
    bound = await RoundJudge.select().where(RoundJudge.email == "newcomer@example.org").first().run()
    assert bound is not None
    assert bound["user"] == newcomer.id
    assert bound["accepted_at"] is not None
    # Used: nobody else can take the seat.
    await other_client.sign_out()
    await other_client.sign_in(judge.email, judge.password)
    assert (await other_client.post(path)).status_code == 400
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action).run()]
    assert actions.count("judge_invited") == 2
    assert actions.count("judge_invitation_accepted") == 1


async def round_with_judges(client: WebClient, contest: Contest) -> tuple[int, list[int], list[Person]]:
    """A round with k=2, seven applications and four judges, one of them a member of the first applicant."""
    submissions = await applications(contest, 7)
    await applications_withdrawn(contest)
    judges = [await make_user(f"judge{number}@example.jp", role="judge") for number in range(4)]
    first_owner_organization = (
        await Membership.select(Membership.organization)
        .where(Membership.user == submissions[0][1].id)
        .first()
        .run()
    )
    assert first_owner_organization is not None
    await Membership.insert(
        Membership(
            user=judges[3].id,
            organization=first_owner_organization["organization"],
            role="member",
            joined_at=utcnow(),
        )
    ).run()
    await as_official(client, contest)
    round_id = await create_round(client, judges_per_submission="2")
    for judge in judges:
        await invite(client, round_id, judge.email)
    return round_id, [submission_id for submission_id, _owner in submissions], judges


async def applications_withdrawn(contest: Contest) -> None:
    """A draft that is not in scope of any round."""
    now = utcnow()
    owner = await make_user("drafter@applicant.example")
    organization_id = await make_organization(owner, "060401234567")
    await Submission.insert(
        Submission(
            challenge=contest.challenge_id,
            organization=organization_id,
            status="draft",
            summary="",
            created_by=owner.id,
            created_at=now,
            updated_at=now,
        )
    ).run()


async def test_balanced_assignment_keeps_conflicts_out_and_rebalances(client: WebClient) -> None:
    contest = await make_contest()
    round_id, submissions, judges = await round_with_judges(client, contest)
    conflicted_judge = judges[3].id

    response = await client.post(f"{ROUNDS}/{round_id}/assignments/auto", htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="assignments"')
    assert "Judges were assigned automatically." in response.text
    pairs = await active_pairs(round_id)
    per_submission = Counter(submission for _judge, submission in pairs)
    assert per_submission == dict.fromkeys(submissions, 2)
    loads = Counter(judge for judge, _submission in pairs)
    assert set(loads) == {judge.id for judge in judges}
    assert max(loads.values()) - min(loads.values()) <= 1
    assert (conflicted_judge, submissions[0]) not in pairs
    flag = await ConflictDeclaration.select().where(ConflictDeclaration.judge == conflicted_judge).run()
    assert [(row["submission"], row["source"], row["reason"], row["conflicted"]) for row in flag] == [
        (submissions[0], "auto", "member_of_applicant", True)
    ]
    page = await client.get(f"{ROUNDS}/{round_id}")
    assert "The judge is a member of the applicant organization." in page.text
    assert "Applications per judge" in page.text

    # A second run changes nothing (everyone already has k judges).
    await client.post(f"{ROUNDS}/{round_id}/assignments/auto")
    assert await active_pairs(round_id) == pairs

    # A judge drops out: their applications go to the others, nobody else's assignment moves.
    dropped = judges[0].id
    seat = await RoundJudge.select(RoundJudge.id).where(RoundJudge.user == dropped).first().run()
    assert seat is not None
    removed = await client.post(f"{ROUNDS}/{round_id}/judges/{seat['id']}/remove", htmx=True)
    assert removed.status_code == 200
    assert 'id="assignments" aria-labelledby="assignments-title" hx-swap-oob="true"' in removed.text
    after = await active_pairs(round_id)
    assert {pair for pair in pairs if pair[0] != dropped} <= after
    assert not any(judge == dropped for judge, _submission in after)
    assert Counter(submission for _judge, submission in after) == dict.fromkeys(submissions, 2)
    assert (conflicted_judge, submissions[0]) not in after
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action).run()]
    for action in ("conflict_flagged", "assignments_generated", "judge_removed", "assignments_rebalanced"):
        assert action in actions, action


async def test_manual_assignment_unassign_and_reassign(client: WebClient) -> None:
    contest = await make_contest()
    round_id, submissions, judges = await round_with_judges(client, contest)
    base = f"{ROUNDS}/{round_id}/assignments"

    refused = await client.post(
        base, {"judge": str(judges[3].id), "submission": str(submissions[0])}, htmx=True
    )
    assert refused.status_code == 422
    assert "This judge has a conflict of interest with this application." in refused.text
    assert await active_pairs(round_id) == set()

    made = await client.post(base, {"judge": str(judges[1].id), "submission": str(submissions[0])})
    assert made.status_code == 303
    duplicate = await client.post(base, {"judge": str(judges[1].id), "submission": str(submissions[0])})
    assert duplicate.status_code == 422
    assignment = await Assignment.select(Assignment.id).first().run()
    assert assignment is not None

    # The judge declares a conflict: the official sees the reason and moves the application.
    await ConflictDeclaration.insert(
        ConflictDeclaration(
            submission=submissions[0],
            judge=judges[1].id,
            conflicted=True,
            reason="元同僚が代表者です",
            source="declared",
            declared_at=utcnow(),
        )
    ).run()
    page = await client.get(f"{ROUNDS}/{round_id}")
    assert "元同僚が代表者です" in page.text
    assert f"/assignments/{assignment['id']}/reassign" in page.text
    moved = await client.post(f"{base}/{assignment['id']}/reassign", {"judge": str(judges[2].id)}, htmx=True)
    assert moved.status_code == 200
    assert await active_pairs(round_id) == {(judges[2].id, submissions[0])}

    current = await Assignment.select(Assignment.id).where(Assignment.removed_at.is_null()).first().run()
    assert current is not None
    assert (await client.post(f"{base}/{current['id']}/remove")).status_code == 303
    assert await active_pairs(round_id) == set()
    assert await Assignment.count().run() == 2  # ended assignments stay, with the time they ended
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action).run()]
    assert actions.count("assignment_made") == 2
    assert actions.count("assignment_removed") == 2


async def test_later_rounds_take_only_advanced_applications(client: WebClient) -> None:
    contest = await make_contest()
    submitted = await applications(contest, 2)
    await Submission.update({Submission.status: "advanced"}).where(Submission.id == submitted[0][0]).run()
    await as_official(client, contest)
    first = await create_round(client, judges_per_submission="1")
    second = await create_round(client, judges_per_submission="1", opens_at="", closes_at="")
    judge = await make_user("judge@example.jp", role="judge")
    for round_id in (first, second):
        await invite(client, round_id, judge.email)
        await client.post(f"{ROUNDS}/{round_id}/assignments/auto")
    assert {submission for _judge, submission in await active_pairs(first)} == {s for s, _o in submitted}
    assert {submission for _judge, submission in await active_pairs(second)} == {submitted[0][0]}
    assert await Round.count().run() == 2


async def test_a_withdrawn_invitation_is_refused(client: WebClient, other_client: WebClient) -> None:
    contest = await make_contest()
    await as_official(client, contest)
    round_id = await create_round(client)
    await invite(client, round_id, "late@example.org")
    by_mail = (
        await Notification.select(Notification.context)
        .where(Notification.email_to == "late@example.org")
        .first()
        .run()
    )
    assert by_mail is not None
    path = json.loads(by_mail["context"])["invitation_path"]
    seat = await RoundJudge.select(RoundJudge.id).first().run()
    assert seat is not None
    await client.post(f"{ROUNDS}/{round_id}/judges/{seat['id']}/remove")
    # A withdrawn invitation cannot be used, however fresh its link.
    assert (await other_client.get(path)).status_code == 400
