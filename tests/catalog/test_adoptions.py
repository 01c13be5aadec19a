"""Adoptions: a municipality's officials record them, maintainers confirm them, counts sort the catalogue.

Also 同じ課題があります: officials of a municipality mark a public challenge; only its bureau sees who did.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from litestar import Litestar

from app.catalog.adoptions import same_problem_context
from app.catalog.catalogue_routes import CONTROLLERS
from app.catalog.codes import with_check_digit
from app.catalog.tables import Adoption, AdoptionEvent, Output, SharedProblem
from app.clock import utcnow
from app.notifications.tables import Notification
from app.settings import Settings
from tests.catalog.adoption_factories import make_municipal_official, make_municipality, make_output
from tests.challenges.factories import app_with, make_challenge
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_organization, make_user

DEPLOYED = "https://covid19.city.example.lg.jp/"


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the catalogue controllers registered."""
    return app_with(settings, CONTROLLERS)


@pytest.fixture(autouse=True)
def english(client: WebClient, other_client: WebClient) -> None:
    """Read the pages in English: the assertions quote the English messages."""
    for visitor in (client, other_client):
        visitor.http.cookies.set("locale", "en")


@dataclass
class World:
    """Two municipalities, their officials, a maintainer organization and its published output."""

    chiyoda: dict[str, object]
    osaka: dict[str, object]
    official: Person
    osaka_official: Person
    maintainer: Person
    citizen: Person
    output_id: int


@pytest.fixture
async def world(database: object) -> World:
    """See World."""
    await make_municipality("13000", "東京都")
    chiyoda = await make_municipality("13101", "東京都", "千代田区")
    await make_municipality("27000", "大阪府")
    osaka = await make_municipality("27100", "大阪府", "大阪市")
    official = await make_municipal_official("it@chiyoda.example.lg.jp", int(chiyoda["id"]))  # type: ignore[call-overload]
    osaka_official = await make_municipal_official("it@osaka.example.lg.jp", int(osaka["id"]))  # type: ignore[call-overload]
    maintainer = await make_user("dev@startup.example.jp")
    organization = await make_organization(maintainer)
    author = await make_user("author@city.example.jp")
    output_id = await make_output("stopcovid", created_by=author.id, maintainer_organization=organization)
    citizen = await make_user("citizen@example.jp")
    return World(chiyoda, osaka, official, osaka_official, maintainer, citizen, output_id)


def adoption_form(code: object, status: str = "adopted", **extra: str) -> dict[str, str]:
    """The adoption form as a browser sends it."""
    return {
        "municipality_code": str(code),
        "status": status,
        "deployment_url": DEPLOYED,
        "fork_url": "",
        **extra,
    }


async def record(client: WebClient, person: Person, form: dict[str, str], slug: str = "stopcovid") -> int:
    """Sign in as `person` and post the adoption form; returns the status code."""
    await client.sign_in(person.email, person.password)
    response = await client.post(f"/catalog/{slug}/adoptions", form)
    return response.status_code


async def test_an_official_records_and_the_maintainer_is_asked_to_confirm(
    client: WebClient, world: World
) -> None:
    assert await record(client, world.official, adoption_form(world.chiyoda["code"])) == 303
    adoption = await Adoption.select().where(Adoption.output == world.output_id).first().run()
    assert adoption is not None
    assert adoption["status"] == "adopted"
    assert adoption["confirmed_at"] is None
    assert adoption["deployment_url"] == DEPLOYED
    assert await AdoptionEvent.count().where(AdoptionEvent.adoption == adoption["id"]).run() == 1
    notes = (
        await Notification.select(Notification.user, Notification.context)
        .where(Notification.kind == "adoption_recorded")
        .run()
    )
    assert [note["user"] for note in notes] == [world.maintainer.id]
    assert "千代田区" in notes[0]["context"]
    page = (await client.get("/catalog/stopcovid")).text
    assert "千代田区" in page
    assert "badge--warning" in page  # 未確認 until the maintainer confirms
    output = await Output.select(Output.adoption_count).where(Output.id == world.output_id).first().run()
    assert output == {"adoption_count": 0}


@pytest.mark.parametrize(
    ("who", "code_of", "why"),
    [
        # Not an official of any municipality: refused before the form is read.
        ("citizen", "chiyoda", "Only officials of a municipality can say this."),
        ("maintainer", "chiyoda", "Only officials of a municipality can say this."),
        # An official, but of another municipality.
        ("osaka_official", "chiyoda", "not registered as an official of this municipality"),
    ],
)
async def test_only_the_municipalitys_officials_record(
    client: WebClient, world: World, who: str, code_of: str, why: str
) -> None:
    person = getattr(world, who)
    municipality = getattr(world, code_of)
    assert await record(client, person, adoption_form(municipality["code"])) == 403
    assert await Adoption.count().run() == 0
    page = await client.post("/catalog/stopcovid/adoptions", adoption_form(municipality["code"]))
    assert why in page.text


async def test_anonymous_visitors_cannot_record(client: WebClient, world: World) -> None:
    response = await client.post("/catalog/stopcovid/adoptions", adoption_form(world.chiyoda["code"]))
    assert response.status_code in {401, 302, 303}
    assert await Adoption.count().run() == 0


@pytest.mark.parametrize(
    ("form_change", "field", "message"),
    [
        ({"municipality_code": "131017"}, "municipality_code", "check digit"),
        ({"municipality_code": "1310"}, "municipality_code", "six-digit"),
        ({"deployment_url": "javascript:alert(1)"}, "deployment_url", "https://"),
        ({"fork_url": "ftp://example.jp/repo"}, "fork_url", "https://"),
        ({"deployment_url": ""}, "deployment_url", "Enter the address"),
        ({"status": "loved"}, "status", "adopted, evaluating or stopped"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(
    client: WebClient, world: World, form_change: dict[str, str], field: str, message: str
) -> None:
    form = {**adoption_form(world.chiyoda["code"]), **form_change}
    await client.sign_in(world.official.email, world.official.password)
    response = await client.post("/catalog/stopcovid/adoptions", form)
    assert response.status_code == 422
    assert f'id="field-{field}-error"' in response.text
    assert message in response.text
    assert await Adoption.count().run() == 0
    assert await AdoptionEvent.count().run() == 0
    assert await Notification.count().run() == 0


async def test_a_code_with_a_valid_check_digit_must_still_exist(client: WebClient, world: World) -> None:
    # Remainders 0 and 10 share check digit 1: the digit alone cannot prove a code is real.
    unknown = with_check_digit("13999")
    await client.sign_in(world.official.email, world.official.password)
    response = await client.post("/catalog/stopcovid/adoptions", adoption_form(unknown))
    assert response.status_code == 422
    assert "No municipality has this code" in response.text


async def test_a_duplicate_is_refused_and_a_change_is_recorded_in_the_timeline(
    client: WebClient, world: World
) -> None:
    code = world.chiyoda["code"]
    assert await record(client, world.official, adoption_form(code, "evaluating")) == 303
    duplicate = await client.post("/catalog/stopcovid/adoptions", adoption_form(code, "adopted"))
    assert duplicate.status_code == 422
    assert "already recorded" in duplicate.text
    assert await Adoption.count().run() == 1
    changed = await client.post("/catalog/stopcovid/adoptions", adoption_form(code, "adopted", change="1"))
    assert changed.status_code == 303
    statuses = await AdoptionEvent.select(AdoptionEvent.status).order_by(AdoptionEvent.id).run()
    assert [row["status"] for row in statuses] == ["evaluating", "adopted"]


async def test_a_draft_output_cannot_be_adopted(client: WebClient, world: World) -> None:
    await make_output("secret", created_by=world.maintainer.id, status="draft")
    assert await record(client, world.official, adoption_form(world.chiyoda["code"]), slug="secret") == 404
    assert await Adoption.count().run() == 0


async def recorded_adoption(client: WebClient, world: World, official: Person, code: object) -> int:
    """An adoption recorded through the form; returns its id."""
    assert await record(client, official, adoption_form(code)) == 303
    await client.sign_out()
    row = await Adoption.select(Adoption.id).order_by(Adoption.id, ascending=False).first().run()
    assert row is not None
    return int(row["id"])


@pytest.mark.parametrize("who", ["citizen", "official", "osaka_official"])
async def test_only_the_maintainer_confirms(client: WebClient, world: World, who: str) -> None:
    adoption_id = await recorded_adoption(client, world, world.official, world.chiyoda["code"])
    person = getattr(world, who)
    await client.sign_in(person.email, person.password)
    response = await client.post(f"/catalog/stopcovid/adoptions/{adoption_id}/confirm")
    assert response.status_code == 403
    row = await Adoption.select(Adoption.confirmed_at).where(Adoption.id == adoption_id).first().run()
    assert row == {"confirmed_at": None}


async def test_confirmation_counts_and_sorts_the_catalogue_by_reuse(client: WebClient, world: World) -> None:
    await make_output("aaa-unused", created_by=world.maintainer.id)
    first = await recorded_adoption(client, world, world.official, world.chiyoda["code"])
    second = await recorded_adoption(client, world, world.osaka_official, world.osaka["code"])
    by_name = (await client.get("/catalog?sort=name")).text
    assert by_name.index("Software aaa-unused") < by_name.index("Software stopcovid")
    await client.sign_in(world.maintainer.email, world.maintainer.password)
    for adoption_id in (first, second):
        response = await client.post(f"/catalog/stopcovid/adoptions/{adoption_id}/confirm")
        assert response.status_code == 303
    again = await client.post(f"/catalog/stopcovid/adoptions/{first}/confirm")  # idempotent
    assert again.status_code == 303
    count = await Output.select(Output.adoption_count).where(Output.id == world.output_id).first().run()
    assert count == {"adoption_count": 2}
    by_reuse = (await client.get("/catalog")).text
    assert by_reuse.index("Software stopcovid") < by_reuse.index("Software aaa-unused")
    osaka_only = (await client.get("/catalog?prefecture=大阪府")).text
    assert "Software stopcovid" in osaka_only
    assert "Software aaa-unused" not in osaka_only
    # The municipality stops using it: the count follows in the same transaction.
    await client.sign_out()
    await client.sign_in(world.official.email, world.official.password)
    stopped = await client.post(
        "/catalog/stopcovid/adoptions", adoption_form(world.chiyoda["code"], "stopped", change="1")
    )
    assert stopped.status_code == 303
    count = await Output.select(Output.adoption_count).where(Output.id == world.output_id).first().run()
    assert count == {"adoption_count": 1}


@pytest.fixture
async def challenge(world: World) -> tuple[str, int, Person, Person]:
    """A published challenge of one bureau, its official, and an official of another bureau."""
    bureau = await make_bureau("digital")
    other = await make_bureau("port")
    bureau_official = await make_user("official@city.example.jp", role="official", bureau_id=bureau)
    other_official = await make_user("port@city.example.jp", role="official", bureau_id=other)
    await make_challenge(bureau_id=bureau, author_id=bureau_official.id, slug="flood", now=utcnow())
    await make_challenge(
        bureau_id=bureau, author_id=bureau_official.id, slug="draft", now=utcnow(), status="draft"
    )
    return "flood", bureau, bureau_official, other_official


async def viewer_for(person: Person | None) -> object:
    """The Viewer of a person, as a request would load it."""
    from app.accounts.viewer import load_viewer

    return None if person is None else await load_viewer(person.id)


async def test_same_problem_is_marked_by_officials_and_shown_to_the_bureau_only(
    client: WebClient, world: World, challenge: tuple[str, int, Person, Person]
) -> None:
    slug, bureau, bureau_official, other_official = challenge
    await client.sign_in(world.official.email, world.official.password)
    marked = await client.post(
        f"/challenges/{slug}/same-problem", {"municipality_code": world.chiyoda["code"], "note": "浸水対策"}
    )
    assert marked.status_code == 303
    duplicate = await client.post(
        f"/challenges/{slug}/same-problem", {"municipality_code": world.chiyoda["code"]}
    )
    assert duplicate.status_code == 303  # back to the challenge page with the reason flashed
    other_municipality = await client.post(
        f"/challenges/{slug}/same-problem", {"municipality_code": world.osaka["code"]}
    )
    assert other_municipality.status_code == 303
    draft = await client.post("/challenges/draft/same-problem", {"municipality_code": world.chiyoda["code"]})
    assert draft.status_code == 404
    await client.sign_out()
    await client.sign_in(world.citizen.email, world.citizen.password)
    await client.post(f"/challenges/{slug}/same-problem", {"municipality_code": world.chiyoda["code"]})
    assert await SharedProblem.count().run() == 1

    row = {"id": None, "slug": slug, "bureau": bureau, "status": "published"}
    from app.challenges.tables import Challenge

    found = await Challenge.select(Challenge.id).where(Challenge.slug == slug).first().run()
    assert found is not None
    row["id"] = found["id"]
    seen = await same_problem_context(await viewer_for(bureau_official), row)  # type: ignore[arg-type]
    assert [(item["name"], item["note"]) for item in seen["shared_problems"]] == [("千代田区", "浸水対策")]
    for outsider in (other_official, world.official, world.citizen, None):
        hidden = await same_problem_context(await viewer_for(outsider), row)  # type: ignore[arg-type]
        assert hidden["shared_problems"] is None
    form = await same_problem_context(await viewer_for(world.official), row)  # type: ignore[arg-type]
    assert [item["code"] for item in form["same_problem_municipalities"]] == [world.chiyoda["code"]]

    from app.web.templating import ENVIRONMENT

    html = ENVIRONMENT.get_template("catalog/_shared_problems.html").render(**seen, csrf_token=lambda: "t")
    assert "千代田区" in html
    assert "浸水対策" in html
