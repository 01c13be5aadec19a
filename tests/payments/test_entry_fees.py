"""Entry fees: a submission with a fee counts as submitted once paid or waived; the after-deadline rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from piccolo.engine.base import Engine

from app.challenges.tables import Challenge
from app.clock import utcnow
from app.payments.tables import FeeWaiver, Payment
from app.submissions.tables import Submission, SubmissionVersion
from tests.payments.flows import deliver, intent_of, pay, wait_for
from tests.submissions.factories import Contest, make_contest
from tests.submissions.test_applying import fill_everything, start
from tests.support.client import WebClient
from tests.support.stripe import LocalStripe, WebhookInbox


@pytest.fixture
async def contest(database: Engine) -> Contest:  # type: ignore[type-arg]
    """An open challenge with a form."""
    return await make_contest()


async def set_fee(client: WebClient, contest: Contest, amount: str, codes: str = "0") -> None:
    """The official sets the entry fee through the pitch-day page's form."""
    await client.sign_in(contest.official.email, contest.official.password)
    response = await client.post(
        f"/challenges/{contest.slug}/entry-fee", {"amount_jpy": amount, "waiver_codes": codes}
    )
    assert response.status_code == 303, response.text


async def submitted_draft(client: WebClient, contest: Contest) -> int:
    """The founder fills in and presses Submit; returns the submission id."""
    submission_id = await start(client, contest)
    await fill_everything(client, contest, submission_id)
    assert (await client.post(f"/submissions/{submission_id}/submit")).status_code == 303
    return submission_id


async def status_of(submission_id: int) -> str:
    """The submission's stored status."""
    row = await Submission.select(Submission.status).where(Submission.id == submission_id).first().run()
    assert row is not None
    return str(row["status"])


async def test_without_a_fee_submitting_works_as_before(pay_client: WebClient, contest: Contest) -> None:
    submission_id = await submitted_draft(pay_client, contest)
    assert await status_of(submission_id) == "submitted"


async def test_an_unpaid_fee_keeps_it_a_draft_until_the_webhook_even_after_the_deadline(
    pay_client: WebClient,
    official_client: WebClient,
    contest: Contest,
    stripe: LocalStripe,
    inbox: WebhookInbox,
) -> None:
    await set_fee(official_client, contest, "5000")
    submission_id = await submitted_draft(pay_client, contest)
    row = await Submission.select().where(Submission.id == submission_id).first().run()
    assert row is not None
    assert row["status"] == "draft"
    assert row["receipt_number"]
    page = await pay_client.get(f"/payments/entry/{submission_id}")
    assert "¥5,000" in page.text
    assert "counts as submitted only once the fee is paid" in page.text

    started = await pay_client.post(f"/payments/entry/{submission_id}/pay")
    assert started.status_code == 303
    payment_id = int(started.headers["location"].split("/")[2])
    assert (await pay(pay_client, stripe, payment_id, "4242424242424242")).status_code == 200
    delivery = await wait_for(inbox, "payment_intent.succeeded", await intent_of(payment_id))

    # The deadline passes (1 ms after Submit was pressed) before Stripe's confirmation arrives: it counts.
    version = await SubmissionVersion.select(SubmissionVersion.submitted_at).first().run()
    assert version is not None
    await (
        Challenge.update(
            {Challenge.applications_close_at: version["submitted_at"] + timedelta(milliseconds=1)}
        )
        .where(Challenge.id == contest.challenge_id)
        .run()
    )
    assert await status_of(submission_id) == "draft"
    assert (await deliver(pay_client, delivery)).status_code == 200
    assert await status_of(submission_id) == "submitted"
    assert "The entry fee is settled." in (await pay_client.get(f"/payments/entry/{submission_id}")).text


async def test_a_payment_cannot_be_started_after_the_deadline(
    pay_client: WebClient, official_client: WebClient, contest: Contest
) -> None:
    await set_fee(official_client, contest, "5000")
    submission_id = await submitted_draft(pay_client, contest)
    await (
        Challenge.update({Challenge.applications_close_at: utcnow() - timedelta(minutes=1)})
        .where(Challenge.id == contest.challenge_id)
        .run()
    )
    late = await pay_client.post(f"/payments/entry/{submission_id}/pay")
    assert late.status_code == 422
    assert "The entry fee can no longer be paid: the deadline has passed." in late.text
    assert await Payment.count().run() == 0
    assert await status_of(submission_id) == "draft"


async def test_a_waiver_code_settles_the_fee_once(
    pay_client: WebClient, official_client: WebClient, contest: Contest
) -> None:
    await set_fee(official_client, contest, "5000", codes="1")
    waiver = await FeeWaiver.select().first().run()
    assert waiver is not None
    submission_id = await submitted_draft(pay_client, contest)
    wrong = await pay_client.post(f"/payments/entry/{submission_id}/waiver", {"code": "NOT-A-CODE"})
    assert wrong.status_code == 422
    assert "This waiver code is not valid for this challenge or was already used." in wrong.text
    assert await status_of(submission_id) == "draft"
    used = await pay_client.post(f"/payments/entry/{submission_id}/waiver", {"code": waiver["code"].lower()})
    assert used.status_code == 303
    assert await status_of(submission_id) == "submitted"
    assert await Payment.count().run() == 0


async def test_outsiders_cannot_see_or_pay_someone_elses_fee(
    pay_client: WebClient, official_client: WebClient, contest: Contest
) -> None:
    await set_fee(official_client, contest, "5000")
    submission_id = await submitted_draft(pay_client, contest)
    await pay_client.sign_out()
    from tests.support.people import make_user

    stranger = await make_user("stranger@example.com")
    await pay_client.sign_in(stranger.email, stranger.password)
    assert (await pay_client.get(f"/payments/entry/{submission_id}")).status_code == 404
    assert (await pay_client.post(f"/payments/entry/{submission_id}/pay")).status_code == 404
    assert await Payment.count().run() == 0
    # The bureau sees the fee but pays nothing and uses no waiver: refused, not told the deadline passed.
    assert (await official_client.get(f"/payments/entry/{submission_id}")).status_code == 200
    assert (await official_client.post(f"/payments/entry/{submission_id}/pay")).status_code == 403
    waiver = await official_client.post(f"/payments/entry/{submission_id}/waiver", {"code": "X"})
    assert waiver.status_code == 403
    assert await Payment.count().run() == 0


async def test_only_the_bureau_sets_the_fee(pay_client: WebClient, contest: Contest) -> None:
    await pay_client.sign_in(contest.founder.email, contest.founder.password)
    response = await pay_client.post(f"/challenges/{contest.slug}/entry-fee", {"amount_jpy": "1"})
    assert response.status_code == 404
    from app.payments.tables import EntryFee

    assert await EntryFee.count().run() == 0
