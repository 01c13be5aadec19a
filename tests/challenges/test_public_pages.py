"""The public list (filters, sort, pages, query budget), the detail page, Q&A and follows."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.challenges.tables import Challenge, ChallengeEvent, ChallengeTheme, Follow, Question
from app.clock import utcnow
from app.web.jst import TOKYO
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_organization, make_user
from tests.support.queries import assert_query_budget, count_queries


async def publish(
    slug: str,
    bureau_id: int,
    author: Person,
    *,
    close_in: timedelta = timedelta(days=10),
    status: str = "published",
    themes: tuple[str, ...] = ("防災",),
    questions_close_in: timedelta | None = None,
) -> int:
    """A challenge inserted directly in the given state."""
    now = utcnow()
    rows = await Challenge.insert(
        Challenge(
            slug=slug,
            bureau=bureau_id,
            status=status,
            title_ja=f"課題 {slug}",
            title_en=f"Challenge {slug}",
            summary_ja="概要",
            summary_en="Summary",
            body_ja="本文",
            eligibility=[{"ja": "設立10年以内", "en": "Young"}],
            poc_budget_jpy=5_000_000,
            selection_count=1,
            contact="",
            author=author.id,
            created_at=now,
            updated_at=now,
            published_at=now if status != "draft" else None,
            applications_open_at=now - timedelta(days=30),
            applications_close_at=now + close_in,
            questions_close_at=now + questions_close_in if questions_close_in else None,
            material_change_note="",
        )
    ).run()
    challenge_id = int(rows[0]["id"])
    for theme in themes:
        await ChallengeTheme.insert(ChallengeTheme(challenge=challenge_id, theme=theme)).run()
    return challenge_id


@pytest.fixture
async def town(database: object) -> tuple[int, int, Person]:
    """Two bureaus and an official of the first."""
    first = await make_bureau("disaster")
    second = await make_bureau("port")
    official = await make_user("official@city.example", role="official", bureau_id=first)
    return first, second, official


async def test_list_filters_and_sort(client: WebClient, town: tuple[int, int, Person]) -> None:
    first, second, official = town
    await publish("soon", first, official, close_in=timedelta(days=2), themes=("防災",))
    await publish("later", second, official, close_in=timedelta(days=30), themes=("物流",))
    await publish("past", first, official, close_in=timedelta(days=-1))
    await publish("results", first, official, status="results_published")
    await publish("hidden", first, official, status="draft")
    await publish("review", first, official, status="in_review")

    everything = (await client.get("/challenges")).text
    assert everything.index("課題 soon") < everything.index("課題 later")
    assert "課題 hidden" not in everything
    assert "課題 review" not in everything
    open_only = (await client.get("/challenges?status=open")).text
    assert "課題 soon" in open_only
    assert "課題 later" in open_only
    assert "課題 past" not in open_only
    reviewing = (await client.get("/challenges?status=reviewing")).text
    assert "課題 past" in reviewing
    assert "課題 soon" not in reviewing
    assert "課題 results" in (await client.get("/challenges?status=results")).text
    port = (await client.get("/challenges?bureau=port")).text
    assert "課題 later" in port
    assert "課題 soon" not in port
    logistics = (await client.get("/challenges?theme=物流")).text
    assert "課題 later" in logistics
    assert "課題 soon" not in logistics
    newest = (await client.get("/challenges?sort=newest&status=open")).text
    assert "課題 soon" in newest
    junk = await client.get("/challenges?status=bogus&sort=nope&cursor=%%%")
    assert junk.status_code == 200


async def test_list_is_an_htmx_fragment_with_the_same_url(
    client: WebClient, town: tuple[int, int, Person]
) -> None:
    first, _, official = town
    await publish("soon", first, official)
    fragment = await client.get("/challenges?status=open", htmx=True)
    assert fragment.text.lstrip().startswith('<section id="challenge-results"')
    assert "HX-Request" in fragment.headers["vary"]
    page = await client.get("/challenges?status=open")
    assert "<html" in page.text
    assert 'value="open" selected' in page.text


async def test_pages_walk_every_challenge_once(client: WebClient, town: tuple[int, int, Person]) -> None:
    first, _, official = town
    for index in range(45):
        await publish(f"c{index:02d}", first, official, close_in=timedelta(days=1 + index))
    seen: list[str] = []
    url = "/challenges?sort=deadline"
    while url:
        text = (await client.get(url)).text
        seen += [part.split('"')[0] for part in text.split('href="/challenges/c')[1:]]
        url = (
            text.split('class="button button--secondary" href="')[1].split('"')[0].replace("&amp;", "&")
            if ("次のページ" in text)
            else ""
        )
    assert sorted(seen) == [f"{index:02d}" for index in range(45)]


@pytest.mark.parametrize("signed_in", [False, True])
async def test_list_page_query_budget(
    client: WebClient, town: tuple[int, int, Person], signed_in: bool
) -> None:
    first, second, official = town
    for index in range(30):
        await publish(
            f"c{index}", first if index % 2 else second, official, themes=("防災", f"テーマ{index % 4}")
        )
    if signed_in:
        await client.sign_in(official.email, official.password)
    await client.get("/challenges")  # the filter options are cached after the first page
    with count_queries() as counted:
        response = await client.get("/challenges?status=open")
    assert response.status_code == 200
    assert response.text.count('class="card"') == 20
    assert_query_budget(counted, 6)


async def test_detail_shows_timeline_budget_and_days_left(
    client: WebClient, town: tuple[int, int, Person]
) -> None:
    first, _, official = town
    await publish("soon", first, official, close_in=timedelta(days=3, hours=2))
    page = await client.get("/challenges/soon")
    assert page.status_code == 200
    assert "5,000,000円" in page.text
    deadline = (await Challenge.select(Challenge.applications_close_at).first().run())[
        "applications_close_at"
    ]
    expected = (deadline.astimezone(TOKYO).date() - utcnow().astimezone(TOKYO).date()).days
    assert f"あと{expected}日" in page.text  # calendar days in Japan time, 3 or 4 depending on the hour
    assert 'aria-current="step"' in page.text
    assert "設立10年以内" in page.text
    english = await client.get("/challenges/soon", headers={"accept-language": "en"})
    assert "Challenge soon" in english.text
    assert "¥5,000,000" in english.text


async def test_a_past_deadline_closes_at_request_time(
    client: WebClient, town: tuple[int, int, Person]
) -> None:
    first, _, official = town
    challenge_id = await publish("past", first, official, close_in=timedelta(seconds=-5))
    page = await client.get("/challenges/past")
    assert "審査中" in page.text
    row = await Challenge.select(Challenge.status).where(Challenge.id == challenge_id).first().run()
    assert row == {"status": "closed"}
    event = await ChallengeEvent.select(ChallengeEvent.actor, ChallengeEvent.to_status).first().run()
    assert event == {"actor": None, "to_status": "closed"}


async def test_questions_answers_and_anonymity(
    client: WebClient, other_client: WebClient, town: tuple[int, int, Person]
) -> None:
    first, _, official = town
    await publish("qa", first, official)
    founder = await make_user("founder@startup.example")
    await make_organization(founder)
    await client.sign_in(founder.email, founder.password)
    asked = await client.post("/challenges/qa/questions", {"body": "PoCの期間はどのくらいですか？"})
    assert asked.status_code == 303
    assert "PoCの期間" not in (await other_client.get("/challenges/qa")).text  # unanswered: bureau only
    await other_client.sign_in(official.email, official.password)
    bureau_page = await other_client.get("/challenges/qa")
    assert "PoCの期間" in bureau_page.text
    question = await Question.select(Question.id).first().run()
    answered = await other_client.post(
        f"/questions/{question['id']}/answer", {"answer": "3か月程度を想定しています。"}
    )
    assert answered.status_code == 303
    await other_client.sign_out()
    public = (await other_client.get("/challenges/qa")).text
    assert "PoCの期間" in public
    assert "3か月程度" in public
    assert "founder@startup.example" not in public
    assert "founder" not in public.split('id="questions"')[1]


async def test_question_rules(client: WebClient, town: tuple[int, int, Person]) -> None:
    first, second, official = town
    await publish("closed-q", first, official, questions_close_in=timedelta(seconds=-1))
    founder = await make_user("founder@startup.example")
    await make_organization(founder)
    await client.sign_in(founder.email, founder.password)
    late = await client.post("/challenges/closed-q/questions", {"body": "まだ質問できますか？"})
    assert late.status_code == 422
    assert "質問を受け付けていません" in late.text
    await publish("open-q", first, official)
    empty = await client.post("/challenges/open-q/questions", {"body": "  "})
    assert empty.status_code == 422
    assert await Question.count().run() == 0
    other_official = await make_user("other@city.example", role="official", bureau_id=second)
    await client.sign_out()
    await client.sign_in(founder.email, founder.password)
    await client.post("/challenges/open-q/questions", {"body": "質問です"})
    question = await Question.select(Question.id).first().run()
    await client.sign_out()
    await client.sign_in(other_official.email, other_official.password)
    assert (await client.post(f"/questions/{question['id']}/answer", {"answer": "x"})).status_code == 404
    assert (await Question.select(Question.answered_at).first().run())["answered_at"] is None
    # An official (no organization) may not ask at all: refused before the question is read.
    asked = await client.post("/challenges/open-q/questions", {"body": "職員からの質問"})
    assert asked.status_code == 403
    assert await Question.count().run() == 1


async def test_follow_and_unfollow(client: WebClient, town: tuple[int, int, Person]) -> None:
    first, _, official = town
    await publish("f", first, official)
    fan = await make_user("fan@example.jp")
    await client.sign_in(fan.email, fan.password)
    await client.post("/challenges/f/follow", {"follow": "1"})
    await client.post("/challenges/f/follow", {"follow": "1"})
    assert await Follow.count().run() == 1
    assert "フォロー中" in (await client.get("/challenges/f")).text
    await client.post("/challenges/f/follow", {"follow": "0"})
    assert await Follow.count().run() == 0


@pytest.fixture(params=["UTC", "America/New_York"])
def server_timezone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the process in another time zone: nothing may depend on it."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if previous is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = previous
    time.tzset()


async def test_jst_round_trip_whatever_the_server_time_zone(
    client: WebClient, town: tuple[int, int, Person], server_timezone: str
) -> None:
    from tests.challenges.test_authoring_and_review import draft_form

    first, _, official = town
    await client.sign_in(official.email, official.password)
    form = draft_form(
        first, applications_open_at="2026-11-01T09:00", applications_close_at="2026-12-01T17:00"
    )
    form.pop("pitch_at")
    assert (await client.post("/challenges/new", form)).status_code == 303
    row = await Challenge.select(Challenge.applications_close_at).first().run()
    assert row["applications_close_at"].isoformat() == "2026-12-01T08:00:00+00:00"
    assert 'value="2026-12-01T17:00"' in (await client.get("/challenges/bousai-tagengo/edit")).text
    assert "2026/12/01 17:00" in (await client.get("/challenges/bousai-tagengo")).text
