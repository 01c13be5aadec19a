"""Officials draft, a colleague approves (never the author), the public sees it; history and notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.challenges.tables import Challenge, ChallengeEvent, ChallengeRevision
from app.clock import utcnow
from app.web.jst import format_jst_local
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_user


def draft_form(bureau_id: int, **overrides: str) -> dict[str, str]:
    """A complete, valid authoring form."""
    now = utcnow()
    form = {
        "bureau": str(bureau_id),
        "slug": "bousai-tagengo",
        "title_ja": "防災情報の多言語化",
        "title_en": "Multilingual disaster information",
        "summary_ja": "外国人住民にも届く防災情報を。",
        "body_ja": "**重要** な課題です。",
        "poc_budget_jpy": "10,000,000",
        "selection_count": "2",
        "themes": "防災, 多言語",
        "eligibility_ja": "設立10年以内\n未上場",
        "eligibility_en": "Founded within 10 years\nUnlisted",
        "applications_open_at": format_jst_local(now - timedelta(days=1)),
        "applications_close_at": format_jst_local(now + timedelta(days=20)),
        "pitch_at": format_jst_local(now + timedelta(days=40)),
    }
    form.update(overrides)
    return form


async def officials() -> tuple[int, Person, Person, Person]:
    """A bureau with two officials, and an official of another bureau."""
    bureau_id = await make_bureau("disaster")
    other = await make_bureau("port")
    author = await make_user("author@city.example", role="official", bureau_id=bureau_id)
    colleague = await make_user("colleague@city.example", role="official", bureau_id=bureau_id)
    outsider = await make_user("outsider@city.example", role="official", bureau_id=other)
    return bureau_id, author, colleague, outsider


async def test_draft_review_publish_with_two_people(client: WebClient, other_client: WebClient) -> None:
    bureau_id, author, colleague, _ = await officials()
    await client.sign_in(author.email, author.password)
    created = await client.post("/challenges/new", draft_form(bureau_id))
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/challenges/bousai-tagengo"
    assert (await other_client.get("/challenges/bousai-tagengo")).status_code == 404  # the public: no leak

    assert (await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")).status_code == 303
    own = await client.post("/challenges/bousai-tagengo/transitions/approve")
    assert own.status_code == 403  # the author cannot approve their own draft
    page = await client.get("/challenges/bousai-tagengo")
    assert "作成者は自分の下書きを承認できません" in page.text

    await other_client.sign_in(colleague.email, colleague.password)
    approved = await other_client.post("/challenges/bousai-tagengo/transitions/approve")
    assert approved.status_code == 303
    await other_client.sign_out()
    public = await other_client.get("/challenges/bousai-tagengo")
    assert public.status_code == 200
    assert "防災情報の多言語化" in public.text
    assert "10,000,000円" in public.text
    assert "設立10年以内" in public.text
    row = await Challenge.select(Challenge.status, Challenge.approved_by).first().run()
    assert row == {"status": "published", "approved_by": colleague.id}
    steps = await ChallengeEvent.select(ChallengeEvent.to_status).order_by(ChallengeEvent.id).run()
    assert [step["to_status"] for step in steps] == ["draft", "in_review", "published"]


async def test_changes_requested_go_back_to_draft_with_a_comment(
    client: WebClient, other_client: WebClient
) -> None:
    bureau_id, author, colleague, _ = await officials()
    await client.sign_in(author.email, author.password)
    await client.post("/challenges/new", draft_form(bureau_id))
    await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
    await other_client.sign_in(colleague.email, colleague.password)
    empty = await other_client.post(
        "/challenges/bousai-tagengo/transitions/request_changes", {"comment": " "}
    )
    assert empty.status_code == 422
    sent = await other_client.post(
        "/challenges/bousai-tagengo/transitions/request_changes", {"comment": "予算の根拠を追記してください"}
    )
    assert sent.status_code == 303
    assert (await Challenge.select(Challenge.status).first().run())["status"] == "draft"
    history = (await client.get("/challenges/bousai-tagengo")).text
    assert "予算の根拠を追記してください" in history


async def test_other_bureaus_and_startups_cannot_touch_a_draft(client: WebClient) -> None:
    bureau_id, author, _, outsider = await officials()
    startup = await make_user("startup@example.jp")
    await client.sign_in(author.email, author.password)
    await client.post("/challenges/new", draft_form(bureau_id))
    await client.sign_out()
    for person in (outsider, startup):
        await client.sign_in(person.email, person.password)
        assert (await client.get("/challenges/bousai-tagengo")).status_code == 404
        assert (await client.get("/challenges/bousai-tagengo/edit")).status_code == 404
        assert (
            await client.post("/challenges/bousai-tagengo/edit", draft_form(bureau_id))
        ).status_code == 404
        assert (
            await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
        ).status_code == 404
        # An official of another bureau gets the form back (422: not their bureau); a startup gets 404.
        assert (await client.post("/challenges/new", draft_form(bureau_id, slug="sneaky"))).status_code in {
            404,
            422,
        }
        await client.sign_out()
    assert await Challenge.count().run() == 1
    assert (await Challenge.select(Challenge.status).first().run())["status"] == "draft"


async def test_bad_input_is_explained_and_nothing_is_saved(client: WebClient) -> None:
    bureau_id, author, _, _ = await officials()
    await client.sign_in(author.email, author.password)
    now = utcnow()
    bad = draft_form(
        bureau_id,
        title_ja="",
        poc_budget_jpy="-5",
        bureau="99999",
        applications_open_at=format_jst_local(now + timedelta(days=5)),
        applications_close_at=format_jst_local(now + timedelta(days=1)),
    )
    response = await client.post("/challenges/new", bad)
    assert response.status_code == 422
    for message in (
        "日本語のタイトルを入力してください",
        "0以上の整数",
        "所属する局を選んでください",
        "前のステップより後",
    ):
        assert message in response.text, message
    assert 'value="bousai-tagengo"' in response.text
    assert await Challenge.count().run() == 0


async def test_publishing_with_a_past_deadline_is_refused(client: WebClient, other_client: WebClient) -> None:
    bureau_id, author, colleague, _ = await officials()
    await client.sign_in(author.email, author.password)
    await client.post("/challenges/new", draft_form(bureau_id))
    await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
    await Challenge.update({Challenge.applications_close_at: utcnow() - timedelta(hours=1)}, force=True).run()
    await other_client.sign_in(colleague.email, colleague.password)
    refused = await other_client.post("/challenges/bousai-tagengo/transitions/approve")
    assert refused.status_code == 422
    assert "締切はすでに過ぎています" in refused.text
    assert (await Challenge.select(Challenge.status).first().run())["status"] == "in_review"


async def test_markdown_cannot_inject_script(client: WebClient) -> None:
    bureau_id, author, _, _ = await officials()
    await client.sign_in(author.email, author.password)
    attack = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> **ok**"
    await client.post(
        "/challenges/new",
        draft_form(bureau_id, body_ja=attack, background_ja=attack, problem_ja=attack, outcome_ja=attack),
    )
    page = (await client.get("/challenges/bousai-tagengo")).text
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page
    assert "<img" not in page
    assert "<strong>ok</strong>" in page
    preview = await client.post("/challenges/preview", {"field": "body_ja", "body_ja": attack}, htmx=True)
    assert "<script>alert" not in preview.text
    assert "<strong>ok</strong>" in preview.text


async def test_published_edits_are_recorded_and_a_deadline_change_is_announced(
    client: WebClient, other_client: WebClient
) -> None:
    bureau_id, author, colleague, _ = await officials()
    await client.sign_in(author.email, author.password)
    form = draft_form(bureau_id)
    await client.post("/challenges/new", form)
    await client.post("/challenges/bousai-tagengo/transitions/submit_for_review")
    await other_client.sign_in(colleague.email, colleague.password)
    await other_client.post("/challenges/bousai-tagengo/transitions/approve")
    later = format_jst_local(utcnow() + timedelta(days=30))
    edited = await client.post("/challenges/bousai-tagengo/edit", {**form, "applications_close_at": later})
    assert edited.status_code == 303
    revision = await ChallengeRevision.select().first().output(load_json=True).run()
    assert revision is not None
    assert revision["material"] is True
    assert set(revision["changes"]) == {"applications_close_at"}
    await other_client.sign_out()
    public = await other_client.get("/challenges/bousai-tagengo")
    assert "更新" in public.text
    assert "応募締切を変更しました" in public.text


async def test_deadline_entered_in_jst_is_stored_in_utc_and_shown_back(client: WebClient) -> None:
    bureau_id, author, _, _ = await officials()
    await client.sign_in(author.email, author.password)
    form = draft_form(
        bureau_id, applications_open_at="2026-11-01T09:00", applications_close_at="2026-12-01T17:00"
    )
    form.pop("pitch_at")
    assert (await client.post("/challenges/new", form)).status_code == 303
    row = await Challenge.select(Challenge.applications_close_at).first().run()
    assert row["applications_close_at"] == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    edit = await client.get("/challenges/bousai-tagengo/edit")
    assert 'value="2026-12-01T17:00"' in edit.text
    page = await client.get("/challenges/bousai-tagengo")
    assert "2026/12/01 17:00" in page.text


async def test_translation_status_is_shown_to_the_bureau(client: WebClient) -> None:
    bureau_id, author, _, _ = await officials()
    await client.sign_in(author.email, author.password)
    await client.post("/challenges/new", draft_form(bureau_id))
    panel = (await client.get("/challenges/bousai-tagengo")).text.split('id="bureau-panel-title"')[1]
    assert "タイトル: 日本語・英語" in panel
    assert "概要: <strong>日本語のみ</strong>" in panel


async def test_authoring_pages_are_404_for_startups_and_judges(client: WebClient) -> None:
    startup = await make_user("startup@example.jp")
    judge = await make_user("judge@example.jp", role="judge")
    for person in (startup, judge):
        await client.sign_in(person.email, person.password)
        assert (await client.get("/bureau/challenges")).status_code == 404
        assert (await client.get("/challenges/new")).status_code == 404
        assert (
            await client.post("/challenges/preview", {"field": "body_ja", "body_ja": "x"})
        ).status_code == 404
        await client.sign_out()
    assert (await client.get("/bureau/challenges")).status_code == 303  # anonymous: sign in first
