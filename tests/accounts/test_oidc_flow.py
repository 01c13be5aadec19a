"""Signing in through a real OpenID Connect provider (oidc-provider-mock on 127.0.0.1), over HTTP."""

from __future__ import annotations

import time

from joserfc import jwt

from app.accounts.identities import pair_key
from app.accounts.oidc import s256
from app.accounts.tables import Identity, StaffRole, User
from app.web.sessions import SESSION_COOKIE
from tests.support.client import WebClient
from tests.support.oidc import MockProvider, TokenStub, local_path, query_of, sign_in_with_mock, start
from tests.support.people import PASSWORD, make_bureau, make_user

pytest_plugins = ["tests.support.oidc_fixtures"]


async def counts() -> tuple[int, int]:
    """(users, identities) in the database."""
    return await User.count().run(), await Identity.count().run()


async def test_sign_in_page_shows_a_button_per_provider(oidc_client: WebClient) -> None:
    oidc_client.http.cookies.set("locale", "en")
    page = await oidc_client.get("/signin?next=/challenges")
    assert page.status_code == 200
    assert 'href="/oidc/mock/start?next=/challenges"' in page.text
    assert "Sign in with Test IdP" in page.text
    assert "Sign in with City Hall" in page.text


async def test_new_user_gets_an_account_in_under_a_second(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    """Button → provider → callback → account page, with the session id rotated at sign-in."""
    oidc_client.http.cookies.set("locale", "en")
    await mock_provider.set_user("new-person", email="Hana@Example.JP", email_verified=True, name="花 新井")
    await oidc_client.get("/signin")  # an anonymous page: no session yet
    began = time.perf_counter()
    authorization_url = await start(oidc_client, "mock", "?next=/account")
    session_before = oidc_client.http.cookies.get(SESSION_COOKIE)
    assert session_before  # the pending sign-in lives in the server-side session
    callback = await oidc_client.get(
        local_path(await mock_provider.authorize(authorization_url, "new-person"))
    )
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == "/account"
    account = await oidc_client.get("/account")
    elapsed = time.perf_counter() - began
    assert account.status_code == 200
    assert "hana@example.jp" in account.text
    assert "Your account was created with Test IdP" in account.text
    print(f"OIDC round trip (button → provider → callback → account page): {elapsed:.3f} s")
    assert elapsed < 1.0, f"round trip took {elapsed:.3f} s"
    assert oidc_client.http.cookies.get(SESSION_COOKIE) != session_before
    user = await User.select().first().run()
    assert user is not None
    assert user["email"] == "hana@example.jp"
    assert user["display_name"] == "花 新井"
    assert user["password_hash"] is None
    assert user["email_verified_at"] is not None
    identity = await Identity.select().first().run()
    assert identity is not None
    assert identity["user"] == user["id"]
    assert identity["issuer"] == mock_provider.base_url
    assert identity["subject"] == "new-person"
    assert identity["one_per_subject"] == pair_key(mock_provider.base_url, "new-person")
    assert await StaffRole.count().run() == 0  # a startup provider gives no staff role


async def test_authorization_request_uses_pkce_s256_state_and_nonce(
    oidc_client: WebClient, token_stub: TokenStub
) -> None:
    """The mock does not enforce PKCE, so the stub's token endpoint records what the app sent."""
    params = query_of(await start(oidc_client, "stub"))
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert params["scope"].split() == ["openid", "email", "profile"]
    assert params["redirect_uri"] == "http://testserver/oidc/stub/callback"
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    token_stub.id_token = token_stub.sign(token_stub.claims(params["nonce"]))
    response = await oidc_client.get(f"/oidc/stub/callback?code=the-code&state={params['state']}")
    assert response.status_code == 303, response.text
    (request,) = token_stub.token_requests
    assert request["grant_type"] == "authorization_code"
    assert request["code"] == "the-code"
    assert s256(request["code_verifier"]) == params["code_challenge"]
    assert request["authorization"].startswith("Basic ")


async def test_private_key_jwt_authenticates_the_client(
    oidc_client: WebClient, token_stub: TokenStub
) -> None:
    """The stub checks the client assertion (RFC 7523) with the public half of the configured key."""
    params = query_of(await start(oidc_client, "stubjwt"))
    token_stub.id_token = token_stub.sign(token_stub.claims(params["nonce"]))
    response = await oidc_client.get(f"/oidc/stubjwt/callback?code=c&state={params['state']}")
    assert response.status_code == 303, response.text
    (request,) = token_stub.token_requests
    assert request["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assertion = jwt.decode(request["client_assertion"], token_stub.client_key, algorithms=["RS256"])
    assert assertion.claims["iss"] == assertion.claims["sub"] == "kyoso-test"
    assert assertion.claims["aud"] == f"{token_stub.base_url}/token"
    assert request["authorization"] == ""  # no shared secret sent


async def test_returning_user_signs_in_to_the_same_account(
    oidc_client: WebClient, other_oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    await mock_provider.set_user("returning", email="back@example.jp", email_verified=True)
    first = await sign_in_with_mock(oidc_client, mock_provider, "returning")
    assert first.status_code == 303
    await oidc_client.sign_out()
    again = await sign_in_with_mock(oidc_client, mock_provider, "returning", query="?next=/challenges")
    assert again.status_code == 303
    assert again.headers["location"] == "/challenges"
    assert await counts() == (1, 1)
    oidc_client.http.cookies.set("locale", "en")
    assert "back@example.jp" in (await oidc_client.get("/account")).text


async def test_verified_email_of_an_existing_account_links_only_after_its_password(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    """No silent takeover: the identity is linked once the account's owner proves it with their password."""
    oidc_client.http.cookies.set("locale", "en")
    person = await make_user("owner@example.jp")
    await mock_provider.set_user("owner-at-idp", email="owner@example.jp", email_verified=True)
    answer = await sign_in_with_mock(oidc_client, mock_provider, "owner-at-idp")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/oidc/link/confirm"
    assert await counts() == (1, 0)
    assert (await oidc_client.get("/account")).status_code == 303  # not signed in yet
    page = await oidc_client.get("/oidc/link/confirm")
    assert "A Kyoso account already uses owner@example.jp" in page.text

    wrong = await oidc_client.post("/oidc/link/confirm", {"password": "not the password at all"})
    assert wrong.status_code == 422
    assert "The password is incorrect." in wrong.text
    assert await counts() == (1, 0)

    right = await oidc_client.post("/oidc/link/confirm", {"password": PASSWORD})
    assert right.status_code == 303
    assert await Identity.count().where(Identity.user == person.id).run() == 1
    assert "owner@example.jp" in (await oidc_client.get("/account")).text

    await oidc_client.sign_out()
    direct = await sign_in_with_mock(oidc_client, mock_provider, "owner-at-idp")
    assert direct.headers["location"] == "/account"
    assert await counts() == (1, 1)


async def test_unverified_email_of_an_existing_account_is_not_linked(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    oidc_client.http.cookies.set("locale", "en")
    await make_user("taken@example.jp")
    await mock_provider.set_user("claims-it", email="taken@example.jp", email_verified=False)
    answer = await sign_in_with_mock(oidc_client, mock_provider, "claims-it")
    assert answer.status_code == 409
    assert "An account already uses this email address" in answer.text
    assert await counts() == (1, 0)


async def test_cancel_at_the_provider_explains_and_creates_nothing(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    oidc_client.http.cookies.set("locale", "en")
    authorization_url = await start(oidc_client, "mock")
    back = await mock_provider.authorize(authorization_url, None)
    assert query_of(back)["error"] == "access_denied"
    answer = await oidc_client.get(local_path(back))
    assert answer.status_code == 200
    assert "Sign-in was cancelled" in answer.text
    assert 'lang="en"' in answer.text
    assert await counts() == (0, 0)


async def test_cancel_page_is_in_the_readers_language(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    back = await mock_provider.authorize(await start(oidc_client, "mock"), None)
    answer = await oidc_client.get(local_path(back))
    assert '<html lang="ja">' in answer.text
    assert "テストIdP" in answer.text  # the provider's Japanese name


async def test_staff_provider_makes_an_official_for_an_allowed_domain(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    bureau_id = await make_bureau("digital-services")
    await mock_provider.set_user("staff-1", email="taro@city.example", email_verified=True)
    answer = await sign_in_with_mock(oidc_client, mock_provider, "staff-1", provider_id="city")
    assert answer.status_code == 303
    role = await StaffRole.select().first().run()
    assert role is not None
    assert (role["role"], role["bureau"]) == ("official", bureau_id)


async def test_staff_provider_refuses_another_email_domain(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    oidc_client.http.cookies.set("locale", "en")
    await make_bureau("digital-services")
    await mock_provider.set_user("outsider", email="eve@startup.example", email_verified=True)
    answer = await sign_in_with_mock(oidc_client, mock_provider, "outsider", provider_id="city")
    assert answer.status_code == 403
    assert "This email address cannot be used with City Hall" in answer.text
    assert await counts() == (0, 0)
    assert await StaffRole.count().run() == 0


async def test_link_then_unlink_on_the_account_page(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    oidc_client.http.cookies.set("locale", "en")
    person = await make_user("linker@example.jp")
    await oidc_client.sign_in(person.email, PASSWORD)
    page = await oidc_client.get("/account/identities")
    assert "Email address and password" in page.text
    link = page.text.split('href="/oidc/mock/start?purpose=link&amp;token=')[1].split('"')[0]
    await mock_provider.set_user("linked-sub", email="other-address@example.jp", email_verified=True)
    authorization_url = await start(oidc_client, "mock", f"?purpose=link&token={link}")
    back = await oidc_client.get(local_path(await mock_provider.authorize(authorization_url, "linked-sub")))
    assert back.status_code == 303
    assert back.headers["location"] == "/account/identities"
    page = await oidc_client.get("/account/identities")
    assert "Test IdP is now linked to your account." in page.text
    identity = await Identity.select().where(Identity.user == person.id).first().run()
    assert identity is not None
    assert "Unlink Test IdP" in page.text

    unlinked = await oidc_client.post(f"/account/identities/{identity['id']}/unlink")
    assert unlinked.status_code == 303
    assert await Identity.count().run() == 0


async def test_the_last_way_to_sign_in_cannot_be_unlinked(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    oidc_client.http.cookies.set("locale", "en")
    await mock_provider.set_user("only-idp", email="only@example.jp", email_verified=True)
    await sign_in_with_mock(oidc_client, mock_provider, "only-idp")
    identity = await Identity.select().first().run()
    assert identity is not None
    page = await oidc_client.get("/account/identities")
    assert "Unlink" not in page.text
    assert "it cannot be unlinked" in page.text
    refused = await oidc_client.post(f"/account/identities/{identity['id']}/unlink")
    assert refused.status_code == 403
    assert await Identity.count().run() == 1


async def test_someone_elses_identity_cannot_be_unlinked(
    oidc_client: WebClient, other_oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    await mock_provider.set_user("victim", email="victim@example.jp", email_verified=True)
    await sign_in_with_mock(oidc_client, mock_provider, "victim")
    identity = await Identity.select().first().run()
    assert identity is not None
    intruder = await make_user("intruder@example.jp")
    await other_oidc_client.sign_in(intruder.email, PASSWORD)
    refused = await other_oidc_client.post(f"/account/identities/{identity['id']}/unlink")
    assert refused.status_code == 404
    assert await Identity.count().run() == 1


async def test_linking_needs_the_signed_token_of_the_same_user(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    """Another site cannot start a link for you: the start address carries a token signed for your id."""
    person = await make_user("careful@example.jp")
    await oidc_client.sign_in(person.email, PASSWORD)
    for token in ("", "forged", "InRva2VuIg.forged.sig"):
        answer = await oidc_client.get(f"/oidc/mock/start?purpose=link&token={token}")
        assert answer.status_code == 403, token


async def test_an_identity_of_another_account_is_not_linked_again(
    oidc_client: WebClient, other_oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    other_oidc_client.http.cookies.set("locale", "en")
    await mock_provider.set_user("shared", email="first@example.jp", email_verified=True)
    await sign_in_with_mock(oidc_client, mock_provider, "shared")
    second = await make_user("second@example.jp")
    await other_oidc_client.sign_in(second.email, PASSWORD)
    page = await other_oidc_client.get("/account/identities")
    link = page.text.split('href="/oidc/mock/start?purpose=link&amp;token=')[1].split('"')[0]
    back = await sign_in_with_mock(
        other_oidc_client, mock_provider, "shared", query=f"?purpose=link&token={link}"
    )
    assert back.status_code == 409
    assert "linked to another Kyoso account" in back.text
    assert await Identity.count().where(Identity.user == second.id).run() == 0


async def test_sign_out_continues_to_the_providers_logout(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    """RP-initiated logout: the provider's discovery offers end_session_endpoint."""
    await mock_provider.set_user("leaving", email="leaving@example.jp", email_verified=True)
    await sign_in_with_mock(oidc_client, mock_provider, "leaving")
    page = await oidc_client.sign_out()
    assert page.status_code == 200
    logout = page.text.split('id="provider-logout" class="button button--primary" href="')[1].split('"')[0]
    logout = logout.replace("&amp;", "&")
    assert logout.startswith(f"{mock_provider.base_url}/oauth2/end_session?")
    params = query_of(logout)
    assert params["post_logout_redirect_uri"] == "http://testserver/"
    assert params["client_id"] == "kyoso-test"
    assert params["id_token_hint"].count(".") == 2
    assert f'http-equiv="refresh" content="0; url={mock_provider.base_url}' in page.text
    assert (await oidc_client.get("/account")).status_code == 303  # the local session is gone


async def test_sign_out_stays_local_when_the_provider_has_no_logout(
    oidc_client: WebClient, token_stub: TokenStub
) -> None:
    """The stub's discovery has no end_session_endpoint (token forged with joserfc, served by the stub)."""
    params = query_of(await start(oidc_client, "stub"))
    token_stub.id_token = token_stub.sign(token_stub.claims(params["nonce"]))
    await oidc_client.get(f"/oidc/stub/callback?code=c&state={params['state']}")
    answer = await oidc_client.sign_out()
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


async def test_password_sign_out_stays_local(oidc_client: WebClient) -> None:
    person = await make_user("local@example.jp")
    await oidc_client.sign_in(person.email, PASSWORD)
    answer = await oidc_client.sign_out()
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


async def test_provider_down_explains_and_creates_nothing(oidc_client: WebClient) -> None:
    """The "down" provider's issuer is a closed port on 127.0.0.1: nothing answers discovery."""
    oidc_client.http.cookies.set("locale", "en")
    answer = await oidc_client.get("/oidc/down/start")
    assert answer.status_code == 503
    assert "We could not reach Down IdP" in answer.text
    assert "Please try again in a few minutes" in answer.text
    assert await counts() == (0, 0)


async def test_wrong_configuration_explains_without_details(oidc_client: WebClient) -> None:
    """The "misconfigured" provider's issuer has a trailing slash the provider's discovery does not name."""
    oidc_client.http.cookies.set("locale", "en")
    answer = await oidc_client.get("/oidc/misconfigured/start")
    assert answer.status_code == 502
    assert "is not set up correctly" in answer.text
    assert "openid-configuration" not in answer.text  # the detail goes to the log only


async def test_unknown_provider_is_404(oidc_client: WebClient) -> None:
    assert (await oidc_client.get("/oidc/nobody/start")).status_code == 404
    assert (await oidc_client.get("/oidc/nobody/callback?code=x&state=y")).status_code == 404


async def test_an_account_without_password_confirms_a_link_with_its_provider(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    """The existing account signs in only through City Hall: confirming there links the second provider."""
    oidc_client.http.cookies.set("locale", "en")
    await make_bureau("digital-services")
    await mock_provider.set_user("city-taro", email="taro@city.example", email_verified=True)
    await mock_provider.set_user("idp-taro", email="taro@city.example", email_verified=True)
    await sign_in_with_mock(oidc_client, mock_provider, "city-taro", provider_id="city")
    await oidc_client.sign_out()

    offered = await sign_in_with_mock(oidc_client, mock_provider, "idp-taro")
    assert offered.headers["location"] == "/oidc/link/confirm"
    page = await oidc_client.get("/oidc/link/confirm")
    assert 'name="password"' not in page.text  # no password to confirm with
    assert 'href="/oidc/city/start?purpose=confirm"' in page.text
    confirmed = await sign_in_with_mock(oidc_client, mock_provider, "city-taro", "city", "?purpose=confirm")
    assert confirmed.status_code == 303, confirmed.text
    assert await counts() == (1, 2)
    assert "Your accounts are linked" in (await oidc_client.get("/account")).text


async def test_confirming_with_a_different_account_links_nothing(
    oidc_client: WebClient, mock_provider: MockProvider
) -> None:
    oidc_client.http.cookies.set("locale", "en")
    await make_bureau("digital-services")
    await mock_provider.set_user("city-owner", email="owner@city.example", email_verified=True)
    await mock_provider.set_user("city-other", email="other@city.example", email_verified=True)
    await mock_provider.set_user("idp-claimant", email="owner@city.example", email_verified=True)
    await sign_in_with_mock(oidc_client, mock_provider, "city-owner", provider_id="city")
    await oidc_client.sign_out()
    await sign_in_with_mock(oidc_client, mock_provider, "city-other", provider_id="city")
    await oidc_client.sign_out()

    await sign_in_with_mock(oidc_client, mock_provider, "idp-claimant")
    wrong = await sign_in_with_mock(oidc_client, mock_provider, "city-other", "city", "?purpose=confirm")
    assert wrong.status_code == 409
    assert "That was a different account" in wrong.text
    assert await counts() == (2, 2)
    assert (await oidc_client.get("/account")).status_code == 303  # nobody signed in
