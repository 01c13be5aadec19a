"""Challenge policies with the people each must refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.viewer import Viewer
from app.challenges import policies
from app.challenges.lifecycle import ChallengeFacts, Status

NOW = datetime(2026, 12, 1, tzinfo=UTC)
BUREAU = 1
AUTHOR = Viewer(id=10, email="a@x.jp", display_name="a", locale="ja", official_bureau_ids=frozenset({BUREAU}))
COLLEAGUE = Viewer(
    id=11, email="b@x.jp", display_name="b", locale="ja", official_bureau_ids=frozenset({BUREAU})
)
OTHER_BUREAU = Viewer(
    id=12, email="c@x.jp", display_name="c", locale="ja", official_bureau_ids=frozenset({2})
)
ADMIN = Viewer(id=13, email="d@x.jp", display_name="d", locale="ja", is_admin=True)
STARTUP = Viewer(id=14, email="e@x.jp", display_name="e", locale="ja", memberships={5: "owner"})
JUDGE = Viewer(id=15, email="f@x.jp", display_name="f", locale="ja", is_judge=True)


def challenge(status: Status, close_in: timedelta = timedelta(days=5)) -> ChallengeFacts:
    """A challenge of BUREAU written by AUTHOR."""
    return ChallengeFacts(
        id=1, bureau_id=BUREAU, status=status, author_id=AUTHOR.id, applications_close_at=NOW + close_in
    )


def test_two_person_rule() -> None:
    in_review = challenge(Status.IN_REVIEW)
    assert policies.can_approve_challenge(COLLEAGUE, in_review)
    assert policies.can_approve_challenge(ADMIN, in_review)
    for refused in (AUTHOR, OTHER_BUREAU, STARTUP, JUDGE, None):
        assert not policies.can_approve_challenge(refused, in_review)
        assert not policies.can_request_changes(refused, in_review)
    assert not policies.can_approve_challenge(COLLEAGUE, challenge(Status.DRAFT))


@pytest.mark.parametrize("status", [Status.DRAFT, Status.IN_REVIEW])
def test_unpublished_only_for_the_bureau(status: Status) -> None:
    hidden = challenge(status)
    assert policies.can_view_challenge(AUTHOR, hidden)
    assert policies.can_view_challenge(COLLEAGUE, hidden)
    assert policies.can_view_challenge(ADMIN, hidden)
    for refused in (OTHER_BUREAU, STARTUP, JUDGE, None):
        assert not policies.can_view_challenge(refused, hidden)


def test_published_for_everyone() -> None:
    for anyone in (AUTHOR, OTHER_BUREAU, STARTUP, JUDGE, None):
        assert policies.can_view_challenge(anyone, challenge(Status.PUBLISHED))


def test_editing() -> None:
    assert policies.can_edit_challenge(AUTHOR, challenge(Status.DRAFT))
    assert policies.can_edit_challenge(COLLEAGUE, challenge(Status.PUBLISHED))
    assert not policies.can_edit_challenge(AUTHOR, challenge(Status.IN_REVIEW))
    assert not policies.can_edit_challenge(AUTHOR, challenge(Status.ARCHIVED))
    for refused in (OTHER_BUREAU, STARTUP, JUDGE, None):
        assert not policies.can_edit_challenge(refused, challenge(Status.DRAFT))
    assert policies.can_create_challenge(AUTHOR, BUREAU)
    assert not policies.can_create_challenge(OTHER_BUREAU, BUREAU)
    assert not policies.can_create_challenge(STARTUP, BUREAU)


def test_questions() -> None:
    open_challenge = challenge(Status.PUBLISHED)
    assert policies.can_ask_question(STARTUP, open_challenge, NOW)
    for refused in (None, JUDGE, AUTHOR):
        assert not policies.can_ask_question(refused, open_challenge, NOW)
    assert not policies.can_ask_question(STARTUP, challenge(Status.PUBLISHED, timedelta(seconds=-1)), NOW)
    assert not policies.can_ask_question(STARTUP, challenge(Status.DRAFT), NOW)
    assert policies.can_answer_question(COLLEAGUE, open_challenge)
    for refused in (OTHER_BUREAU, STARTUP, JUDGE, None):
        assert not policies.can_answer_question(refused, open_challenge)


def test_authoring_pages_are_for_officials_and_admins() -> None:
    for allowed in (AUTHOR, OTHER_BUREAU, ADMIN):
        assert policies.can_author_challenges(allowed)
    for refused in (STARTUP, JUDGE, None):
        assert not policies.can_author_challenges(refused)


def test_only_admins_move_a_challenge_to_another_bureau() -> None:
    draft = challenge(Status.DRAFT)
    assert policies.can_move_challenge(AUTHOR, draft, BUREAU)
    assert policies.can_move_challenge(ADMIN, draft, BUREAU + 1)
    for refused in (AUTHOR, COLLEAGUE, OTHER_BUREAU, None):
        assert not policies.can_move_challenge(refused, draft, BUREAU + 1)
