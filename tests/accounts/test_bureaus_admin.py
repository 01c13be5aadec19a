"""Admins manage bureaus and their officials; nobody else can."""

from __future__ import annotations

from app.accounts.tables import Bureau, StaffRole
from tests.support.client import WebClient
from tests.support.people import make_bureau, make_user
from tests.support.queries import assert_query_budget, count_queries


async def test_admin_adds_a_bureau_and_an_official(client: WebClient) -> None:
    admin = await make_user("admin@example.jp", role="admin")
    official = await make_user("official@example.jp")
    await client.sign_in(admin.email, admin.password)
    created = await client.post(
        "/admin/bureaus/",
        {"slug": "port-harbor", "name_ja": "港湾局", "name_en": "Bureau of Port and Harbor"},
    )
    assert created.status_code == 303
    bureau = await Bureau.select().where(Bureau.slug == "port-harbor").first().run()
    assert bureau is not None
    added = await client.post(f"/admin/bureaus/{bureau['id']}/officials", {"email": official.email})
    assert added.status_code == 303
    page = await client.get("/admin/bureaus")
    assert "港湾局" in page.text
    assert "official@example.jp" in page.text
    assert await StaffRole.count().where(StaffRole.role == "official").run() == 1


async def test_bad_bureau_input_is_explained(client: WebClient) -> None:
    admin = await make_user("admin@example.jp", role="admin")
    bureau_id = await make_bureau("port-harbor")
    await client.sign_in(admin.email, admin.password)
    response = await client.post("/admin/bureaus/", {"slug": "Port Harbor!", "name_ja": "", "name_en": "x"})
    assert response.status_code == 422
    assert "半角英小文字・数字・ハイフンで3〜60文字" in response.text
    assert 'value="Port Harbor!"' in response.text
    taken = await client.post(
        "/admin/bureaus/", {"slug": "port-harbor", "name_ja": "港湾局", "name_en": "Port"}
    )
    assert "すでに使われています" in taken.text
    unknown = await client.post(f"/admin/bureaus/{bureau_id}/officials", {"email": "nobody@example.jp"})
    assert unknown.status_code == 422
    assert "このメールアドレスのアカウントはありません" in unknown.text
    no_bureau = await client.post(f"/admin/bureaus/{bureau_id + 1000}/officials", {"email": admin.email})
    assert no_bureau.status_code == 422


async def test_non_admins_cannot_see_or_change_bureaus(client: WebClient) -> None:
    bureau_id = await make_bureau()
    official = await make_user("official@example.jp", role="official", bureau_id=bureau_id)
    judge = await make_user("judge@example.jp", role="judge")
    startup = await make_user("startup@example.jp")
    for person in (official, judge, startup):
        await client.sign_in(person.email, person.password)
        assert (await client.get("/admin/bureaus")).status_code == 404
        denied = await client.post("/admin/bureaus/", {"slug": "sneaky", "name_ja": "x", "name_en": "x"})
        assert denied.status_code == 403
        promote = await client.post(f"/admin/bureaus/{bureau_id}/officials", {"email": startup.email})
        assert promote.status_code == 403
        await client.sign_out()
    assert await Bureau.count().run() == 1
    assert await StaffRole.count().where(StaffRole.user == startup.id).run() == 0


async def test_bureaus_page_query_budget(client: WebClient) -> None:
    admin = await make_user("admin@example.jp", role="admin")
    for index in range(4):
        bureau_id = await make_bureau(f"bureau-{index}")
        await make_user(f"official{index}@example.jp", role="official", bureau_id=bureau_id)
    await client.sign_in(admin.email, admin.password)
    with count_queries() as counted:
        response = await client.get("/admin/bureaus")
    assert response.status_code == 200
    # viewer + bureaus + officials, whatever the number of bureaus
    assert_query_budget(counted, 3)


async def test_nav_shows_bureaus_only_to_admins(client: WebClient) -> None:
    admin = await make_user("admin@example.jp", role="admin")
    startup = await make_user("startup@example.jp")
    await client.sign_in(startup.email, startup.password)
    assert 'href="/admin/bureaus"' not in (await client.get("/account")).text
    await client.sign_out()
    await client.sign_in(admin.email, admin.password)
    assert 'href="/admin/bureaus"' in (await client.get("/account")).text


async def test_a_new_role_applies_to_the_next_request(client: WebClient, other_client: WebClient) -> None:
    admin = await make_user("admin@example.jp", role="admin")
    newcomer = await make_user("newcomer@example.jp")
    bureau_id = await make_bureau()
    await other_client.sign_in(newcomer.email, newcomer.password)
    assert 'href="/bureau/challenges"' not in (await other_client.get("/account")).text
    await client.sign_in(admin.email, admin.password)
    await client.post(f"/admin/bureaus/{bureau_id}/officials", {"email": newcomer.email})
    # The worker remembers viewers for two seconds, but forgets one whose roles it changed.
    assert 'href="/bureau/challenges"' in (await other_client.get("/account")).text
