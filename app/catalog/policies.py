"""Who may write catalogue entries, approve them, record and confirm adoptions, and manage municipalities.

Acting for a municipality needs a MunicipalityMember grant (an admin's decision): `municipalities` below is
the set of municipality ids the user acts for, loaded by the caller (see services.member_municipalities).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from app.accounts.policies import can_act_for_bureau
from app.accounts.viewer import Viewer
from app.challenges.lifecycle import ChallengeFacts


@dataclass(frozen=True)
class OutputFacts:
    """What policies need to know about a catalogue entry."""

    id: int
    status: str  # draft, in_review or published
    created_by: int
    maintainer_organization_id: int | None


def can_create_output(user: Viewer | None) -> bool:
    """Officials, admins and members of an organization (a maintainer) write catalogue entries."""
    return user is not None and (user.is_official or user.is_admin or bool(user.memberships))


def can_edit_output(user: Viewer | None, output: OutputFacts) -> bool:
    """Its author, the maintainer organization's members, officials and admins keep an entry current."""
    if user is None:
        return False
    maintainer = (
        output.maintainer_organization_id is not None
        and output.maintainer_organization_id in user.memberships
    )
    return user.id == output.created_by or maintainer or user.is_official or user.is_admin


def can_view_output(user: Viewer | None, output: OutputFacts) -> bool:
    """Everyone sees a published entry; a draft only those who may edit it (others get 404)."""
    return output.status == "published" or can_edit_output(user, output)


def can_approve_output(user: Viewer | None, output: OutputFacts) -> bool:
    """An official (or admin) other than its author publishes an entry in review."""
    return (
        user is not None
        and (user.is_official or user.is_admin)
        and user.id != output.created_by
        and output.status == "in_review"
    )


def may_record_adoptions(user: Viewer | None, municipalities: Collection[int]) -> bool:
    """Only officials of some municipality record adoptions at all (asked before the form is read)."""
    return user is not None and bool(municipalities)


def can_record_adoption(user: Viewer | None, municipalities: Collection[int], municipality_id: int) -> bool:
    """Only an official of that municipality says what it did with an output."""
    return user is not None and municipality_id in municipalities


def can_confirm_adoption(user: Viewer | None, output: OutputFacts) -> bool:
    """The maintainer confirms an adoption (the author if no organization maintains it), or an admin."""
    if user is None:
        return False
    if user.is_admin:
        return True
    if output.maintainer_organization_id is not None:
        return output.maintainer_organization_id in user.memberships
    return user.id == output.created_by


def can_mark_shared_problem(user: Viewer | None, municipalities: Collection[int]) -> bool:
    """Any municipality's official says 同じ課題があります about a published challenge."""
    return user is not None and bool(municipalities)


def can_manage_municipalities(user: Viewer | None) -> bool:
    """Admins import the national list and grant municipality officials."""
    return user is not None and user.is_admin


def can_manage_collaboration(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The owning bureau's officials record a collaboration's progress."""
    return can_act_for_bureau(user, challenge.bureau_id)
