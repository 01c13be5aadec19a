"""Collaborations: officials start one per winner and record steps; the public 協働事例 pages show them."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from app.accounts.corporate_number import with_check_digit
from app.accounts.tables import Membership, Organization
from app.accounts.viewer import forget_viewer
from app.catalog import collaborations, policies
from app.catalog.collaboration_routes import CONTROLLERS
from app.catalog.collaborations import CollaborationStatus, transition_problem
from app.catalog.tables import Collaboration, CollaborationStep
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.judging.tables import AuditEvent
from app.settings import Settings
from app.submissions.tables import Submission
from app.web.jst import TOKYO
from app.web.page_cache import forget_public_pages
from app.web.templating import policies_of, register_policies, render_string
from tests.challenges.factories import app_with, make_challenge
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_user

SLUG = "smart-city"
S = CollaborationStatus


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the collaboration controllers (and the catalogue's policies for `can(...)`)."""
    register_policies(policies_of(policies))
    return app_with(settings, CONTROLLERS)


@pytest.fixture
async def web(app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """A visitor on a fresh database, with the app's sessions, rate limits and caches forgotten."""
    await forget_public_pages()
    forget_viewer()
    for name in ("sessions", "rate_limit"):
        with contextlib.suppress(FileNotFoundError):  # nothing stored yet
            await app.stores.get(name).delete_all()
    async with WebClient.for_app(app) as client:
        yield client


@dataclass(frozen=True)
class Awarded:
    """A challenge with published results: two winners, one not selected, and people around it."""

    challenge_id: int
    official: Person
    other_official: Person
    startup: Person
    winners: tuple[int, int]
    loser: int


async def make_submission(challenge_id: int, number: int, status: str, owner: Person | None = None) -> int:
    """An organization (owned by `owner` or a new user) and its application in `status`."""
    now = utcnow()
    person = owner or await make_user(f"ceo{number}@startup{number}.example")
    rows = await Organization.insert(
        Organization(
            name_ja=f"応募企業{number}",
            name_en=f"Applicant {number}",
            corporate_number=with_check_digit(f"0304012345{number:02d}"),
            website="",
            profile="",
            created_at=now,
        )
    ).run()
    organization_id = int(rows[0]["id"])
    await Membership.insert(
        Membership(user=person.id, organization=organization_id, role="owner", joined_at=now)
    ).run()
    rows = await Submission.insert(
        Submission(
            challenge=challenge_id,
            organization=organization_id,
            status=status,
            receipt_number=f"KY-2026-0009-{number:04d}",
            summary="",
            created_by=person.id,
            created_at=now,
            updated_at=now,
            submitted_at=now,
        )
    ).run()
    return int(rows[0]["id"])


async def awarded(status: str = "results_published") -> Awarded:
    bureau = await make_bureau("digital")
    other_bureau = await make_bureau("kensetsu")
    official = await make_user("official@city.example.jp", role="official", bureau_id=bureau)
    other = await make_user("other@city.example.jp", role="official", bureau_id=other_bureau)
    challenge_id = await make_challenge(
        bureau_id=bureau, author_id=official.id, slug=SLUG, status=status, now=utcnow(), close_in=None
    )
    startup = await make_user("founder@startup1.example")
    first = await make_submission(challenge_id, 1, "winner", owner=startup)
    second = await make_submission(challenge_id, 2, "winner")
    loser = await make_submission(challenge_id, 3, "not_selected")
    return Awarded(challenge_id, official, other, startup, (first, second), loser)


def today() -> str:
    return utcnow().astimezone(TOKYO).date().isoformat()


def days_ago(days: int) -> str:
    return (utcnow().astimezone(TOKYO).date() - timedelta(days=days)).isoformat()


async def start(web: WebClient, submission: int, **fields: str) -> int:
    """Start a collaboration through the form; returns its id."""
    response = await web.post(
        f"/challenges/{SLUG}/collaborations",
        {"submission": str(submission), "happened_on": days_ago(30), "note_ja": "協議開始", **fields},
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/cases/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


async def step(
    web: WebClient, collaboration_id: int, status: str, happened_on: str = "", **fields: str
) -> int:
    response = await web.post(
        f"/collaborations/{collaboration_id}/steps",
        {"status": status, "happened_on": happened_on or today(), **fields},
    )
    return response.status_code


# Pure rules.


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (S.NEGOTIATING, S.POC, True),
        (S.POC, S.CONTRACT, True),
        (S.CONTRACT, S.DONE, True),
        (S.NEGOTIATING, S.CONTRACT, True),  # a contract without a PoC happens
        (S.POC, S.POC, True),  # a progress note without a change
        (S.DONE, S.POC, False),
        (S.CONTRACT, S.NEGOTIATING, False),
        (S.POC, S.NEGOTIATING, False),
        (S.NEGOTIATING, S.STOPPED, True),
        (S.POC, S.STOPPED, True),
        (S.CONTRACT, S.STOPPED, True),
        (S.DONE, S.STOPPED, True),
        (S.STOPPED, S.POC, False),
        (S.STOPPED, S.STOPPED, False),
    ],
)
def test_transitions(current: S, new: S, allowed: bool) -> None:
    assert (transition_problem(current, new) is None) is allowed


# Officials.


async def test_an_official_starts_and_progresses_a_collaboration(web: WebClient) -> None:
    world = await awarded()
    await web.sign_in(world.official.email, world.official.password)
    collaboration_id = await start(web, world.winners[0], note_en="Talks started")
    row = await Collaboration.select().where(Collaboration.id == collaboration_id).first().run()
    assert row is not None
    assert (row["status"], row["challenge"], row["submission"]) == (
        "negotiating",
        world.challenge_id,
        world.winners[0],
    )
    assert await step(web, collaboration_id, "poc", days_ago(20), note_ja="PoC開始") == 303
    assert await step(web, collaboration_id, "poc", days_ago(10), note_ja="中間報告") == 303
    assert await step(web, collaboration_id, "contract", days_ago(5), note_en="Signed") == 303
    assert await step(web, collaboration_id, "done", today()) == 303
    steps = (
        await CollaborationStep.select(CollaborationStep.status, CollaborationStep.recorded_by)
        .where(CollaborationStep.collaboration == collaboration_id)
        .order_by(CollaborationStep.id)
        .run()
    )
    assert [s["status"] for s in steps] == ["negotiating", "poc", "poc", "contract", "done"]
    assert {s["recorded_by"] for s in steps} == {world.official.id}
    status = (
        await Collaboration.select(Collaboration.status).where(Collaboration.id == collaboration_id).run()
    )
    assert status[0]["status"] == "done"
    actions = [
        row["action"]
        for row in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.sequence).run()
    ]
    assert actions == ["collaboration_started"] + ["collaboration_step"] * 4


async def test_invalid_order_is_refused_with_a_message_and_nothing_is_written(web: WebClient) -> None:
    world = await awarded()
    await web.sign_in(world.official.email, world.official.password)
    collaboration_id = await start(web, world.winners[0])
    assert await step(web, collaboration_id, "contract", days_ago(3)) == 303
    response = await web.post(
        f"/collaborations/{collaboration_id}/steps",
        {"status": "poc", "happened_on": today(), "note_ja": "戻す"},
    )
    assert response.status_code == 422
    assert "cannot go back" in response.text or "戻" in response.text
    assert 'aria-invalid="true"' in response.text
    # An earlier date than the latest step, a future date, a bad date, a bad status: all refused.
    for fields in (
        {"status": "done", "happened_on": days_ago(10)},
        {"status": "done", "happened_on": (date.fromisoformat(today()) + timedelta(days=2)).isoformat()},
        {"status": "done", "happened_on": "yesterday"},
        {"status": "finished", "happened_on": today()},
        {"status": "done", "happened_on": today(), "note_ja": "x" * 501},
        {"status": "done", "happened_on": today(), "note_en": "a\x00b"},
    ):
        refused = await web.post(f"/collaborations/{collaboration_id}/steps", fields)
        assert refused.status_code == 422, fields
    htmx = await web.post(
        f"/collaborations/{collaboration_id}/steps",
        {"status": "negotiating", "happened_on": today()},
        htmx=True,
    )
    assert htmx.status_code == 422
    assert "<html" not in htmx.text
    assert f'id="step-{collaboration_id}"' in htmx.text
    count = await CollaborationStep.count().where(CollaborationStep.collaboration == collaboration_id).run()
    assert count == 2
    # Stopped is allowed from any state, and nothing comes after it.
    assert await step(web, collaboration_id, "stopped", today(), note_ja="予算の都合で中止") == 303
    assert await step(web, collaboration_id, "done", today()) == 422
    assert await step(web, collaboration_id, "stopped", today()) == 422


async def test_only_winners_once_each(web: WebClient) -> None:
    world = await awarded()
    await web.sign_in(world.official.email, world.official.password)
    await start(web, world.winners[0])
    again = await web.post(
        f"/challenges/{SLUG}/collaborations", {"submission": str(world.winners[0]), "happened_on": today()}
    )
    assert again.status_code == 422
    loser = await web.post(
        f"/challenges/{SLUG}/collaborations", {"submission": str(world.loser), "happened_on": today()}
    )
    assert loser.status_code == 422
    for junk in ("abc", "9" * 30, "１", ""):
        refused = await web.post(
            f"/challenges/{SLUG}/collaborations", {"submission": junk, "happened_on": today()}
        )
        assert refused.status_code == 422, junk
    assert await Collaboration.count().run() == 1


@pytest.mark.parametrize("who", ["other_bureau_official", "startup"])
async def test_other_bureaus_and_startups_get_404(web: WebClient, who: str) -> None:
    world = await awarded()
    await web.sign_in(world.official.email, world.official.password)
    collaboration_id = await start(web, world.winners[0])
    await web.sign_out()
    person = world.other_official if who == "other_bureau_official" else world.startup
    await web.sign_in(person.email, person.password)
    create = await web.post(
        f"/challenges/{SLUG}/collaborations", {"submission": str(world.winners[1]), "happened_on": today()}
    )
    assert create.status_code == 404
    assert await step(web, collaboration_id, "poc") == 404
    assert await step(web, 999_999, "poc") == 404
    assert await step(web, 2**40, "poc") == 404
    page = await web.get(f"/cases/{collaboration_id}")
    assert page.status_code == 200
    assert "record-step" not in page.text
    assert await Collaboration.count().run() == 1


async def test_anonymous_visitors_cannot_write(web: WebClient) -> None:
    world = await awarded()
    response = await web.post(
        f"/challenges/{SLUG}/collaborations", {"submission": str(world.winners[0]), "happened_on": today()}
    )
    assert response.status_code in {302, 303, 401}
    assert await Collaboration.count().run() == 0


@pytest.mark.parametrize("status", ["judging", "closed", "published"])
async def test_nothing_before_results_are_published(web: WebClient, status: str) -> None:
    world = await awarded(status)
    await web.sign_in(world.official.email, world.official.password)
    response = await web.post(
        f"/challenges/{SLUG}/collaborations", {"submission": str(world.winners[0]), "happened_on": today()}
    )
    assert response.status_code == 404
    # A collaboration that exists anyway (e.g. results withdrawn) stays hidden until they are public.
    now = utcnow()
    rows = await Collaboration.insert(
        Collaboration(
            challenge=world.challenge_id,
            submission=world.winners[0],
            status="poc",
            started_at=now,
            updated_at=now,
        )
    ).run()
    hidden = int(rows[0]["id"])
    await web.sign_out()
    assert (await web.get(f"/cases/{hidden}")).status_code == 404
    assert "応募企業1" not in (await web.get("/cases")).text
    assert (await collaborations.collaborations_of(world.challenge_id)).cases == []


# The public.


async def test_public_case_pages_show_the_steps(web: WebClient) -> None:
    world = await awarded()
    await web.sign_in(world.official.email, world.official.password)
    first = await start(web, world.winners[0], note_ja="協議を始めました")
    assert await step(web, first, "poc", days_ago(3), note_ja="実証実験を開始", note_en="PoC started") == 303
    second = await start(web, world.winners[1])
    assert await step(web, second, "stopped", today(), note_ja="<script>alert(1)</script>") == 303
    await web.sign_out()

    page = await web.get(f"/cases/{first}")
    assert page.status_code == 200
    assert "応募企業1" in page.text
    assert "協議を始めました" in page.text
    assert "実証実験を開始" in page.text
    assert f'datetime="{days_ago(3)}"' in page.text
    assert 'aria-current="step"' in page.text
    assert f"/challenges/{SLUG}/results" in page.text
    assert "record-step" not in page.text  # no form for the public
    assert "official@city" not in page.text

    listing = await web.get("/cases")
    assert listing.status_code == 200
    assert "応募企業1" in listing.text
    assert "応募企業2" in listing.text
    assert "<script>alert(1)</script>" not in listing.text
    assert "&lt;script&gt;" in listing.text
    stopped = await web.get("/cases?status=stopped")
    assert "応募企業2" in stopped.text
    assert "応募企業1" not in stopped.text
    assert (await web.get("/cases?status=nonsense")).status_code == 200
    assert (await web.get("/cases?page=0")).status_code == 400
    fragment = await web.get("/cases", htmx=True)
    assert "<html" not in fragment.text
    assert 'id="collaborations"' in fragment.text
    assert (await web.get("/cases/999999")).status_code == 404


async def test_the_results_fragment_lists_cases_and_forms_for_officials(web: WebClient) -> None:
    world = await awarded()
    await web.sign_in(world.official.email, world.official.password)
    await start(web, world.winners[0])
    panel = await collaborations.collaborations_of(world.challenge_id)
    assert [case["submission_id"] for case in panel.cases] == [world.winners[0]]
    assert [winner["id"] for winner in panel.open_winners] == [world.winners[1]]
    assert panel.cases[0]["steps"][0]["status"] == "negotiating"
    # Officials get a start form for the winner without a collaboration (rendered through a 422 swap).
    refused = await web.post(
        f"/challenges/{SLUG}/collaborations",
        {"submission": str(world.winners[1]), "happened_on": "not-a-date"},
        htmx=True,
    )
    assert refused.status_code == 422
    assert 'id="collaborations"' in refused.text
    assert f'id="start-{world.winners[1]}"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    # The fragment renders for the public without forms.
    html = render_string(
        "catalog/_collaborations.html",
        {"collaborations": panel, "request": FakeRequest()},
    )
    assert "応募企業1" in html
    assert "<form" not in html


class FakeRequest:
    """Just enough of a request for `can(...)` in a template rendered outside a response: no one signed in."""

    scope: dict[str, object] = {"user": None}  # noqa: RUF012 (a read-only stand-in)


async def test_a_second_official_sees_the_first_ones_steps(web: WebClient) -> None:
    world = await awarded()
    colleague = await make_user(
        "colleague@city.example.jp",
        role="official",
        bureau_id=(await Challenge.select(Challenge.bureau).where(Challenge.id == world.challenge_id).run())[
            0
        ]["bureau"],
    )
    await web.sign_in(world.official.email, world.official.password)
    collaboration_id = await start(web, world.winners[0])
    assert await step(web, collaboration_id, "contract", today()) == 303
    await web.sign_out()
    await web.sign_in(colleague.email, colleague.password)
    assert await step(web, collaboration_id, "poc", today()) == 422
    assert await step(web, collaboration_id, "done", today()) == 303
    page = await web.get(f"/cases/{collaboration_id}")
    assert "record-step" in page.text
