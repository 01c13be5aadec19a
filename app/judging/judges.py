"""Judges of a round: who is in scope, invitations by account or by signed email link, and accepting them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts.services import EMAIL_PATTERN, normalize_email
from app.accounts.tables import User
from app.accounts.viewer import Viewer
from app.judging import audit
from app.judging.rounds import managed_round
from app.judging.tables import Assignment, Round, RoundJudge
from app.notifications.outbox import notify_address, notify_users
from app.submissions.tables import Submission
from app.validation import InvalidInput
from app.web.i18n import gettext as _

INVITATION_LIFETIME = timedelta(days=30)
Pair = tuple[int, int]  # (judge user id, submission id), the order assignment.py uses


class InvitationUnusable(Exception):
    """The judge invitation link is forged, expired, withdrawn or already used by someone else."""


def invitation_serializer(secret_key: str) -> URLSafeTimedSerializer:
    """Signs RoundJudge ids into invitation links."""
    return URLSafeTimedSerializer(secret_key, salt="kyoso.judging.invitation")


def actor(user: Viewer | None) -> int | None:
    """The audit trail's actor id."""
    return user.id if user else None


async def submissions_in_scope(round_row: dict[str, Any]) -> list[dict[str, Any]]:
    """Round 1 judges every submitted application; a later round only those that advanced."""
    statuses = ["submitted", "advanced"] if round_row["position"] == 1 else ["advanced"]
    rows: list[dict[str, Any]] = (
        await Submission.select(
            Submission.id,
            Submission.receipt_number,
            Submission.organization.name_ja.as_alias("organization_ja"),
            Submission.organization.name_en.as_alias("organization_en"),
        )
        .where((Submission.challenge == round_row["challenge"]) & Submission.status.is_in(statuses))
        .order_by(Submission.receipt_number)
        .run()
    )
    return rows


async def judges_of(round_id: int) -> list[dict[str, Any]]:
    """The round's judges who have not dropped out, invitees without an account included."""
    rows: list[dict[str, Any]] = (
        await RoundJudge.select(
            *RoundJudge.all_columns(), RoundJudge.user.display_name.as_alias("display_name")
        )
        .where((RoundJudge.round == round_id) & RoundJudge.removed_at.is_null())
        .order_by(RoundJudge.invited_at, RoundJudge.id)
        .run()
    )
    return rows


async def active_assignments(round_id: int) -> list[dict[str, Any]]:
    """Assignments in force in the round."""
    rows: list[dict[str, Any]] = (
        await Assignment.select(Assignment.id, Assignment.judge, Assignment.submission)
        .where((Assignment.round == round_id) & Assignment.removed_at.is_null())
        .order_by(Assignment.id)
        .run()
    )
    return rows


async def invite_judge(
    user: Viewer | None, round_id: int, email: str, *, secret_key: str, now: datetime
) -> int:
    """Invite a judge by email: an existing user is added at once, anyone else gets a signed link."""
    email = normalize_email(email)
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise InvalidInput({"email": _("Enter an email address such as name@example.jp.")})
    async with Round._meta.db.transaction():
        row, facts = await managed_round(user, round_id)
        account = await User.select(User.id).where(User.email == email).first().run()
        judge_id = account["id"] if account else None
        for judge in await judges_of(round_id):
            if judge["email"] == email or (judge_id is not None and judge["user"] == judge_id):
                raise InvalidInput({"email": _("This person is already a judge of this round.")})
        rows = await RoundJudge.insert(
            RoundJudge(round=round_id, user=judge_id, email=email, invited_by=actor(user), invited_at=now)
        ).run()
        round_judge_id: int = rows[0]["id"]
        context = {
            "title_ja": row["challenge_title_ja"],
            "title_en": row["challenge_title_en"],
            "slug": row["challenge_slug"],
            "round_name_ja": row["name_ja"],
            "round_name_en": row["name_en"],
            # None, not "": the message renderer parses any string it finds here as a date.
            "closes_at": row["closes_at"].isoformat() if row["closes_at"] else None,
        }
        if judge_id is not None:
            await notify_users("judge_invitation", [judge_id], context, link="/judging", now=now)
        else:
            token = invitation_serializer(secret_key).dumps(round_judge_id)
            # The invitee may have no account yet: the message goes in the inviter's language.
            context["invitation_path"] = f"/judging/invitations/{token}"
            await notify_address("judge_invitation", email, user.locale if user else "ja", context, now=now)
        await audit.record(
            "judge_invited",
            actor=actor(user),
            challenge=facts.id,
            subject=f"round:{round_id}",
            details={"round_judge": round_judge_id, "email": email, "user": judge_id},
            now=now,
        )
    return round_judge_id


async def read_judge_invitation(token: str, *, secret_key: str) -> dict[str, Any]:
    """The invitation behind a link with its round and challenge names (InvitationUnusable otherwise)."""
    try:
        round_judge_id = invitation_serializer(secret_key).loads(
            token, max_age=int(INVITATION_LIFETIME.total_seconds())
        )
    except (BadSignature, SignatureExpired) as error:
        raise InvitationUnusable from error
    row = (
        await RoundJudge.select(
            *RoundJudge.all_columns(),
            RoundJudge.round.name_ja.as_alias("round_name_ja"),
            RoundJudge.round.name_en.as_alias("round_name_en"),
            RoundJudge.round.challenge.title_ja.as_alias("title_ja"),  # type: ignore[union-attr]
            RoundJudge.round.challenge.title_en.as_alias("title_en"),  # type: ignore[union-attr]
        )
        .where(RoundJudge.id == round_judge_id)
        .first()
        .run()
    )
    if row is None or row["removed_at"] is not None:
        raise InvitationUnusable
    return dict(row)


async def accept_judge_invitation(user: Viewer, token: str, *, secret_key: str, now: datetime) -> None:
    """Bind the signed-in user to the invitation (once; the same person may open the link again)."""
    invitation = await read_judge_invitation(token, secret_key=secret_key)
    if invitation["user"] == user.id:
        return
    if invitation["user"] is not None:
        raise InvitationUnusable
    async with Round._meta.db.transaction():
        taken = (
            await RoundJudge.exists()
            .where(
                (RoundJudge.round == invitation["round"])
                & (RoundJudge.user == user.id)
                & RoundJudge.removed_at.is_null()
            )
            .run()
        )
        # The update only matches while unbound, so a link opened twice at once binds one person.
        claimed = (
            await RoundJudge.update({RoundJudge.user: user.id, RoundJudge.accepted_at: now})
            .where((RoundJudge.id == invitation["id"]) & RoundJudge.user.is_null())
            .returning(RoundJudge.id)
            .run()
        )
        if taken or not claimed:
            raise InvitationUnusable
        challenge = await Round.select(Round.challenge).where(Round.id == invitation["round"]).first().run()
        await audit.record(
            "judge_invitation_accepted",
            actor=user.id,
            challenge=challenge["challenge"] if challenge else None,
            subject=f"round:{invitation['round']}",
            details={"round_judge": invitation["id"]},
            now=now,
        )
