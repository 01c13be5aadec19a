"""Account actions: sign up, authenticate, organizations and their members, bureaus and staff roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts import policies
from app.accounts.corporate_number import (
    CorporateNumberProblem,
    corporate_number_problem,
    normalize_corporate_number,
)
from app.accounts.passwords import hash_password, password_message, password_problem, verify_password
from app.accounts.recovery import queue_verification
from app.accounts.tables import Bureau, Invitation, Membership, Organization, StaffRole, User
from app.accounts.viewer import Viewer, forget_viewer
from app.notifications.outbox import notify_address
from app.validation import InvalidInput
from app.web.i18n import LOCALES
from app.web.i18n import gettext as _
from app.web.jst import format_jst_local

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
INVITATION_LIFETIME = timedelta(days=7)
ORGANIZATION_ROLES = ("owner", "member")
STAFF_ROLES = ("admin", "official", "judge")


def normalize_email(email: str) -> str:
    """Emails are compared lower-cased and trimmed."""
    return email.strip().lower()


def corporate_number_message(problem: CorporateNumberProblem) -> str:
    """The reader-facing text for an invalid 法人番号."""
    return {
        CorporateNumberProblem.NOT_THIRTEEN_DIGITS: _("A corporate number has exactly 13 digits."),
        CorporateNumberProblem.WRONG_CHECK_DIGIT: _(
            "This corporate number's check digit does not match. Please check for a typing mistake."
        ),
    }[problem]


async def sign_up(
    *, email: str, password: str, display_name: str, locale: str, secret_key: str, now: datetime
) -> int:
    """Create a local account, email a link to confirm its address, and return its id.

    Raises:
        InvalidInput: a field is missing or invalid, or the email is already registered.
    """
    email = normalize_email(email)
    errors: dict[str, str] = {}
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        errors["email"] = _("Enter an email address such as name@example.jp.")
    if not display_name.strip():
        errors["display_name"] = _("Enter the name others will see.")
    elif len(display_name) > 100:
        errors["display_name"] = _("Use at most 100 characters.")
    if problem := password_problem(password, personal=(email, display_name)):
        errors["password"] = password_message(problem)
    if errors:
        raise InvalidInput(errors)
    async with User._meta.db.transaction():
        if await User.exists().where(User.email == email).run():
            raise InvalidInput({"email": _("An account with this email already exists. Sign in instead.")})
        row = await User.insert(
            User(
                email=email,
                display_name=display_name.strip(),
                locale=locale if locale in LOCALES else "ja",
                password_hash=await hash_password(password),
                created_at=now,
            )
        ).run()
        user_id: int = row[0]["id"]
        await queue_verification(user_id, email, secret_key=secret_key, now=now)
    return user_id


async def authenticate(email: str, password: str) -> int | None:
    """The id of the active user with this email and password; None for any mismatch (no hint which)."""
    user = (
        await User.select(User.id, User.password_hash)
        .where((User.email == normalize_email(email)) & (User.is_active == True))  # noqa: E712 (Piccolo SQL)
        .first()
        .run()
    )
    # Verify even for an unknown email, so the answer takes as long either way.
    if not await verify_password(user["password_hash"] if user else None, password) or user is None:
        return None
    user_id: int = user["id"]
    return user_id


@dataclass(frozen=True)
class OrganizationInput:
    """What a person types to register a startup."""

    name_ja: str
    name_en: str
    corporate_number: str
    founded_on: str
    website: str
    profile: str


def validate_organization(form: OrganizationInput) -> tuple[dict[str, str], str, date | None]:
    """Field errors, the normalized 法人番号 and the founding date."""
    errors: dict[str, str] = {}
    if not form.name_ja.strip():
        errors["name_ja"] = _("Enter the registered name.")
    number = normalize_corporate_number(form.corporate_number)
    if problem := corporate_number_problem(number):
        errors["corporate_number"] = corporate_number_message(problem)
    founded: date | None = None
    if form.founded_on:
        try:
            founded = date.fromisoformat(form.founded_on)
        except ValueError:
            errors["founded_on"] = _("Enter a date such as 2021-04-01.")
    if form.website and not re.match(r"^https?://[^\s]+$", form.website):
        errors["website"] = _("Enter an address starting with https://.")
    return errors, number, founded


async def create_organization(user: Viewer | None, form: OrganizationInput, *, now: datetime) -> int:
    """Register a startup with `user` as its owner, in one transaction.

    Raises:
        PermissionDeniedException: the user may not register organizations.
        InvalidInput: a field is invalid or the 法人番号 is already registered.
    """
    if user is None or not policies.can_create_organization(user):
        raise PermissionDeniedException
    errors, number, founded = validate_organization(form)
    if errors:
        raise InvalidInput(errors)
    async with Organization._meta.db.transaction():
        if await Organization.exists().where(Organization.corporate_number == number).run():
            raise InvalidInput(
                {
                    "corporate_number": _(
                        "This corporate number is already registered. Ask its owner to invite you."
                    )
                }
            )
        rows = await Organization.insert(
            Organization(
                name_ja=form.name_ja.strip(),
                name_en=form.name_en.strip(),
                corporate_number=number,
                founded_on=founded,
                website=form.website,
                profile=form.profile,
                created_at=now,
            )
        ).run()
        organization_id: int = rows[0]["id"]
        await Membership.insert(
            Membership(user=user.id, organization=organization_id, role="owner", joined_at=now)
        ).run()
    forget_viewer(user.id)
    return organization_id


def invitation_serializer(secret_key: str) -> URLSafeTimedSerializer:
    """Signs invitation ids into links."""
    return URLSafeTimedSerializer(secret_key, salt="kyoso.invitation")


async def invite_member(
    user: Viewer | None, organization_id: int, *, email: str, role: str, secret_key: str, now: datetime
) -> str:
    """Record an invitation and return its signed token (valid for 7 days, usable once).

    Raises:
        NotFoundException: the organization does not exist or the user may not manage it.
        InvalidInput: the email or role is invalid, or the person is already a member.
    """
    if user is None or not policies.can_manage_members(user, organization_id):
        raise NotFoundException
    email = normalize_email(email)
    errors: dict[str, str] = {}
    if not EMAIL_PATTERN.match(email):
        errors["email"] = _("Enter an email address such as name@example.jp.")
    if role not in ORGANIZATION_ROLES:
        errors["role"] = _("Choose owner or member.")
    if errors:
        raise InvalidInput(errors)
    async with Invitation._meta.db.transaction():
        already = (
            await Membership.exists()
            .where((Membership.organization == organization_id) & (Membership.user.email == email))
            .run()
        )
        if already:
            raise InvalidInput({"email": _("This person is already a member.")})
        rows = await Invitation.insert(
            Invitation(
                organization=organization_id,
                email=email,
                role=role,
                invited_by=user.id,
                created_at=now,
                expires_at=now + INVITATION_LIFETIME,
            )
        ).run()
        token = str(invitation_serializer(secret_key).dumps(rows[0]["id"]))
        organization = (
            await Organization.select(Organization.name_ja)
            .where(Organization.id == organization_id)
            .first()
            .run()
        )
        # The invitee may have no account yet: the message goes in the inviter's language.
        await notify_address(
            "organization_invitation",
            email,
            user.locale,
            {
                "organization": organization["name_ja"] if organization else "",
                "inviter": user.display_name,
                "invitation_path": f"/invitations/{token}",
                "expires": format_jst_local(now + INVITATION_LIFETIME).replace("T", " ") + " JST",
            },
            now=now,
        )
    return token


class InvitationUnusable(Exception):
    """The invitation link is forged, expired, already used, or for someone else."""


async def read_invitation(token: str, *, secret_key: str, now: datetime) -> dict[str, object]:
    """The open invitation behind a token, with its organization's name.

    Raises:
        InvitationUnusable: the token is bad or expired, or the invitation was already accepted.
    """
    try:
        invitation_id = invitation_serializer(secret_key).loads(
            token, max_age=int(INVITATION_LIFETIME.total_seconds())
        )
    except (BadSignature, SignatureExpired) as error:
        raise InvitationUnusable from error
    invitation = (
        await Invitation.select(
            Invitation.id,
            Invitation.email,
            Invitation.role,
            Invitation.expires_at,
            Invitation.accepted_at,
            Invitation.organization,
            Invitation.organization.name_ja.as_alias("organization_name_ja"),
            Invitation.organization.name_en.as_alias("organization_name_en"),
        )
        .where(Invitation.id == invitation_id)
        .first()
        .run()
    )
    if invitation is None or invitation["accepted_at"] is not None or invitation["expires_at"] <= now:
        raise InvitationUnusable
    return dict(invitation)


async def accept_invitation(user: Viewer | None, token: str, *, secret_key: str, now: datetime) -> int:
    """Join the organization of the invitation; returns its id.

    Raises:
        InvitationUnusable: the token is bad, expired or used.
        PermissionDeniedException: the signed-in user is not the invited person.
    """
    invitation = await read_invitation(token, secret_key=secret_key, now=now)
    if user is None or not policies.can_accept_invitation(user, str(invitation["email"])):
        raise PermissionDeniedException
    organization_id = int(str(invitation["organization"]))
    async with Invitation._meta.db.transaction():
        # The update only matches while unaccepted, so a link used twice at once joins once.
        claimed = (
            await Invitation.update({Invitation.accepted_at: now, Invitation.accepted_by: user.id})
            .where((Invitation.id == invitation["id"]) & Invitation.accepted_at.is_null())
            .returning(Invitation.id)
            .run()
        )
        if not claimed:
            raise InvitationUnusable
        if organization_id not in user.memberships:
            await Membership.insert(
                Membership(user=user.id, organization=organization_id, role=invitation["role"], joined_at=now)
            ).run()
    forget_viewer(user.id)
    return organization_id


async def create_bureau(user: Viewer | None, *, slug: str, name_ja: str, name_en: str, now: datetime) -> int:
    """Add a bureau (admins only).

    Raises:
        PermissionDeniedException: the user is not an admin.
        InvalidInput: a field is invalid or the slug is taken.
    """
    if not policies.can_manage_bureaus(user):
        raise PermissionDeniedException
    errors: dict[str, str] = {}
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = _("Use 3–60 lower-case letters, digits and hyphens.")
    if not name_ja.strip():
        errors["name_ja"] = _("Enter the Japanese name.")
    if not name_en.strip():
        errors["name_en"] = _("Enter the English name.")
    if errors:
        raise InvalidInput(errors)
    async with Bureau._meta.db.transaction():
        if await Bureau.exists().where(Bureau.slug == slug).run():
            raise InvalidInput({"slug": _("This short name is already used.")})
        rows = await Bureau.insert(
            Bureau(slug=slug, name_ja=name_ja.strip(), name_en=name_en.strip(), created_at=now)
        ).run()
    bureau_id: int = rows[0]["id"]
    return bureau_id


async def grant_staff_role(
    user: Viewer | None, *, email: str, role: str, bureau_id: int | None, now: datetime
) -> None:
    """Make an existing user an official of a bureau, a judge, or an admin (admins only).

    Raises:
        PermissionDeniedException: the user is not an admin.
        InvalidInput: unknown email or role, or an official without a bureau.
    """
    if not policies.can_manage_bureaus(user):
        raise PermissionDeniedException
    await assign_role(email=email, role=role, bureau_id=bureau_id, now=now)


async def assign_role(*, email: str, role: str, bureau_id: int | None, now: datetime) -> None:
    """Give a role without a permission check: for `grant_staff_role` and the command line only."""
    errors: dict[str, str] = {}
    if role not in STAFF_ROLES:
        errors["role"] = _("Choose admin, official or judge.")
    if role == "official" and (
        bureau_id is None or not await Bureau.exists().where(Bureau.id == bureau_id).run()
    ):
        errors["bureau"] = _("An official belongs to a bureau.")
    target = await User.select(User.id).where(User.email == normalize_email(email)).first().run()
    if target is None:
        errors["email"] = _("No account uses this email.")
    if errors or target is None:
        raise InvalidInput(errors)
    async with StaffRole._meta.db.transaction():
        query = StaffRole.exists().where((StaffRole.user == target["id"]) & (StaffRole.role == role))
        if role == "official":
            query = query.where(StaffRole.bureau == bureau_id)
        if not await query.run():
            await StaffRole.insert(
                StaffRole(
                    user=target["id"],
                    role=role,
                    bureau=bureau_id if role == "official" else None,
                    granted_at=now,
                )
            ).run()
    forget_viewer(target["id"])
