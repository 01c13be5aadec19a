"""An application is confidential: outsiders get 404 for every page and action of someone else's draft."""

from __future__ import annotations

import pytest

from app.submissions.tables import Submission
from tests.submissions.factories import Contest, add_field, make_contest
from tests.support.client import WebClient
from tests.support.people import make_bureau, make_organization, make_user
from tests.support.queries import assert_query_budget, count_queries


@pytest.fixture
async def draft(client: WebClient) -> tuple[Contest, int]:
    """A contest and the founder's draft with a saved summary."""
    contest = await make_contest()
    await client.sign_in(contest.founder.email, contest.founder.password)
    started = await client.post(
        f"/challenges/{contest.slug}/apply", {"organization": str(contest.organization_id)}
    )
    submission_id = int(started.headers["location"].rsplit("/", 1)[1])
    await client.post(
        f"/submissions/{submission_id}/answers/summary",
        {"answer-summary": "秘密の提案", "revision-summary": "0"},
        htmx=True,
    )
    await client.sign_out()
    return contest, submission_id


async def outsider(role: str) -> tuple[str, str]:
    """Sign-in credentials of someone who must not see the draft."""
    if role == "other_startup":
        person = await make_user("rival@startup.example")
        await make_organization(person, base_digits="020401234567")
    elif role == "other_bureau_official":
        person = await make_user("port@city.example.jp", role="official", bureau_id=await make_bureau("port"))
    else:
        person = await make_user("judge@example.jp", role="judge")
    return person.email, person.password


@pytest.mark.parametrize("role", ["other_startup", "other_bureau_official", "judge"])
async def test_outsiders_get_404_for_every_page_and_action(
    client: WebClient, draft: tuple[Contest, int], role: str
) -> None:
    """Pages, autosave, team, consent, upload, submit, withdraw, receipt, print: 404, and nothing changes."""
    contest, submission_id = draft
    email, password = await outsider(role)
    await client.sign_in(email, password)
    base = f"/submissions/{submission_id}"
    for path in (base, f"{base}/receipt", f"{base}/print", f"{base}/files/1/deck.pdf"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "秘密の提案" not in response.text
    writes = {
        base: {"answer-summary": "改ざん", "revision-summary": "1"},
        f"{base}/answers/summary": {"answer-summary": "改ざん", "revision-summary": "1"},
        f"{base}/team": {"team": "1"},
        f"{base}/consents/0": {"consent-0": "1"},
        f"{base}/files/{contest.fields['deck']}": {},
        f"{base}/submit": {},
        f"{base}/withdraw": {"reason": "いたずら"},
    }
    for path, data in writes.items():
        assert (await client.post(path, data)).status_code == 404, path
    row = await Submission.select(Submission.summary, Submission.status).first().run()
    assert row == {"summary": "秘密の提案", "status": "draft"}


async def test_anonymous_visitors_are_sent_to_sign_in(client: WebClient, draft: tuple[Contest, int]) -> None:
    """No page of an application is public."""
    _, submission_id = draft
    for path in (f"/submissions/{submission_id}", "/my/applications", "/challenges/smart-city/apply"):
        response = await client.get(path)
        assert response.status_code in (302, 303, 401), path
        assert "秘密の提案" not in response.text


async def test_a_colleague_and_the_bureau_may_read_it(
    client: WebClient, other_client: WebClient, draft: tuple[Contest, int]
) -> None:
    """A member of the organization edits it; the bureau's official reads it but cannot edit it."""
    contest, submission_id = draft
    await client.sign_in(contest.colleague.email, contest.colleague.password)
    assert "秘密の提案" in (await client.get(f"/submissions/{submission_id}")).text
    await other_client.sign_in(contest.official.email, contest.official.password)
    page = await other_client.get(f"/submissions/{submission_id}")
    assert page.status_code == 200
    assert (
        "hx-post" not in page.text.split('id="draft-form"')[1].split("</form>")[0]
    )  # read-only for the bureau
    refused = await other_client.post(
        f"/submissions/{submission_id}/answers/summary",
        {"answer-summary": "x", "revision-summary": "1"},
        htmx=True,
    )
    assert refused.status_code == 403  # may read, may not change: refused before the form is looked at
    assert (await other_client.post(f"/submissions/{submission_id}", {})).status_code == 403
    assert (
        await other_client.post(f"/submissions/{submission_id}/withdraw", {"reason": "x"})
    ).status_code == 403


async def test_only_members_can_start_an_application_for_an_organization(client: WebClient) -> None:
    """Applying in the name of someone else's organization is refused."""
    contest = await make_contest()
    rival = await make_user("rival@startup.example")
    await make_organization(rival, base_digits="020401234567")
    await client.sign_in(rival.email, rival.password)
    refused = await client.post(
        f"/challenges/{contest.slug}/apply", {"organization": str(contest.organization_id)}
    )
    assert refused.status_code == 422
    assert await Submission.count().run() == 0


async def test_someone_without_an_organization_cannot_apply(client: WebClient) -> None:
    """A judge (or official) belongs to no organization: refused (403) whatever the form says."""
    contest = await make_contest()
    judge = await make_user("judge@jury.example", role="judge")
    await client.sign_in(judge.email, judge.password)
    refused = await client.post(
        f"/challenges/{contest.slug}/apply", {"organization": str(contest.organization_id)}
    )
    assert refused.status_code == 403
    assert await Submission.count().run() == 0


async def test_draft_page_query_budget_does_not_grow_with_the_form(
    client: WebClient, draft: tuple[Contest, int]
) -> None:
    """The draft page runs a fixed number of queries whatever the number of fields."""
    contest, submission_id = draft
    await client.sign_in(contest.founder.email, contest.founder.password)
    with count_queries() as counted:
        assert (await client.get(f"/submissions/{submission_id}")).status_code == 200
    # viewer, facts, submission, challenge, fields, answers, files, members, team, consents, org, latest
    assert_query_budget(counted, 12)
    for position in range(10, 30):
        await add_field(contest.challenge_id, "short_text", f"質問{position}", position=position)
    with count_queries() as more:
        assert (await client.get(f"/submissions/{submission_id}")).status_code == 200
    assert_query_budget(more, 12)
