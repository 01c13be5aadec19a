"""Catalogue entries through the site: write, import, review by another official, export publiccode.yml."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from litestar import Litestar

from app.catalog.output_routes import CONTROLLERS
from app.catalog.publiccode import parse_publiccode
from app.catalog.tables import Adoption, Municipality, Output
from app.clock import utcnow
from app.settings import Settings
from tests.catalog.test_publiccode import V03
from tests.challenges.factories import app_with
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_organization, make_user


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the catalogue authoring controllers registered."""
    return app_with(settings, CONTROLLERS)


def entry_form(**overrides: str) -> dict[str, str]:
    """A complete, valid entry form."""
    form = {
        "name": "Bousai Map",
        "slug": "bousai-map",
        "short_description_ja": "防災マップ",
        "long_description_ja": "避難所を**地図**で示します。",
        "repository_url": "https://github.com/city-tokyo/bousai-map",
        "landing_url": "https://bousai.example.jp/",
        "license": "apache-2.0 OR mit",
        "development_status": "beta",
        "software_type": "standalone/web",
        "categories": "emergency-management",
        "platforms": "web, android",
        "contacts": "山田 <yamada@city.example.jp>",
        "release_date": "2026-03-31",
        "version": "1.2.0",
    }
    form.update(overrides)
    return form


async def two_officials() -> tuple[Person, Person]:
    """Two officials of one bureau: an author and a colleague who may approve."""
    bureau_id = await make_bureau("digital")
    author = await make_user("author@city.example", role="official", bureau_id=bureau_id)
    colleague = await make_user("colleague@city.example", role="official", bureau_id=bureau_id)
    return author, colleague


async def test_an_official_creates_a_draft_that_outsiders_cannot_see(
    client: WebClient, other_client: WebClient
) -> None:
    author, _ = await two_officials()
    startup = await make_user("startup@example.jp")
    await client.sign_in(author.email, author.password)
    assert (await client.get("/catalog/new")).status_code == 200
    created = await client.post("/catalog/new", entry_form())
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/catalog/bousai-map"
    row = await Output.select().first().output(load_json=True).run()
    assert row["status"] == "draft"
    assert row["license"] == "Apache-2.0 OR MIT"
    assert row["license_is_open"] is True
    assert row["platforms"] == ["web", "android"]
    assert row["contacts"] == [{"name": "山田", "email": "yamada@city.example.jp"}]
    assert row["created_by"] == author.id

    assert (await other_client.get("/catalog/bousai-map/publiccode.yml")).status_code == 404
    await other_client.sign_in(startup.email, startup.password)
    assert (await other_client.get("/catalog/new")).status_code == 404  # a startup without organization
    for url in ("/catalog/bousai-map/edit", "/catalog/bousai-map/publiccode.yml"):
        assert (await other_client.get(url)).status_code == 404
    for url in ("/catalog/bousai-map/edit", "/catalog/bousai-map/submit", "/catalog/bousai-map/approve"):
        assert (await other_client.post(url, entry_form(name="Hijacked"))).status_code == 404
    assert (await Output.select(Output.name, Output.status).first().run()) == {
        "name": "Bousai Map",
        "status": "draft",
    }


async def test_a_licence_outside_the_open_list_is_not_flagged_open(client: WebClient) -> None:
    author, _ = await two_officials()
    await client.sign_in(author.email, author.password)
    response = await client.post("/catalog/new", entry_form(license="MIT AND CC-BY-NC-4.0"))
    assert response.status_code == 303
    assert (await Output.select(Output.license_is_open).first().run()) == {"license_is_open": False}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("license", "MIT OR", "SPDX"),
        ("license", "Not-A-Licence", "SPDX"),
        ("repository_url", "javascript:alert(1)", "https://"),
        ("landing_url", "JaVaScRiPt:alert(1)", "https://"),
        ("screenshots", "data:image/png;base64,AAAA", "https://"),
    ],
)
async def test_invalid_licence_or_address_is_refused_and_nothing_saved(
    client: WebClient, field: str, value: str, message: str
) -> None:
    author, _ = await two_officials()
    await client.sign_in(author.email, author.password)
    await client.get("/locale/en?next=/")
    response = await client.post("/catalog/new", entry_form(**{field: value}))
    assert response.status_code == 422
    assert f'id="field-{field}-error"' in response.text
    assert message in response.text
    assert await Output.count().run() == 0


async def test_import_review_save_then_edit(client: WebClient) -> None:
    author, _ = await two_officials()
    await client.sign_in(author.email, author.password)
    review = await client.post("/catalog/import", {"publiccode": V03})
    assert review.status_code == 200, review.text
    assert 'value="Kosodate Navi"' in review.text
    assert "dependsOn" in review.text  # listed among the keys kept for export
    assert await Output.count().run() == 0  # reading the file saves nothing

    values = {**parse_publiccode(V03).values, "slug": "kosodate-navi"}
    broken = await client.post(
        "/catalog/import", {**values, "license": "Nope", "publiccode": V03, "save": "1"}
    )
    assert broken.status_code == 422
    assert await Output.count().run() == 0

    saved = await client.post("/catalog/import", {**values, "publiccode": V03, "save": "1"})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/catalog/kosodate-navi"
    row = await Output.select().first().output(load_json=True).run()
    assert row["status"] == "draft"
    assert row["software_type"] == "standalone/mobile"
    assert row["publiccode_extra"]["dependsOn"] == {"open": [{"name": "PostgreSQL", "versionMin": "13"}]}

    form = await client.get("/catalog/kosodate-navi/edit")
    assert form.status_code == 200
    assert 'value="GPL-3.0-or-later"' in form.text
    edited = await client.post("/catalog/kosodate-navi/edit", {**values, "name": "Kosodate Navi 2"})
    assert edited.status_code == 303
    exported = yaml.safe_load((await client.get("/catalog/kosodate-navi/publiccode.yml")).text)
    assert exported["name"] == "Kosodate Navi 2"
    assert exported["dependsOn"]["open"][0]["name"] == "PostgreSQL"
    assert exported["maintenance"]["contacts"] == [
        {"name": "Kosodate Team", "email": "team@kosodate.example.jp", "affiliation": "NPO"}
    ]


async def test_a_bad_upload_is_explained_and_nothing_is_saved(client: WebClient) -> None:
    author, _ = await two_officials()
    await client.sign_in(author.email, author.password)
    await client.get("/locale/en?next=/")
    bomb = 'a: &a ["x", "x"]\nb: &b [*a, *a]\nc: [*b, *b]\n'
    token = await client.csrf_token()
    response = await client.http.post(
        "/catalog/import",
        data={"_csrf_token": token, "publiccode": ""},
        files={"file": ("publiccode.yml", bomb.encode(), "text/yaml")},
    )
    assert response.status_code == 422
    assert "Line 2" in response.text
    assert "Aliases" in response.text
    not_yaml = await client.post("/catalog/import", {"publiccode": "name: [oops\n"})
    assert not_yaml.status_code == 422
    assert "Line 2" in not_yaml.text
    saving_anyway = await client.post(
        "/catalog/import", {**entry_form(), "publiccode": "publiccodeYmlVersion: '9'\n", "save": "1"}
    )
    assert saving_anyway.status_code == 422
    assert "not supported" in saving_anyway.text
    assert await Output.count().run() == 0


async def test_review_needs_another_official(client: WebClient, other_client: WebClient) -> None:
    author, colleague = await two_officials()
    await client.sign_in(author.email, author.password)
    await client.post("/catalog/new", entry_form())
    assert (await client.post("/catalog/bousai-map/approve")).status_code == 403  # not in review yet
    submitted = await client.post("/catalog/bousai-map/submit")
    assert submitted.status_code == 303
    assert (await Output.select(Output.status).first().run())["status"] == "in_review"
    assert (await client.post("/catalog/bousai-map/approve")).status_code == 403  # the author
    assert (await Output.select(Output.status).first().run())["status"] == "in_review"

    await other_client.sign_in(colleague.email, colleague.password)
    approved = await other_client.post("/catalog/bousai-map/approve")
    assert approved.status_code == 303
    row = await Output.select(Output.status, Output.approved_by, Output.published_at).first().run()
    assert row["status"] == "published"
    assert row["approved_by"] == colleague.id
    assert row["published_at"] is not None
    await other_client.sign_out()
    public = await other_client.get("/catalog/bousai-map/publiccode.yml")
    assert public.status_code == 200
    assert public.headers["content-type"] == "text/yaml; charset=utf-8"


async def test_submit_needs_a_japanese_short_description(client: WebClient) -> None:
    author, _ = await two_officials()
    await client.sign_in(author.email, author.password)
    await client.post("/catalog/new", entry_form(short_description_ja=""))
    response = await client.post("/catalog/bousai-map/submit")
    assert response.status_code == 303
    assert response.headers["location"] == "/catalog/bousai-map/edit"
    assert (await Output.select(Output.status).first().run())["status"] == "draft"


async def test_members_of_the_maintainer_organization_edit_the_entry(
    client: WebClient, other_client: WebClient
) -> None:
    author, _ = await two_officials()
    member = await make_user("dev@startup.example.jp")
    organization_id = await make_organization(member)
    outsider = await make_user("other@startup.example.jp")
    await make_organization(outsider, base_digits="010401234568")
    await client.sign_in(author.email, author.password)
    created = await client.post("/catalog/new", entry_form(maintainer_organization=str(organization_id)))
    assert created.status_code == 303, created.text

    await other_client.sign_in(member.email, member.password)
    assert (await other_client.get("/catalog/bousai-map/edit")).status_code == 200
    edited = await other_client.post(
        "/catalog/bousai-map/edit",
        entry_form(maintainer_organization=str(organization_id), version="1.3.0"),
    )
    assert edited.status_code == 303, edited.text
    assert (await Output.select(Output.version).first().run())["version"] == "1.3.0"
    await other_client.sign_out()

    await other_client.sign_in(outsider.email, outsider.password)
    assert (await other_client.get("/catalog/bousai-map/edit")).status_code == 404
    # A member of another organization cannot name someone else's organization as maintainer.
    stolen = await other_client.post(
        "/catalog/new", entry_form(slug="theirs", maintainer_organization=str(organization_id))
    )
    assert stolen.status_code == 422
    assert await Output.count().run() == 1


async def test_export_lists_only_confirmed_adoptions(client: WebClient) -> None:
    author, _ = await two_officials()
    await client.sign_in(author.email, author.password)
    await client.post("/catalog/new", entry_form())
    output_id = (await Output.select(Output.id).first().run())["id"]
    now = utcnow()
    towns = [
        ("132012", "東京都", "八王子市"),
        ("141003", "神奈川県", "横浜市"),
        ("011002", "北海道", "札幌市"),
    ]
    for code, prefecture, name in towns:
        await Municipality.insert(
            Municipality(code=code, prefecture=prefecture, name=name, prefecture_kana="", name_kana="")
        ).run()
    municipalities = {row["code"]: row["id"] for row in await Municipality.select().run()}
    for code, confirmed in (("132012", True), ("141003", True), ("011002", False)):
        await Adoption.insert(
            Adoption(
                output=output_id,
                municipality=municipalities[code],
                status="adopted",
                deployment_url="",
                fork_url="",
                recorded_by=author.id,
                recorded_at=now - timedelta(days=2),
                updated_at=now,
                confirmed_by=author.id if confirmed else None,
                confirmed_at=now if confirmed else None,
                one_per_pair=f"{output_id}:{municipalities[code]}",
            )
        ).run()
    response = await client.get("/catalog/bousai-map/publiccode.yml")
    assert response.status_code == 200
    document = yaml.safe_load(response.text)
    assert document["usedBy"] == ["東京都八王子市", "神奈川県横浜市"]
    assert document["JP"]["publisher"]["localGovernmentCode"] == "130001"
    assert document["legal"]["license"] == "Apache-2.0 OR MIT"
    assert [problem.key for problem in parse_publiccode(response.text).problems] == ["usedBy"]
