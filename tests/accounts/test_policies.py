"""Account policies: each rule with the people it must refuse."""

from __future__ import annotations

from app.accounts import policies
from app.accounts.viewer import Viewer

ORG = 7
BUREAU = 3


def person(**roles: object) -> Viewer:
    """A viewer with the given roles."""
    return Viewer(id=1, email="p@example.jp", display_name="p", locale="ja", **roles)  # type: ignore[arg-type]


OWNER = person(memberships={ORG: "owner"})
MEMBER = person(memberships={ORG: "member"})
OUTSIDER = person(memberships={99: "owner"})
OFFICIAL = person(official_bureau_ids=frozenset({BUREAU}))
OTHER_OFFICIAL = person(official_bureau_ids=frozenset({BUREAU + 1}))
JUDGE = person(is_judge=True)
ADMIN = person(is_admin=True)


def test_only_visitors_sign_up() -> None:
    assert policies.can_sign_up(None)
    assert not policies.can_sign_up(MEMBER)


def test_creating_an_organization_needs_an_account() -> None:
    assert policies.can_create_organization(OUTSIDER)
    assert not policies.can_create_organization(None)


def test_organization_page_is_for_members_and_admins() -> None:
    assert policies.can_view_organization(OWNER, ORG)
    assert policies.can_view_organization(MEMBER, ORG)
    assert policies.can_view_organization(ADMIN, ORG)
    for refused in (None, OUTSIDER, OFFICIAL, JUDGE):
        assert not policies.can_view_organization(refused, ORG)


def test_only_owners_and_admins_manage_members() -> None:
    assert policies.can_manage_members(OWNER, ORG)
    assert policies.can_manage_members(ADMIN, ORG)
    for refused in (None, MEMBER, OUTSIDER, OFFICIAL, JUDGE):
        assert not policies.can_manage_members(refused, ORG)


def test_only_the_invited_person_accepts() -> None:
    assert policies.can_accept_invitation(MEMBER, "P@example.jp")
    assert not policies.can_accept_invitation(MEMBER, "someone@example.jp")
    assert not policies.can_accept_invitation(None, "p@example.jp")


def test_bureaus_are_managed_by_admins_only() -> None:
    assert policies.can_manage_bureaus(ADMIN)
    for refused in (None, OFFICIAL, JUDGE, OWNER):
        assert not policies.can_manage_bureaus(refused)


def test_officials_act_for_their_own_bureau_only() -> None:
    assert policies.can_act_for_bureau(OFFICIAL, BUREAU)
    assert policies.can_act_for_bureau(ADMIN, BUREAU)
    for refused in (None, OTHER_OFFICIAL, JUDGE, OWNER):
        assert not policies.can_act_for_bureau(refused, BUREAU)
