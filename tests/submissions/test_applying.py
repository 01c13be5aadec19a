"""A startup applies: draft, autosave without overwrites, upload, submit, receipt, resubmit, withdraw."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.challenges.tables import Challenge
from app.clock import utcnow
from app.notifications.tables import Notification
from app.submissions.tables import Consent, Submission, SubmissionVersion
from tests.submissions.factories import Contest, make_contest, pdf_bytes
from tests.support.client import WebClient


@pytest.fixture
async def contest(client: WebClient) -> Contest:
    """An open challenge with a form of every kind (the client fixture gives a fresh database)."""
    return await make_contest()


async def start(client: WebClient, contest: Contest) -> int:
    """Sign the founder in and open the organization's draft; returns its id."""
    await client.sign_in(contest.founder.email, contest.founder.password)
    response = await client.post(
        f"/challenges/{contest.slug}/apply", {"organization": str(contest.organization_id)}
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def autosave(
    client: WebClient, submission_id: int, key: str, value: str | list[str], revision: int
) -> int:
    """Save one answer the way the page's HTMX does; returns the status code."""
    data: dict[str, object] = {f"revision-{key}": str(revision)}
    if isinstance(value, list):
        data[f"answer-{key}[]"] = value
        data[f"present-{key}[]"] = "1"
    else:
        data[f"answer-{key}"] = value
    response = await client.post(f"/submissions/{submission_id}/answers/{key}", data, htmx=True)
    return response.status_code


async def fill_everything(client: WebClient, contest: Contest, submission_id: int) -> None:
    """Answer every required question, confirm eligibility and upload the deck."""
    fields = contest.fields
    assert await autosave(client, submission_id, "summary", "都庁の課題を解決します。", 0) == 200
    assert (
        await autosave(client, submission_id, str(fields["pitch"]), "防災\r\n情報を𠮷野家のように届けます", 0)
        == 200
    )
    assert await autosave(client, submission_id, str(fields["employees"]), "１２", 0) == 200
    assert await autosave(client, submission_id, str(fields["office"]), "0", 0) == 200
    consent = await client.post(f"/submissions/{submission_id}/consents/0", {"consent-0": "1"}, htmx=True)
    assert consent.status_code == 200
    upload = await client.http.post(
        f"/submissions/{submission_id}/files/{fields['deck']}",
        data={"_csrf_token": await client.csrf_token()},
        files={"file": ("pitch deck.pdf", pdf_bytes(3), "application/pdf")},
    )
    assert upload.status_code == 303, upload.text


async def test_the_whole_application_and_its_receipt(client: WebClient, contest: Contest) -> None:
    """Draft → answers saved → submit → receipt number on the page, by email and in the app."""
    submission_id = await start(client, contest)
    page = await client.get(f"/submissions/{submission_id}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    await fill_everything(client, contest, submission_id)
    reloaded = (await client.get(f"/submissions/{submission_id}")).text
    assert "都庁の課題を解決します。" in reloaded  # a reload shows exactly what was saved
    assert "pitch deck.pdf" in reloaded
    submitted = await client.post(f"/submissions/{submission_id}/submit")
    assert submitted.status_code == 303, submitted.text
    receipt = await client.get(submitted.headers["location"])
    row = await Submission.select(Submission.receipt_number, Submission.status).first().run()
    assert row["status"] == "submitted"
    assert row["receipt_number"].startswith("KY-20")
    assert row["receipt_number"].endswith("-0001")
    assert row["receipt_number"] in receipt.text
    message = await Notification.select(Notification.kind, Notification.user).first().run()
    assert message == {"kind": "submission_received", "user": contest.founder.id}
    version = await SubmissionVersion.select(SubmissionVersion.content).first().output(load_json=True).run()
    assert version["content"]["files"][0]["pages"] == 3
    assert version["content"]["consents"][0]["user"] == contest.founder.id


async def test_submitting_lists_every_missing_answer_at_once(client: WebClient, contest: Contest) -> None:
    """Nothing answered: summary, each required field, the file and the condition are all named."""
    submission_id = await start(client, contest)
    refused = await client.post(f"/submissions/{submission_id}/submit")
    assert refused.status_code == 422
    for anchor in (
        "summary-error",
        f"field-{contest.fields['pitch']}-error",
        f"file-{contest.fields['deck']}-error",
    ):
        assert f'id="{anchor}"' in refused.text, anchor
    assert await SubmissionVersion.count().run() == 0


async def test_a_stale_save_gets_409_and_nothing_is_overwritten(
    client: WebClient, other_client: WebClient, contest: Contest
) -> None:
    """Two members edit at once: the second save based on an old revision is refused with the text kept."""
    submission_id = await start(client, contest)
    await other_client.sign_in(contest.colleague.email, contest.colleague.password)
    assert await autosave(client, submission_id, "summary", "創業者の案", 0) == 200
    conflict = await other_client.post(
        f"/submissions/{submission_id}/answers/summary",
        {"answer-summary": "同僚の案", "revision-summary": "0"},
        htmx=True,
    )
    assert conflict.status_code == 409
    assert "同僚の案" in conflict.text  # the unsaved text is shown so it can be copied
    assert (await Submission.select(Submission.summary).first().run())["summary"] == "創業者の案"


async def test_deadline_is_checked_at_the_moment_of_the_write(client: WebClient) -> None:
    """A challenge whose deadline passed refuses saves and submits with a clear message."""
    contest = await make_contest(close_in=timedelta(days=10))
    submission_id = await start(client, contest)
    await fill_everything(client, contest, submission_id)
    closed = {Challenge.applications_close_at: utcnow() - timedelta(milliseconds=1)}
    await Challenge.update(closed).where(Challenge.id == contest.challenge_id).run()
    late = await client.post(f"/submissions/{submission_id}/submit")
    assert late.status_code == 422
    assert "締切を過ぎました" in late.text
    assert await autosave(client, submission_id, "summary", "遅すぎた編集", 1) == 422
    assert await SubmissionVersion.count().run() == 0


async def test_double_submit_makes_one_version_and_resubmit_keeps_both(
    client: WebClient, contest: Contest
) -> None:
    """Submitting twice without a change keeps one version; a change and a resubmit add version 2."""
    submission_id = await start(client, contest)
    await fill_everything(client, contest, submission_id)
    await client.post(f"/submissions/{submission_id}/submit")
    await client.post(f"/submissions/{submission_id}/submit")
    assert await SubmissionVersion.count().run() == 1
    assert await autosave(client, submission_id, "summary", "改訂版の概要", 1) == 200
    await client.post(f"/submissions/{submission_id}/submit")
    versions = (
        await SubmissionVersion.select(SubmissionVersion.number).order_by(SubmissionVersion.number).run()
    )
    assert [row["number"] for row in versions] == [1, 2]
    receipts = await Submission.select(Submission.receipt_number).run()
    assert len(receipts) == 1  # the receipt number stays the same across versions


async def test_withdraw_needs_a_reason_and_frees_the_slot(client: WebClient, contest: Contest) -> None:
    """Withdrawing keeps the row; the organization may then start a new application."""
    submission_id = await start(client, contest)
    assert (await client.post(f"/submissions/{submission_id}/withdraw", {"reason": " "})).status_code == 422
    done = await client.post(f"/submissions/{submission_id}/withdraw", {"reason": "体制が整わないため"})
    assert done.status_code == 303
    again = await client.post(
        f"/challenges/{contest.slug}/apply", {"organization": str(contest.organization_id)}
    )
    assert again.status_code == 303
    assert await Submission.count().run() == 2
    statuses = sorted(row["status"] for row in await Submission.select(Submission.status).run())
    assert statuses == ["draft", "withdrawn"]


async def test_consent_records_who_when_and_from_where(client: WebClient, contest: Contest) -> None:
    """Electronic consent replaces the seal: the account, the time and the address are kept."""
    submission_id = await start(client, contest)
    await client.post(f"/submissions/{submission_id}/consents/0", {"consent-0": "1"}, htmx=True)
    row = await Consent.select().first().run()
    assert row["user"] == contest.founder.id
    assert row["condition_text"] == "設立10年以内の法人"
    assert row["client_address"]
    assert row["confirmed_at"] is not None
