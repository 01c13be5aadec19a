"""Municipalities: the seed (47 prefectures + Tokyo's 62), the admin's CSV import with its report, grants."""

from __future__ import annotations

import csv
import unicodedata

import pytest
from litestar import Litestar

from app.catalog.municipalities import BUNDLED_CSV, parse_rows, seed_municipalities
from app.catalog.municipality_routes import CONTROLLERS
from app.catalog.tables import Municipality, MunicipalityMember
from app.settings import Settings
from tests.challenges.factories import app_with
from tests.support.client import WebClient
from tests.support.people import Person, make_user

PAGE = "/admin/municipalities"


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the municipality admin controllers registered."""
    return app_with(settings, CONTROLLERS)


def expected_seed_codes() -> set[str]:
    """Prefecture rows and rows starting 13, straight from the bundled file."""
    with BUNDLED_CSV.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return {row["code"] for row in rows if not row["city"] or row["code"].startswith("13")}


async def test_seed_loads_prefectures_and_tokyo_once(database: object) -> None:
    assert len(expected_seed_codes()) == 47 + 62
    first = await seed_municipalities()
    assert first.added == 109
    again = await seed_municipalities()
    assert (again.added, again.updated, again.unchanged) == (0, 0, 109)
    assert await Municipality.count().run() == 109
    assert await Municipality.count().where(Municipality.name == "").run() == 47
    assert await Municipality.count().where(Municipality.code.like("13%")).run() == 63
    chiyoda = await Municipality.select().where(Municipality.code == "131016").first().run()
    assert chiyoda is not None
    assert (chiyoda["prefecture"], chiyoda["name"]) == ("東京都", "千代田区")
    assert chiyoda["name_kana"] == "チヨダク"  # half-width ﾁﾖﾀﾞｸ made full-width
    assert chiyoda["prefecture_kana"] == unicodedata.normalize("NFKC", "ﾄｳｷｮｳﾄ")


def test_parse_reports_each_bad_line_with_its_number() -> None:
    text = (
        "code,prefecture,name,kana\n"
        "131016,東京都,千代田区,ﾁﾖﾀﾞｸ\n"  # line 2: fine
        "131017,東京都,千代田区,ﾁﾖﾀﾞｸ\n"  # line 3: wrong check digit
        "13101,東京都,千代田区,ﾁﾖﾀﾞｸ\n"  # line 4: five digits
        "131016,東京都,千代田区,ﾁﾖﾀﾞｸ\n"  # line 5: duplicate
        "131024,東京都\n"  # line 6: too few columns
        "480002,どこか県,,ﾄﾞｺｶ\n"  # line 7: no prefecture 48 (its check digit is right)
        ",東京都,中央区,ﾁｭｳｵｳｸ\n"  # line 8: no code
    )
    records, refused = parse_rows(text)
    assert [record.code for record in records] == ["131016"]
    assert [(item.line, item.reason) for item in refused] == [
        (3, "wrong_check_digit"),
        (4, "not_six_digits"),
        (5, "duplicate_code"),
        (6, "column_count"),
        (7, "unknown_prefecture_number"),
        (8, "not_six_digits"),
    ]


async def as_admin(client: WebClient) -> Person:
    """Sign an admin in."""
    admin = await make_user("admin@city.example.jp", role="admin")
    await client.sign_in(admin.email, admin.password)
    return admin


async def upload(client: WebClient, content: bytes, name: str = "codes.csv") -> str:
    """Post a CSV to the import form; returns the page."""
    token = await client.csrf_token()
    response = await client.http.post(
        f"{PAGE}/import", data={"_csrf_token": token}, files={"file": (name, content, "text/csv")}
    )
    assert response.status_code == 200, response.text
    return response.text


async def test_admin_imports_and_sees_added_updated_and_refused_lines(client: WebClient) -> None:
    await seed_municipalities()
    await as_admin(client)
    content = (
        "団体コード,都道府県名,市区町村名,都道府県名カナ,市区町村名カナ\n"
        "011002,北海道,札幌市,ﾎｯｶｲﾄﾞｳ,ｻｯﾎﾟﾛｼ\n"  # new
        "131016,東京都,千代田区,ﾄｳｷｮｳﾄ,ﾁﾖﾀﾞｸ\n"  # unchanged
        "131024,東京都,中央区(新),ﾄｳｷｮｳﾄ,ﾁｭｳｵｳｸ\n"  # renamed: updated
        "131025,東京都,港区,ﾄｳｷｮｳﾄ,ﾐﾅﾄｸ\n"  # line 5: bad check digit
    ).encode("cp932")  # Excel's Shift_JIS export
    page = await upload(client, content)
    assert '<dd id="report-added">1</dd>' in page
    assert '<dd id="report-updated">1</dd>' in page
    assert '<dd id="report-refused">1</dd>' in page
    assert "<td>5</td><td>131025</td>" in page
    assert "check digit" in page or "チェックディジット" in page or "検査数字" in page
    assert await Municipality.exists().where(Municipality.code == "011002").run()
    renamed = await Municipality.select(Municipality.name).where(Municipality.code == "131024").first().run()
    assert renamed == {"name": "中央区(新)"}
    assert not await Municipality.exists().where(Municipality.code == "131025").run()


async def test_an_empty_upload_is_refused_with_a_message(client: WebClient) -> None:
    await as_admin(client)
    token = await client.csrf_token()
    response = await client.http.post(
        f"{PAGE}/import", data={"_csrf_token": token}, files={"file": ("empty.csv", b"", "text/csv")}
    )
    assert response.status_code == 422


async def test_admin_grants_an_official_by_email(client: WebClient) -> None:
    await seed_municipalities()
    official = await make_user("staff@chiyoda.example.jp")
    await as_admin(client)
    ok = await client.post(f"{PAGE}/grants", {"email": "STAFF@chiyoda.example.jp", "code": "131016"})
    assert ok.status_code == 200
    assert "staff@chiyoda.example.jp" in ok.text
    assert await MunicipalityMember.count().where(MunicipalityMember.user == official.id).run() == 1
    again = await client.post(f"{PAGE}/grants", {"email": official.email, "code": "131016"})
    assert again.status_code == 422
    bad_digit = await client.post(f"{PAGE}/grants", {"email": official.email, "code": "131017"})
    assert bad_digit.status_code == 422
    unknown_user = await client.post(f"{PAGE}/grants", {"email": "nobody@example.jp", "code": "131024"})
    assert unknown_user.status_code == 422
    unknown_code = await client.post(f"{PAGE}/grants", {"email": official.email, "code": "011002"})
    assert unknown_code.status_code == 422  # valid digits, but not imported yet
    assert await MunicipalityMember.count().run() == 1


@pytest.mark.parametrize("who", ["anonymous", "citizen", "official"])
async def test_only_admins_see_the_page(client: WebClient, who: str) -> None:
    if who == "citizen":
        person = await make_user("citizen@example.jp")
        await client.sign_in(person.email, person.password)
    elif who == "official":
        from tests.support.people import make_bureau

        person = await make_user("official@city.example.jp", role="official", bureau_id=await make_bureau())
        await client.sign_in(person.email, person.password)
    response = await client.get(PAGE)
    assert response.status_code in ({401, 302, 303} if who == "anonymous" else {404})
    if who != "anonymous":
        refused = await client.post(f"{PAGE}/grants", {"email": "x@example.jp", "code": "131016"})
        assert refused.status_code == 404
