"""Who may do what with accounts, organizations and bureaus. Every rule of this feature lives here."""

from __future__ import annotations

from app.accounts.viewer import Viewer
from app.settings import OIDCProvider


def can_sign_up(user: Viewer | None) -> bool:
    """Only someone not signed in creates a new account."""
    return user is None


def can_create_organization(user: Viewer | None) -> bool:
    """Any signed-in user may register a startup (they become its owner)."""
    return user is not None


def can_view_organization(user: Viewer | None, organization_id: int) -> bool:
    """Members see their organization's page; admins see every one (officials see applicants later)."""
    if user is None:
        return False
    return organization_id in user.memberships or user.is_admin


def can_manage_members(user: Viewer | None, organization_id: int) -> bool:
    """Owners invite and manage members; admins may help."""
    if user is None:
        return False
    return user.memberships.get(organization_id) == "owner" or user.is_admin


def can_accept_invitation(user: Viewer | None, invited_email: str) -> bool:
    """Only the person the invitation was addressed to (signed in with that email) may accept it."""
    return user is not None and user.email == invited_email.lower()


def can_manage_bureaus(user: Viewer | None) -> bool:
    """Bureaus and their officials are managed by admins only."""
    return user is not None and user.is_admin


def can_act_for_bureau(user: Viewer | None, bureau_id: int) -> bool:
    """Officials of the bureau, and admins, act in its name."""
    if user is None:
        return False
    return bureau_id in user.official_bureau_ids or user.is_admin


def can_link_identity(user: Viewer | None) -> bool:
    """Any signed-in user may link an identity-provider account to their own account."""
    return user is not None


def can_unlink_identity(
    user: Viewer | None, identity_owner_id: int, has_password: bool, identity_count: int
) -> bool:
    """Only the owner unlinks, and never the last way to sign in (no password and one identity)."""
    if user is None or user.id != identity_owner_id:
        return False
    return has_password or identity_count > 1


def email_domain_allowed(provider: OIDCProvider, email: str) -> bool:
    """A provider's allowed domains bound who may sign up through it; a staff provider must list them."""
    domain = email.rpartition("@")[2].lower()
    if not domain or "@" not in email:
        return False
    if not provider.allowed_domains:
        return not provider.staff
    return domain in provider.allowed_domains


def first_sign_in_role(provider: OIDCProvider, email: str) -> str:
    """The role a new account gets: official or judge only from a staff provider for an allowed domain."""
    staff_role = provider.role in {"official", "judge"} and provider.staff and provider.allowed_domains
    return provider.role if staff_role and email_domain_allowed(provider, email) else "member"
