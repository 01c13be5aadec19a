"""Answers that must not sign anyone in, each refused with nothing created.

Where the real provider (oidc-provider-mock) cannot produce the bad answer, the ID token is forged in the
test with joserfc and served from the token endpoint stub (`TokenStub`, same module as the mock fixture).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
from joserfc.jwk import RSAKey

from app.accounts.tables import Identity, User
from tests.support.client import WebClient
from tests.support.oidc import (
    MockProvider,
    TokenStub,
    callback_with_forged_token,
    local_path,
    query_of,
    start,
    unsigned_token,
)

pytest_plugins = ["tests.support.oidc_fixtures"]


async def assert_nothing_created() -> None:
    """No user and no identity exist."""
    assert await User.count().run() == 0
    assert await Identity.count().run() == 0


def refused(response: httpx.Response, status: int = 400) -> None:
    """The answer is the explanation page, not a sign-in."""
    assert response.status_code == status, response.text
    assert "oidc-problem" in response.text


async def test_a_well_formed_forged_token_is_accepted(oidc_client: WebClient, token_stub: TokenStub) -> None:
    """Control for the tests below: the stub's valid token signs in (token forged with joserfc)."""
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n))
    )
    assert answer.status_code == 303, answer.text
    assert await Identity.count().run() == 1


async def test_tampered_state_is_refused_before_the_code_is_used(
    oidc_client: WebClient, mock_provider: MockProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """Real provider: the state in the answer is changed by one character."""
    await mock_provider.set_user("tamper", email="tamper@example.jp", email_verified=True)
    back = await mock_provider.authorize(await start(oidc_client, "mock"), "tamper")
    params = query_of(back)
    forged_state = params["state"][:-1] + ("A" if params["state"][-1] != "A" else "B")
    answer = await oidc_client.get(f"/oidc/mock/callback?code={params['code']}&state={forged_state}")
    refused(answer)
    # The pending sign-in was used up by the failed attempt: the genuine answer is refused too.
    refused(await oidc_client.get(local_path(back)))
    await assert_nothing_created()
    assert "state does not match" in caplog.text


async def test_replayed_state_is_refused(
    oidc_client: WebClient, mock_provider: MockProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """Real provider: a completed answer is sent again in the same browser after signing out."""
    await mock_provider.set_user("replay", email="replay@example.jp", email_verified=True)
    back = await mock_provider.authorize(await start(oidc_client, "mock"), "replay")
    assert (await oidc_client.get(local_path(back))).status_code == 303
    await oidc_client.sign_out()
    refused(await oidc_client.get(local_path(back)))
    assert (await oidc_client.get("/account")).status_code == 303  # still signed out
    assert await Identity.count().run() == 1
    assert "callback without a sign-in started" in caplog.text


async def test_callback_without_a_session_is_refused(
    oidc_client: WebClient,
    other_oidc_client: WebClient,
    mock_provider: MockProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Real provider: the answer is opened in another browser that never started a sign-in."""
    await mock_provider.set_user("elsewhere", email="elsewhere@example.jp", email_verified=True)
    back = await mock_provider.authorize(await start(oidc_client, "mock"), "elsewhere")
    refused(await other_oidc_client.get(local_path(back)))
    refused(await other_oidc_client.get("/oidc/stub/callback?code=x&state=y"))
    await assert_nothing_created()
    assert "callback without a sign-in started" in caplog.text


async def test_missing_nonce_is_refused(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged with joserfc (the mock always echoes the nonce): a valid token without `nonce`."""
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(None))
    )
    refused(answer)
    await assert_nothing_created()
    assert "ID token lacks nonce" in caplog.text


async def test_replayed_nonce_is_refused(
    oidc_client: WebClient,
    other_oidc_client: WebClient,
    token_stub: TokenStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Forged with joserfc: a token carrying the nonce of an earlier sign-in (another browser's)."""
    earlier_nonce = query_of(await start(other_oidc_client, "stub"))["nonce"]
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(earlier_nonce))
    )
    refused(answer)
    await assert_nothing_created()
    assert "nonce is not the one of this sign-in" in caplog.text


async def test_token_from_another_issuer_is_refused(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged with joserfc: `iss` names another provider (the signature itself is valid)."""
    answer = await callback_with_forged_token(
        oidc_client,
        token_stub,
        lambda n: token_stub.sign(token_stub.claims(n, iss="https://idp.attacker.example")),
    )
    refused(answer)
    await assert_nothing_created()
    assert "claim iss" in caplog.text


async def test_token_for_another_audience_is_refused(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged with joserfc: `aud` is another client, alone or with ours but `azp` theirs."""
    for audience in ("another-client", ["another-client", "kyoso-test"]):
        answer = await callback_with_forged_token(
            oidc_client,
            token_stub,
            lambda n, aud=audience: token_stub.sign(token_stub.claims(n, aud=aud, azp="another-client")),
        )
        refused(answer)
    await assert_nothing_created()
    assert "claim aud" in caplog.text


async def test_expired_token_is_refused_as_a_clock_problem(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged with joserfc: `exp` ten minutes ago (beyond the 60 s leeway)."""
    oidc_client.http.cookies.set("locale", "en")
    now = int(time.time())
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n, iat=now - 900, exp=now - 600))
    )
    refused(answer)
    assert "The sign-in answer has expired" in answer.text
    assert "date and time of your device" in answer.text
    await assert_nothing_created()
    assert "ID token expired" in caplog.text


async def test_token_from_the_future_is_refused_as_a_clock_problem(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged with joserfc: `iat` ten minutes ahead (the provider's clock is wrong)."""
    now = int(time.time())
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n, iat=now + 600, exp=now + 900))
    )
    refused(answer)
    assert 'data-kind="clock"' in answer.text
    await assert_nothing_created()
    assert "issued in the future" in caplog.text


async def test_small_clock_skew_is_tolerated(oidc_client: WebClient, token_stub: TokenStub) -> None:
    """Forged with joserfc: `iat` 30 s ahead is within the leeway."""
    now = int(time.time())
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n, iat=now + 30))
    )
    assert answer.status_code == 303


async def test_alg_none_is_refused(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged by hand (joserfc will not make one): `alg: none` with an empty signature."""
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: unsigned_token(token_stub.claims(n))
    )
    refused(answer)
    await assert_nothing_created()
    assert "algorithm 'none' is never accepted" in caplog.text


async def test_hs256_signed_with_the_public_key_is_refused(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged by hand (joserfc refuses a public key as an HMAC secret): HS256 keyed with the provider's
    public key, the classic algorithm-confusion attack."""
    secret = token_stub.key.as_pem(private=False)

    def forge(nonce: str) -> str:
        def part(value: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

        signing_input = (
            f"{part({'alg': 'HS256', 'kid': token_stub.key.kid})}.{part(token_stub.claims(nonce))}"
        )
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    refused(await callback_with_forged_token(oidc_client, token_stub, forge))
    await assert_nothing_created()
    assert "algorithm 'HS256' is never accepted" in caplog.text


async def test_token_signed_by_an_unknown_key_is_refused_after_one_refetch(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged with joserfc: signed by a key the provider never published (kid unknown, then kid reused)."""
    stranger = RSAKey.generate_key(2048, {"kid": "attacker-key"}, private=True)
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n), key=stranger)
    )
    refused(answer)
    assert token_stub.jwks_fetches == 2  # the cached set, then once more for the unknown kid
    impostor = RSAKey.generate_key(2048, {"kid": token_stub.key.kid}, private=True)
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n), key=impostor)
    )
    refused(answer)
    await assert_nothing_created()
    assert "signed with unknown key 'attacker-key'" in caplog.text


async def test_a_rotated_key_is_found_by_refetching_once(
    oidc_client: WebClient, token_stub: TokenStub
) -> None:
    """Forged with joserfc: the provider publishes a new key after we cached its set."""
    first = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n))
    )
    assert first.status_code == 303
    await oidc_client.sign_out()
    rotated = RSAKey.generate_key(2048, {"kid": "stub-key-2"}, private=True)
    token_stub.extra_keys.append(rotated)
    fetches = token_stub.jwks_fetches
    answer = await callback_with_forged_token(
        oidc_client, token_stub, lambda n: token_stub.sign(token_stub.claims(n), key=rotated)
    )
    assert answer.status_code == 303, answer.text
    assert token_stub.jwks_fetches == fetches + 1


async def test_a_signature_that_does_not_match_is_refused(
    oidc_client: WebClient, token_stub: TokenStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Forged with joserfc: a valid token whose payload was swapped for another subject's."""

    def forge(nonce: str) -> str:
        header, _, signature = token_stub.sign(token_stub.claims(nonce)).split(".")
        other = token_stub.sign(token_stub.claims(nonce, sub="someone-else")).split(".")[1]
        return f"{header}.{other}.{signature}"

    refused(await callback_with_forged_token(oidc_client, token_stub, forge))
    await assert_nothing_created()
    assert "bad_signature" in caplog.text
