"""Rounds and rubric: officials create rounds and criteria, bad input is refused whole, the lock holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from litestar import Litestar

from app.judging.setup_routes import CONTROLLERS
from app.judging.tables import AuditEvent, Criterion, Round
from app.settings import Settings
from tests.challenges.factories import app_with
from tests.submissions.factories import Contest, make_contest
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_organization, make_user

ROUNDS = "/challenges/smart-city/rounds"


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the judging set-up controllers registered."""
    return app_with(settings, CONTROLLERS)


@dataclass(frozen=True)
class Outsiders:
    """People who must not learn that the set-up pages exist."""

    people: dict[str, Person]
    admin: Person


async def outsiders() -> Outsiders:
    """A startup member, a judge, an official of another bureau, and an admin."""
    startup = await make_user("other-founder@startup.example")
    await make_organization(startup, "090401234567")
    port = await make_bureau("port")
    return Outsiders(
        people={
            "startup_member": startup,
            "judge": await make_user("judge@example.jp", role="judge"),
            "other_bureau_official": await make_user("port@city.example.jp", role="official", bureau_id=port),
        },
        admin=await make_user("admin@city.example.jp", role="admin"),
    )


def round_form(**overrides: str) -> dict[str, str]:
    """A valid round form (document screening, JST window, top 5)."""
    form = {
        "kind": "document",
        "name_ja": "書類審査",
        "name_en": "Document screening",
        "opens_at": "2026-12-01T09:00",
        "closes_at": "2026-12-15T17:00",
        "blind": "1",
        "judges_per_submission": "2",
        "advancement_rule": "top_n",
        "advancement_value": "5",
    }
    form.update(overrides)
    return form


def criterion_form(**overrides: str) -> dict[str, str]:
    """A valid criterion on a 1–5 scale with level descriptors."""
    form = {
        "name_ja": "実現可能性",
        "name_en": "Feasibility",
        "description_ja": "PoC を期間内に実施できるか",
        "description_en": "",
        "weight": "2",
        "scale_min": "1",
        "scale_max": "5",
        "levels_ja": "5: 非常に優れている\n３：普通\n1: 不十分",
        "levels_en": "5: Excellent",
    }
    form.update(overrides)
    return form


async def as_official(client: WebClient, contest: Contest) -> None:
    """Sign the challenge's official in, reading pages in English."""
    await client.get("/locale/en")
    await client.sign_in(contest.official.email, contest.official.password)


async def create_round(client: WebClient, **overrides: str) -> int:
    """Create a round through the form; returns its id."""
    response = await client.post(ROUNDS, round_form(**overrides))
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_official_creates_two_rounds_in_order(client: WebClient) -> None:
    contest = await make_contest()
    await as_official(client, contest)
    first = await create_round(client)
    second = await create_round(
        client,
        kind="pitch",
        name_ja="ピッチ審査",
        name_en="Pitch",
        blind="",
        advancement_rule="threshold",
        advancement_value="70.5",
        opens_at="",
        closes_at="",
    )
    rows = await Round.select().order_by(Round.position).run()
    assert [(row["id"], row["position"], row["kind"]) for row in rows] == [
        (first, 1, "document"),
        (second, 2, "pitch"),
    ]
    # Typed in JST (UTC+9), stored in UTC.
    assert rows[0]["opens_at"] == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert rows[0]["closes_at"] == datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    assert (rows[0]["blind"], rows[0]["judges_per_submission"]) == (True, 2)
    assert (rows[1]["advancement_rule"], rows[1]["advancement_value"], rows[1]["opens_at"]) == (
        "threshold",
        70.5,
        None,
    )
    assert await AuditEvent.count().where(AuditEvent.action == "round_created").run() == 2

    listing = await client.get(ROUNDS)
    assert listing.status_code == 200
    assert listing.text.index("Document screening") < listing.text.index("Pitch</a>")
    page = await client.get(f"{ROUNDS}/{first}")
    assert page.status_code == 200
    assert 'value="2026-12-01T09:00"' in page.text  # shown back in JST
    assert 'role="status" aria-live="polite"' in page.text


async def test_bad_round_input_is_refused_whole(client: WebClient) -> None:
    contest = await make_contest()
    await as_official(client, contest)
    bad = round_form(
        name_ja="", closes_at="2026-11-30T09:00", judges_per_submission="0", advancement_value="0"
    )
    response = await client.post(ROUNDS, bad)
    assert response.status_code == 422
    for message in (
        "Enter the name in Japanese.",
        "The scoring window must close after it opens.",
        "Enter a whole number of judges from 1 to 20.",
        "For top N, enter a whole number of 1 or more.",
    ):
        assert message in response.text, message
    threshold = await client.post(ROUNDS, round_form(advancement_rule="threshold", advancement_value="101"))
    assert threshold.status_code == 422
    assert "For a threshold, enter a score from 0 to 100." in threshold.text
    assert await Round.count().run() == 0
    assert await AuditEvent.count().run() == 0


async def test_official_builds_a_rubric(client: WebClient) -> None:
    contest = await make_contest()
    await as_official(client, contest)
    round_id = await create_round(client)
    criteria = f"{ROUNDS}/{round_id}/criteria"

    added = await client.post(criteria, criterion_form())
    assert added.status_code == 303
    swapped = await client.post(
        criteria, criterion_form(name_ja="革新性", name_en="Novelty", weight="1.5"), htmx=True
    )
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<section id="rubric"')
    assert 'hx-swap-oob="innerHTML">The criterion was added.' in swapped.text

    rows = await Criterion.select().where(Criterion.round == round_id).order_by(Criterion.position).run()
    assert [(row["name_en"], row["weight"], row["position"]) for row in rows] == [
        ("Feasibility", 2.0, 0),
        ("Novelty", 1.5, 1),
    ]
    levels = json.loads(rows[0]["levels"]) if isinstance(rows[0]["levels"], str) else rows[0]["levels"]
    assert levels == {
        "5": {"ja": "非常に優れている", "en": "Excellent"},
        "3": {"ja": "普通", "en": ""},
        "1": {"ja": "不十分", "en": ""},
    }

    edit = await client.get(f"{criteria}/{rows[0]['id']}")
    assert edit.status_code == 200
    assert "5: 非常に優れている\n3: 普通\n1: 不十分</textarea>" in edit.text
    changed = await client.post(f"{criteria}/{rows[0]['id']}", criterion_form(weight="3", scale_max="10"))
    assert changed.status_code == 303
    assert await Criterion.select(Criterion.weight, Criterion.scale_max).where(
        Criterion.id == rows[0]["id"]
    ).first().run() == {"weight": 3.0, "scale_max": 10}

    removed = await client.post(f"{criteria}/{rows[1]['id']}/remove", htmx=True)
    assert removed.status_code == 200
    assert await Criterion.count().where(Criterion.round == round_id).run() == 1
    actions = await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.sequence).run()
    assert [row["action"] for row in actions] == ["round_created", *["rubric_changed"] * 4]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"weight": "0"}, "weight", "Enter a weight greater than 0 and at most 100."),
        (
            {"scale_min": "5", "scale_max": "5"},
            "scale_max",
            "The highest score must be greater than the lowest.",
        ),
        ({"scale_min": "1.5"}, "scale_min", "Enter a whole number from 0 to 100."),
        ({"levels_ja": "7: 範囲外"}, "levels_ja", "Each described level must lie within the scale."),
        ({"levels_ja": "非常に優れている"}, "levels_ja", "Write one level per line"),
        ({"name_ja": ""}, "name_ja", "Enter the name in Japanese."),
    ],
)
async def test_bad_criterion_input_is_refused(
    client: WebClient, overrides: dict[str, str], field: str, message: str
) -> None:
    contest = await make_contest()
    await as_official(client, contest)
    round_id = await create_round(client)
    response = await client.post(f"{ROUNDS}/{round_id}/criteria", criterion_form(**overrides), htmx=True)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="field-{field}-error"' in response.text
    assert await Criterion.count().run() == 0


async def test_locked_rubric_needs_an_admin_and_is_audited(
    client: WebClient, other_client: WebClient
) -> None:
    contest = await make_contest()
    people = await outsiders()
    await as_official(client, contest)
    round_id = await create_round(client)
    await client.post(f"{ROUNDS}/{round_id}/criteria", criterion_form())
    criterion_id = (await Criterion.select(Criterion.id).first().run() or {})["id"]
    await Round.update({Round.rubric_locked_at: datetime.now(UTC)}).where(Round.id == round_id).run()

    page = await client.get(f"{ROUNDS}/{round_id}")
    assert "the rubric is locked" in page.text
    assert "Add the criterion" not in page.text  # the UI hides what the server refuses
    for url, form in [
        (f"{ROUNDS}/{round_id}/criteria", criterion_form(name_ja="追加")),
        (f"{ROUNDS}/{round_id}/criteria/{criterion_id}", criterion_form(weight="9")),
        (f"{ROUNDS}/{round_id}/criteria/{criterion_id}/remove", {}),
    ]:
        assert (await client.post(url, form)).status_code == 403, url
    assert await Criterion.select(Criterion.weight).first().run() == {"weight": 2.0}

    await other_client.sign_in(people.admin.email, people.admin.password)
    allowed = await other_client.post(
        f"{ROUNDS}/{round_id}/criteria/{criterion_id}", criterion_form(weight="9")
    )
    assert allowed.status_code == 303
    assert await Criterion.select(Criterion.weight).first().run() == {"weight": 9.0}
    event = await AuditEvent.select().where(AuditEvent.action == "rubric_changed_after_lock").first().run()
    assert event is not None
    assert event["actor"] == people.admin.id
    payload = json.loads(event["payload"])
    assert (payload["before"]["weight"], payload["after"]["weight"]) == (2.0, 9.0)


async def test_hidden_fields_for_blind_review(client: WebClient) -> None:
    contest = await make_contest()
    await as_official(client, contest)
    round_id = await create_round(client)
    chosen = [contest.fields["video"], contest.fields["deck"]]
    # Two values under one name: the plain form posts every ticked box.
    token = await client.csrf_token()
    response = await client.http.post(
        f"{ROUNDS}/{round_id}/hidden-fields",
        content="&".join(
            [f"hidden={field_id}" for field_id in chosen] + ["hidden=999999", f"_csrf_token={token}"]
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 303
    row = await Round.select(Round.hidden_field_ids).output(load_json=True).first().run()
    assert row == {"hidden_field_ids": sorted(chosen)}


async def test_outsiders_get_404_and_anonymous_signs_in(client: WebClient) -> None:
    contest = await make_contest()
    people = await outsiders()
    await as_official(client, contest)
    round_id = await create_round(client)
    await client.post(f"{ROUNDS}/{round_id}/criteria", criterion_form())
    criterion_id = (await Criterion.select(Criterion.id).first().run() or {})["id"]
    base = f"{ROUNDS}/{round_id}"
    gets = [ROUNDS, base, f"{base}/criteria/{criterion_id}"]
    posts = [
        ROUNDS,
        base,
        f"{base}/hidden-fields",
        f"{base}/criteria",
        f"{base}/criteria/{criterion_id}",
        f"{base}/criteria/{criterion_id}/remove",
        f"{base}/judges",
        f"{base}/judges/1/remove",
        f"{base}/assignments",
        f"{base}/assignments/auto",
        f"{base}/assignments/1/remove",
        f"{base}/assignments/1/reassign",
    ]
    await client.sign_out()
    for url in gets:
        response = await client.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/signin?next="), url
    for who, person in people.people.items():
        await client.sign_in(person.email, person.password)
        for url in gets:
            assert (await client.get(url)).status_code == 404, (who, url)
        for url in posts:
            assert (await client.post(url, round_form())).status_code == 404, (who, url)
        await client.sign_out()
    assert await Round.count().run() == 1
    assert await Criterion.select(Criterion.name_ja).run() == [{"name_ja": "実現可能性"}]
