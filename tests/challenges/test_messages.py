"""What challenges tell people: review requests and decisions, answers to askers and followers, changes."""

from __future__ import annotations

from datetime import timedelta

from app.challenges.tables import Follow, Question
from app.clock import utcnow
from app.notifications.tables import MutedMessage, Notification
from app.web.jst import format_jst_local
from tests.challenges.test_authoring_and_review import draft_form, officials
from tests.support.client import WebClient
from tests.support.people import make_organization, make_user


async def kinds_for(user_id: int) -> list[str]:
    """The kinds of message queued for a user, oldest first."""
    rows = (
        await Notification.select(Notification.kind)
        .where(Notification.user == user_id)
        .order_by(Notification.id)
        .run()
    )
    return [row["kind"] for row in rows]


async def test_review_request_goes_to_colleagues_and_the_decision_to_the_author(
    client: WebClient, other_client: WebClient
) -> None:
    """The colleague hears of the draft, the outsider does not; the author hears of changes, then approval."""
    bureau_id, author, colleague, outsider = await officials()
    await client.sign_in(author.email, author.password)
    await client.post("/challenges/new", draft_form(bureau_id))
    await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
    assert await kinds_for(colleague.id) == ["challenge_review_requested"]
    assert await kinds_for(author.id) == []
    assert await kinds_for(outsider.id) == []

    await other_client.sign_in(colleague.email, colleague.password)
    await other_client.post(
        "/challenges/bousai-tagengo/transitions/request_changes", {"comment": "予算を明記"}
    )
    decision = (
        await Notification.select().where(Notification.user == author.id).first().output(load_json=True).run()
    )
    assert decision["kind"] == "challenge_reviewed"
    assert decision["context"]["approved"] is False
    assert decision["context"]["comment"] == "予算を明記"
    assert decision["link"] == "/challenges/bousai-tagengo"

    await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
    await other_client.post("/challenges/bousai-tagengo/transitions/approve")
    assert await kinds_for(author.id) == ["challenge_reviewed", "challenge_reviewed"]


async def test_an_answer_reaches_the_asker_and_followers_but_not_whoever_muted_it(
    client: WebClient, other_client: WebClient
) -> None:
    """Asker: question_answered; followers: followed_challenge_answer; a muted follower: nothing."""
    bureau_id, author, colleague, _ = await officials()
    await client.sign_in(author.email, author.password)
    await client.post("/challenges/new", draft_form(bureau_id))
    await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
    await other_client.sign_in(colleague.email, colleague.password)
    await other_client.post("/challenges/bousai-tagengo/transitions/approve")
    founder = await make_user("founder@startup.example")
    await make_organization(founder)
    fan = await make_user("fan@example.jp")
    quiet = await make_user("quiet@example.jp")
    await client.sign_out()
    await client.sign_in(founder.email, founder.password)
    await client.post("/challenges/bousai-tagengo/follow", {"follow": "1"})
    await client.post("/challenges/bousai-tagengo/questions", {"body": "PoCの期間は？"})
    follows = await Follow.select(Follow.challenge).first().run()
    now = utcnow()
    await Follow.insert(
        Follow(user=fan.id, challenge=follows["challenge"], created_at=now),
        Follow(user=quiet.id, challenge=follows["challenge"], created_at=now),
    ).run()
    await MutedMessage.insert(
        MutedMessage(user=quiet.id, kind="followed_challenge_answer", muted_at=now)
    ).run()
    question = await Question.select(Question.id).first().run()
    answered = await other_client.post(f"/questions/{question['id']}/answer", {"answer": "3か月です。"})
    assert answered.status_code == 303
    assert await kinds_for(founder.id) == ["question_answered"]  # the asker once, though also a follower
    assert await kinds_for(fan.id) == ["followed_challenge_answer"]
    assert await kinds_for(quiet.id) == []
    again = await other_client.post(f"/questions/{question['id']}/answer", {"answer": "3か月程度です。"})
    assert again.status_code == 303
    assert await kinds_for(fan.id) == ["followed_challenge_answer"]  # a corrected answer is not news


async def test_followers_hear_of_a_deadline_change(client: WebClient, other_client: WebClient) -> None:
    """A material change after publication reaches followers, not the editor."""
    bureau_id, author, colleague, _ = await officials()
    await client.sign_in(author.email, author.password)
    await client.post("/challenges/new", draft_form(bureau_id))
    await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
    await other_client.sign_in(colleague.email, colleague.password)
    await other_client.post("/challenges/bousai-tagengo/transitions/approve")
    fan = await make_user("fan@example.jp")
    follows = await other_client.post("/challenges/bousai-tagengo/follow", {"follow": "1"})
    assert follows.status_code == 303
    challenge = await Follow.select(Follow.challenge).first().run()
    await Follow.insert(Follow(user=fan.id, challenge=challenge["challenge"], created_at=utcnow())).run()
    later = format_jst_local(utcnow() + timedelta(days=30))
    edited = await client.post(
        "/challenges/bousai-tagengo/edit", draft_form(bureau_id, applications_close_at=later)
    )
    assert edited.status_code == 303, edited.text
    assert "followed_challenge_updated" in await kinds_for(fan.id)
    assert "followed_challenge_updated" in await kinds_for(colleague.id)
    assert "followed_challenge_updated" not in await kinds_for(author.id)
