"""Registering a startup, seeing it, inviting members with signed expiring links."""

from __future__ import annotations

from datetime import timedelta

from app.accounts.corporate_number import with_check_digit
from app.accounts.services import INVITATION_LIFETIME, invitation_serializer
from app.accounts.tables import Invitation, Membership, Organization
from tests.support.client import WebClient
from tests.support.people import make_organization, make_user
from tests.support.queries import assert_query_budget, count_queries

VALID = with_check_digit("010401234567")


async def test_register_an_organization_and_become_its_owner(client: WebClient) -> None:
    founder = await make_user("founder@example.jp")
    await client.sign_in(founder.email, founder.password)
    response = await client.post(
        "/organizations/",
        {
            "name_ja": "株式会社みらい",
            "corporate_number": f" {VALID[:4]}-{VALID[4:]} ",
            "founded_on": "2021-04-01",
        },
    )
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    assert "株式会社みらい" in page.text
    assert VALID in page.text
    assert "令和3年4月1日" in page.text
    membership = await Membership.select().where(Membership.user == founder.id).first().run()
    assert membership is not None
    assert membership["role"] == "owner"


async def test_a_wrong_check_digit_is_explained_and_input_kept(client: WebClient) -> None:
    founder = await make_user("founder@example.jp")
    await client.sign_in(founder.email, founder.password)
    wrong = str((int(VALID[0]) % 9) + 1) + VALID[1:]
    response = await client.post("/organizations/", {"name_ja": "株式会社みらい", "corporate_number": wrong})
    assert response.status_code == 422
    assert "チェックデジットが一致しません" in response.text
    assert f'value="{wrong}"' in response.text
    assert 'value="株式会社みらい"' in response.text
    assert await Organization.count().run() == 0


async def test_wrong_check_digit_in_english(client: WebClient) -> None:
    founder = await make_user("founder@example.jp")
    await client.sign_in(founder.email, founder.password)
    await client.get("/locale/en?next=/organizations/new")
    response = await client.post("/organizations/", {"name_ja": "x", "corporate_number": "12345"})
    assert "A corporate number has exactly 13 digits." in response.text


async def test_a_corporate_number_registers_once(client: WebClient) -> None:
    first = await make_user("first@example.jp")
    await make_organization(first)
    second = await make_user("second@example.jp")
    await client.sign_in(second.email, second.password)
    response = await client.post("/organizations/", {"name_ja": "別会社", "corporate_number": VALID})
    assert response.status_code == 422
    assert "すでに登録されています" in response.text


async def test_outsiders_cannot_see_an_organization(client: WebClient, other_client: WebClient) -> None:
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    assert (
        await client.get(f"/organizations/{organization_id}")
    ).status_code == 303  # anonymous: sign in first
    outsider = await make_user("outsider@example.jp")
    await other_client.sign_in(outsider.email, outsider.password)
    assert (await other_client.get(f"/organizations/{organization_id}")).status_code == 404
    assert (await other_client.get("/organizations/99999")).status_code == 404


async def test_organization_page_query_budget(client: WebClient) -> None:
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    for index in range(5):
        member = await make_user(f"m{index}@example.jp")
        await Membership.insert(Membership(user=member.id, organization=organization_id, role="member")).run()
    await client.sign_in(owner.email, owner.password)
    with count_queries() as counted:
        response = await client.get(f"/organizations/{organization_id}")
    assert response.status_code == 200
    assert response.text.count("@example.jp</td>") == 6
    # viewer + organization + members, whatever the number of members
    assert_query_budget(counted, 3)


async def invite(client: WebClient, organization_id: int, email: str) -> str:
    """Create an invitation through the page and return the link's path."""
    response = await client.post(
        f"/organizations/{organization_id}/invitations", {"email": email, "role": "member"}
    )
    assert response.status_code == 200, response.text
    link = response.text.split('id="invitation-link" type="text" readonly value="')[1].split('"')[0]
    return link.removeprefix("http://testserver")


async def test_invited_person_joins_once(client: WebClient, other_client: WebClient) -> None:
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    await client.sign_in(owner.email, owner.password)
    path = await invite(client, organization_id, "New.Member@example.jp")

    newcomer = await make_user("new.member@example.jp")
    await other_client.sign_in(newcomer.email, newcomer.password)
    shown = await other_client.get(path)
    assert "この組織に参加する" in shown.text
    accepted = await other_client.post(path + "/accept")
    assert accepted.status_code == 303
    assert (await other_client.get(f"/organizations/{organization_id}")).status_code == 200
    again = await other_client.post(path + "/accept")
    assert again.status_code == 404
    assert await Membership.count().where(Membership.user == newcomer.id).run() == 1


async def test_invitation_for_someone_else_is_refused(client: WebClient, other_client: WebClient) -> None:
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    await client.sign_in(owner.email, owner.password)
    path = await invite(client, organization_id, "invited@example.jp")
    intruder = await make_user("intruder@example.jp")
    await other_client.sign_in(intruder.email, intruder.password)
    assert "別のメールアドレスでログインしています" in (await other_client.get(path)).text
    assert (await other_client.post(path + "/accept")).status_code == 403
    assert await Membership.count().where(Membership.user == intruder.id).run() == 0


async def test_forged_and_expired_links_are_refused(client: WebClient, settings: object) -> None:
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    await client.sign_in(owner.email, owner.password)
    path = await invite(client, organization_id, "owner2@example.jp")
    token = path.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await client.get(f"/invitations/{forged}")).status_code == 404
    forged_id = invitation_serializer("some other secret key").dumps(1)
    assert (await client.get(f"/invitations/{forged_id}")).status_code == 404
    await Invitation.update(
        {Invitation.expires_at: Invitation.created_at - timedelta(seconds=1)}, force=True
    ).run()
    expired = await client.get(path)
    assert expired.status_code == 404
    assert "この招待リンクは使用できません" in expired.text
    assert timedelta(days=7) == INVITATION_LIFETIME


async def test_only_owners_invite(client: WebClient) -> None:
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    member = await make_user("member@example.jp")
    await Membership.insert(Membership(user=member.id, organization=organization_id, role="member")).run()
    await client.sign_in(member.email, member.password)
    page = await client.get(f"/organizations/{organization_id}")
    assert page.status_code == 200
    assert "招待リンクを作成" not in page.text
    response = await client.post(f"/organizations/{organization_id}/invitations", {"email": "x@example.jp"})
    assert response.status_code == 404
    assert await Invitation.count().run() == 0


async def test_invitation_errors_come_back_in_the_fragment(client: WebClient) -> None:
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    await client.sign_in(owner.email, owner.password)
    response = await client.post(
        f"/organizations/{organization_id}/invitations",
        {"email": "owner@example.jp", "role": "member"},
        htmx=True,
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<div id="invitation">')
    assert "この人はすでにメンバーです" in response.text
