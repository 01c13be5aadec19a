"""One world for the authorization matrix: every role, and a thing of every kind in the states that matter."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from app.accounts.corporate_number import with_check_digit
from app.accounts.tables import Membership, Organization
from app.catalog.tables import Adoption, Collaboration
from app.challenges.attachments import upload_folder as attachment_folder
from app.challenges.tables import ChallengeAttachment
from app.clock import utcnow
from app.judging.judges import invitation_serializer
from app.judging.tables import ConflictDeclaration, PitchSlot, ResultProposal, RoundJudge
from app.notifications.tables import Notification
from app.payments.tables import Payment, PitchEvent, Ticket, TicketType
from app.settings import Settings
from app.submissions.tables import Submission
from tests.catalog.adoption_factories import make_municipal_official, make_municipality, make_output
from tests.challenges.factories import make_challenge, make_question
from tests.judging.test_results import score
from tests.judging.test_scorecards import assign, make_criterion, make_round, submitted
from tests.submissions.factories import make_contest, pdf_bytes
from tests.support.people import Person, make_bureau, make_user

ROLES = (
    "anonymous",
    "startup_owner",
    "other_startup",
    "assigned_judge",
    "unassigned_judge",
    "conflicted_judge",
    "bureau_official",
    "other_official",
    "admin",
)


@dataclass
class World:
    """The people (by role) and the ids each route's path parameters are filled with."""

    people: dict[str, Person | None]
    ids: dict[str, int | str] = field(default_factory=dict)


async def _organization(owner: Person, name: str, digits: str) -> int:
    now = utcnow()
    rows = await Organization.insert(
        Organization(
            name_ja=name, name_en=name, corporate_number=with_check_digit(digits), website="", profile="",
            created_at=now,
        )
    ).run()  # fmt: skip
    organization_id = int(rows[0]["id"])
    await Membership.insert(
        Membership(user=owner.id, organization=organization_id, role="owner", joined_at=now)
    ).run()
    return organization_id


async def build_world(settings: Settings) -> World:
    """The bureau's published challenge with an open document round and a submitted application (and more)."""
    now = utcnow()
    # The published challenge "smart-city" of the bureau, open for applications, with a form and the owner's
    # organization; the owner is the contest's founder.
    contest = await make_contest()
    other_bureau = await make_bureau("housing")
    other_official = await make_user("official@housing.example.jp", role="official", bureau_id=other_bureau)
    admin = await make_user("admin@city.example.jp", role="admin")
    other_startup = await make_user("ceo@other-startup.example")
    other_organization = await _organization(other_startup, "他社", "030401234567")
    judges = {
        role: await make_user(f"{role.replace('_', '-')}@jury.example.jp", role="judge")
        for role in ("assigned_judge", "unassigned_judge", "conflicted_judge")
    }
    people: dict[str, Person | None] = {
        "anonymous": None,
        "startup_owner": contest.founder,
        "other_startup": other_startup,
        **judges,
        "bureau_official": contest.official,
        "other_official": other_official,
        "admin": admin,
    }

    # The open document round: the application is assigned to two judges, one declared no conflict (and
    # scored), the other declared a conflict; the unassigned judge is on the round's panel without it.
    round_id = await make_round(contest.challenge_id, now)
    criterion = await make_criterion(round_id, 1)
    second_criterion = await make_criterion(round_id, 2)
    submission_id, file_id = await submitted(contest, settings, receipt="KY-2026-0001-0001", extra={})
    round_judges = {}
    for role, judge in judges.items():
        rows = await RoundJudge.insert(
            RoundJudge(round=round_id, user=judge.id, email=judge.email, invited_by=contest.official.id,
                       invited_at=now, accepted_at=now)
        ).run()  # fmt: skip
        round_judges[role] = int(rows[0]["id"])
    assignment_id = await assign(round_id, submission_id, judges["assigned_judge"].id)
    await assign(round_id, submission_id, judges["conflicted_judge"].id)
    for role, conflicted in (("assigned_judge", False), ("conflicted_judge", True)):
        await ConflictDeclaration.insert(
            ConflictDeclaration(submission=submission_id, judge=judges[role].id, conflicted=conflicted,
                                reason="元同僚です" if conflicted else "", source="declared", declared_at=now)
        ).run()  # fmt: skip
    await score(
        round_id, submission_id, judges["assigned_judge"], (criterion, second_criterion), (3, 4), state="open"
    )
    # The other startup's draft on the same challenge: confidential to all but its members and the bureau.
    rows = await Submission.insert(
        Submission(challenge=contest.challenge_id, organization=other_organization, status="draft",
                   summary="他社の下書き", created_by=other_startup.id, created_at=now, updated_at=now)
    ).run()  # fmt: skip
    other_draft_id = int(rows[0]["id"])

    # A draft challenge of the same bureau, never published.
    draft_id = await make_challenge(
        bureau_id=contest.bureau_id, author_id=contest.official.id, slug="draft-challenge", status="draft",
        now=now,
    )  # fmt: skip
    # A challenge with results published: the owner's winning application, its round, the published proposal.
    results_id = await make_challenge(
        bureau_id=contest.bureau_id, author_id=contest.official.id, slug="results-out",
        status="results_published", now=now, close_in=timedelta(days=-30),
    )  # fmt: skip
    results_round = await make_round(
        results_id, now, opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=10)
    )
    rows = await Submission.insert(
        Submission(challenge=results_id, organization=contest.organization_id, status="winner",
                   receipt_number="KY-2026-0002-0001", summary="受賞した提案", created_by=contest.founder.id,
                   created_at=now, updated_at=now, submitted_at=now - timedelta(days=31))
    ).run()  # fmt: skip
    winner_id = int(rows[0]["id"])
    await assign(results_round, winner_id, judges["assigned_judge"].id)
    rows = await ResultProposal.insert(
        ResultProposal(challenge=results_id, decisions={str(winner_id): "winner"}, note="",
                       proposed_by=contest.official.id, proposed_at=now, approved_by=admin.id,
                       approved_at=now, published_at=now)
    ).run()  # fmt: skip
    proposal_id = int(rows[0]["id"])
    pitch_round = await make_round(results_id, now, position=2, kind="pitch")
    rows = await PitchSlot.insert(
        PitchSlot(round=pitch_round, submission=winner_id, starts_at=now - timedelta(days=5),
                  ends_at=now - timedelta(days=5) + timedelta(minutes=15), place="都庁", meeting_url="")
    ).run()  # fmt: skip
    pitch_slot_id = int(rows[0]["id"])
    rows = await Collaboration.insert(
        Collaboration(challenge=results_id, submission=winner_id, status="poc", started_at=now,
                      updated_at=now)
    ).run()  # fmt: skip
    collaboration_id = int(rows[0]["id"])

    # The catalogue: a published output (maintained by the owner's organization), its adoption, a draft.
    municipality = await make_municipality("13101", "東京都", "千代田区")
    municipal_official = await make_municipal_official("staff@chiyoda.example.jp", municipality["id"])
    output_id = await make_output(
        "civic-app", created_by=contest.official.id, maintainer_organization=contest.organization_id,
        source_challenge=results_id, collaboration=collaboration_id,
    )  # fmt: skip
    await make_output("draft-output", created_by=other_official.id, status="draft")
    rows = await Adoption.insert(
        Adoption(output=output_id, municipality=municipality["id"], status="adopted", deployment_url="",
                 fork_url="", recorded_by=municipal_official.id, recorded_at=now, updated_at=now,
                 one_per_pair=f"{output_id}:{municipality['id']}")
    ).run()  # fmt: skip
    adoption_id = int(rows[0]["id"])

    # The published challenge's pitch day, with a ticket the other startup paid for.
    rows = await PitchEvent.insert(
        PitchEvent(challenge=contest.challenge_id, starts_at=now + timedelta(days=20), venue="都庁第一本庁舎",
                   created_by=contest.official.id, created_at=now)
    ).run()  # fmt: skip
    rows = await TicketType.insert(
        TicketType(event=int(rows[0]["id"]), name_ja="懇親会付き", name_en="With reception", price_jpy=1000,
                   capacity=50, sales_open_at=now - timedelta(days=1),
                   sales_close_at=now + timedelta(days=19))
    ).run()  # fmt: skip
    ticket_type_id = int(rows[0]["id"])
    rows = await Payment.insert(
        Payment(purpose="ticket", payer=other_startup.id, amount_jpy=1000, collected_jpy=1000,
                status="succeeded", stripe_intent="pi_authz_matrix", stripe_customer="", last_error="",
                challenge=contest.challenge_id, sponsor_name="", created_at=now, updated_at=now,
                succeeded_at=now)
    ).run()  # fmt: skip
    payment_id = int(rows[0]["id"])
    rows = await Ticket.insert(
        Ticket(ticket_type=ticket_type_id, holder=other_startup.id, code="AUTHZ1", status="valid",
               payment=payment_id, created_at=now)
    ).run()  # fmt: skip
    ticket_id = int(rows[0]["id"])

    # The published challenge's question, attachment, and a notification for the owner.
    question_id = await make_question(
        contest.challenge_id, asker_id=contest.founder.id, body="予算の内訳は？", asked_at=now
    )
    stored_name = secrets.token_hex(16)
    folder = attachment_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(pdf_bytes(1))
    rows = await ChallengeAttachment.insert(
        ChallengeAttachment(challenge=contest.challenge_id, stored_name=stored_name, display_name="guide.pdf",
                            kind="pdf", size_bytes=100, pages=1, sha256="0" * 64,
                            uploaded_by=contest.official.id, uploaded_at=now)
    ).run()  # fmt: skip
    attachment_id = int(rows[0]["id"])
    draft_stored_name = secrets.token_hex(16)
    (folder / draft_stored_name).write_bytes(pdf_bytes(1))
    rows = await ChallengeAttachment.insert(
        ChallengeAttachment(challenge=draft_id, stored_name=draft_stored_name, display_name="draft.pdf",
                            kind="pdf", size_bytes=100, pages=1, sha256="0" * 64,
                            uploaded_by=contest.official.id, uploaded_at=now)
    ).run()  # fmt: skip
    draft_attachment_id = int(rows[0]["id"])
    rows = await Notification.insert(
        Notification(kind="submission_received", user=contest.founder.id, email_to=contest.founder.email,
                     context={}, link=f"/submissions/{submission_id}", created_at=now, email_status="none")
    ).run()  # fmt: skip
    notification_id = int(rows[0]["id"])

    ids: dict[str, int | str] = {
        "published": contest.slug,
        "draft": "draft-challenge",
        "results": "results-out",
        "bureau": contest.bureau_id,
        "other_bureau": other_bureau,
        "round": round_id,
        "results_round": results_round,
        "criterion": criterion,
        "assignment": assignment_id,
        "round_judge": round_judges["unassigned_judge"],
        "invitation": invitation_serializer(settings.secret_key).dumps(round_judges["unassigned_judge"]),
        "submission": submission_id,
        "other_draft": other_draft_id,
        "winner": winner_id,
        "file": file_id,
        "field": contest.fields["pitch"],
        "deck_field": contest.fields["deck"],
        "proposal": proposal_id,
        "organization": contest.organization_id,
        "other_organization": other_organization,
        "collaboration": collaboration_id,
        "output": "civic-app",
        "draft_output": "draft-output",
        "adoption": adoption_id,
        "municipality_code": municipality["code"],
        "payment": payment_id,
        "ticket": ticket_id,
        "ticket_type": ticket_type_id,
        "question": question_id,
        "attachment": attachment_id,
        "draft_attachment": draft_attachment_id,
        "notification": notification_id,
        "draft_id": draft_id,
        "slot_file": f"{pitch_slot_id}.ics",
    }
    return World(people, ids)
