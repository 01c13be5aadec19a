"""Who may do what with accounts, organizations and bureaus. Every rule of this feature lives here."""

from __future__ import annotations

from app.accounts.viewer import Viewer


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
