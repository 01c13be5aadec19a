"""Identities at OpenID Connect providers: sign in with one, create or link an account, unlink."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts import policies
from app.accounts.oidc import OIDCFailure
from app.accounts.services import normalize_email
from app.accounts.tables import Bureau, Identity, StaffRole, User
from app.accounts.viewer import Viewer, forget_viewer
from app.settings import OIDCProvider
from app.web.i18n import LOCALES

# A link address (with its signed user id) is good for an hour.
LINK_TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class ProviderAccount:
    """Who the provider says signed in, from the verified ID token (and userinfo)."""

    provider_id: str
    issuer: str
    subject: str
    email: str
    email_verified: bool
    display_name: str

    @classmethod
    def from_claims(cls, provider: OIDCProvider, issuer: str, claims: dict[str, Any]) -> ProviderAccount:
        """Read the standard claims; an email counts as verified only when the provider says so."""
        email = normalize_email(str(claims.get("email") or ""))
        verified = claims.get("email_verified") in (True, "true")
        name = str(claims.get("name") or claims.get("preferred_username") or email.split("@")[0] or "")
        return cls(provider.id, issuer, str(claims["sub"]), email, verified, name.strip()[:100])


@dataclass(frozen=True)
class SignedIn:
    """The identity belongs to this user (now signed in)."""

    user_id: int
    created: bool = False


@dataclass(frozen=True)
class ConfirmLink:
    """An account with the same verified email exists: its owner must prove it before the link is made."""

    user_id: int


def pair_key(issuer: str, subject: str) -> str:
    """The unique key of an identity: one user per (issuer, subject)."""
    return hashlib.sha256(f"{issuer}\x00{subject}".encode()).hexdigest()


def link_serializer(secret_key: str) -> URLSafeTimedSerializer:
    """Signs the user id into "link an identity" addresses, so another site cannot start a link for you."""
    return URLSafeTimedSerializer(secret_key, salt="kyoso.oidc.link")


def link_start_path(secret_key: str, provider_id: str, user_id: int) -> str:
    """The address that starts linking `provider` to the signed-in user's account."""
    token = link_serializer(secret_key).dumps(user_id)
    return f"/oidc/{provider_id}/start?purpose=link&token={token}"


async def identity_owner(issuer: str, subject: str) -> int | None:
    """The user this identity is linked to, if any."""
    row = (
        await Identity.select(Identity.user)
        .where(Identity.one_per_subject == pair_key(issuer, subject))
        .first()
        .run()
    )
    return int(row["user"]) if row else None


async def sign_in_with_identity(
    provider: OIDCProvider, account: ProviderAccount, *, locale: str, now: datetime
) -> SignedIn | ConfirmLink:
    """The user behind a provider account: the linked one, or a new one; never silently someone else's.

    Raises:
        OIDCFailure: inactive account, no email, email domain not allowed, or an email already in use
            without verification.
    """
    owner = await identity_owner(account.issuer, account.subject)
    if owner is not None:
        active = await User.exists().where((User.id == owner) & (User.is_active == True)).run()  # noqa: E712 (Piccolo SQL)
        if not active:
            raise OIDCFailure(OIDCFailure.INACTIVE, f"user {owner} is deactivated")
        await (
            Identity.update({Identity.last_used_at: now, Identity.email: account.email})
            .where(Identity.one_per_subject == pair_key(account.issuer, account.subject))
            .run()
        )
        return SignedIn(owner)
    if not account.email:
        raise OIDCFailure(OIDCFailure.NO_EMAIL, f"{provider.id} sent no email for {account.subject}")
    if not policies.email_domain_allowed(provider, account.email):
        raise OIDCFailure(OIDCFailure.DOMAIN, f"{account.email} is not allowed for {provider.id}")
    existing = await User.select(User.id).where(User.email == account.email).first().run()
    if existing is not None:
        if account.email_verified:
            return ConfirmLink(int(existing["id"]))
        raise OIDCFailure(OIDCFailure.EMAIL_TAKEN, f"unverified {account.email} belongs to an account")
    return SignedIn(await create_user(provider, account, locale=locale, now=now), created=True)


async def create_user(provider: OIDCProvider, account: ProviderAccount, *, locale: str, now: datetime) -> int:
    """Create the user, its identity and its first role in one transaction."""
    role = policies.first_sign_in_role(provider, account.email)
    bureau_id: int | None = None
    if role == "official":
        bureau = await Bureau.select(Bureau.id).where(Bureau.slug == provider.bureau).first().run()
        if bureau is None:
            raise OIDCFailure(OIDCFailure.CONFIGURATION, f"{provider.id}: no bureau {provider.bureau!r}")
        bureau_id = int(bureau["id"])
    async with User._meta.db.transaction():
        rows = await User.insert(
            User(
                email=account.email,
                display_name=account.display_name or account.email.split("@")[0],
                locale=locale if locale in LOCALES else "ja",
                password_hash=None,
                created_at=now,
                email_verified_at=now if account.email_verified else None,
            )
        ).run()
        user_id = int(rows[0]["id"])
        await insert_identity(user_id, account, now=now)
        if role in {"official", "judge"}:
            await StaffRole.insert(StaffRole(user=user_id, role=role, bureau=bureau_id, granted_at=now)).run()
    return user_id


async def insert_identity(user_id: int, account: ProviderAccount, *, now: datetime) -> None:
    """Record the identity for `user_id` (the unique key refuses a second owner)."""
    await Identity.insert(
        Identity(
            user=user_id,
            provider=account.provider_id,
            issuer=account.issuer,
            subject=account.subject,
            one_per_subject=pair_key(account.issuer, account.subject),
            email=account.email,
            linked_at=now,
            last_used_at=now,
        )
    ).run()


async def link_identity(user_id: int, account: ProviderAccount, *, now: datetime) -> bool:
    """Link the identity to `user_id`; False when it already was.

    Raises:
        OIDCFailure: the identity belongs to another account.
    """
    async with Identity._meta.db.transaction():
        owner = await identity_owner(account.issuer, account.subject)
        if owner == user_id:
            return False
        if owner is not None:
            raise OIDCFailure(OIDCFailure.IDENTITY_TAKEN, f"identity of {owner} offered to {user_id}")
        await insert_identity(user_id, account, now=now)
    forget_viewer(user_id)
    return True


async def identities_of(user_id: int) -> list[dict[str, Any]]:
    """The user's linked identities, oldest first."""
    rows: list[dict[str, Any]] = (
        await Identity.select(
            Identity.id, Identity.provider, Identity.email, Identity.linked_at, Identity.last_used_at
        )
        .where(Identity.user == user_id)
        .order_by(Identity.linked_at)
        .run()
    )
    return rows


async def has_password(user_id: int) -> bool:
    """Whether the user can also sign in with a password."""
    row = await User.select(User.password_hash).where(User.id == user_id).first().run()
    return bool(row and row["password_hash"])


async def unlink_identity(user: Viewer | None, identity_id: int) -> None:
    """Remove one of the user's identities, unless it is their last way to sign in.

    Raises:
        NotFoundException: no such identity of this user.
        PermissionDeniedException: it is the last way to sign in.
    """
    if user is None:
        raise NotFoundException
    async with Identity._meta.db.transaction():
        row = await Identity.select(Identity.user).where(Identity.id == identity_id).first().run()
        if row is None or row["user"] != user.id:
            raise NotFoundException
        count = await Identity.count().where(Identity.user == user.id).run()
        if not policies.can_unlink_identity(user, int(row["user"]), await has_password(user.id), count):
            raise PermissionDeniedException
        await Identity.delete().where(Identity.id == identity_id).run()
