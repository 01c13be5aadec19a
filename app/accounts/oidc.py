"""OpenID Connect with a configured provider: discovery, keys, the authorization request, code exchange."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import ssl
import time
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode

import httpx
import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from app.settings import OIDCProvider

log = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 5.0
# Discovery documents and key sets are kept this long unless the provider's Cache-Control says otherwise.
DEFAULT_CACHE_SECONDS = 3600
MIN_CACHE_SECONDS = 60
MAX_CACHE_SECONDS = 86_400
MAX_AGE = re.compile(r"max-age=(\d+)")


class OIDCFailure(Exception):
    """A sign-in through a provider failed: `kind` chooses what the person reads, `detail` goes to the log."""

    UNAVAILABLE = "unavailable"  # the provider did not answer or answered with a server error
    CANCELLED = "cancelled"  # the person said no at the provider (error=access_denied)
    CLOCK = "clock"  # the ID token is expired or from the future: a clock is wrong or it took too long
    CONFIGURATION = "configuration"  # our settings and the provider disagree
    REJECTED = "rejected"  # the answer failed a security check
    FLOW = "flow"  # no matching sign-in was started in this browser, or it was already used
    DOMAIN = "domain"  # the email domain is not accepted for this provider
    NO_EMAIL = "no_email"  # the provider shared no email address
    EMAIL_TAKEN = "email_taken"  # an account uses the (unverified) email: no automatic linking
    IDENTITY_TAKEN = "identity_taken"  # the identity already belongs to another account
    INACTIVE = "inactive"  # the linked account is deactivated
    NOT_THE_SAME_ACCOUNT = "not_the_same_account"  # confirming a link with a different account

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of a provider's discovery document we use."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None


_discovery: dict[str, tuple[float, ProviderMetadata]] = {}
_key_sets: dict[str, tuple[float, KeySet]] = {}


def forget_provider_metadata() -> None:
    """Drop cached discovery documents and key sets (tests; a provider rotated everything)."""
    _discovery.clear()
    _key_sets.clear()


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every request to providers (building one per HTTP client took 50–190 ms)."""
    return ssl.create_default_context()


def cache_seconds(cache_control: str | None) -> int:
    """How long to keep a document: its Cache-Control max-age within [1 min, 1 day], else an hour."""
    found = MAX_AGE.search(cache_control or "")
    if found is None or "no-store" in (cache_control or ""):
        return DEFAULT_CACHE_SECONDS
    return max(MIN_CACHE_SECONDS, min(MAX_CACHE_SECONDS, int(found.group(1))))


async def fetch_json(url: str, *, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], int]:
    """GET a JSON object and how long it may be cached; OIDCFailure when the provider is down or odd."""
    try:
        async with httpx.AsyncClient(
            timeout=HTTP_TIMEOUT_SECONDS, verify=tls_context(), trust_env=False
        ) as http:
            response = await http.get(url, headers=headers)
    except httpx.HTTPError as error:
        raise OIDCFailure(OIDCFailure.UNAVAILABLE, f"GET {url}: {error!r}") from error
    if response.status_code >= 500:
        raise OIDCFailure(OIDCFailure.UNAVAILABLE, f"GET {url}: HTTP {response.status_code}")
    if response.status_code != 200:
        raise OIDCFailure(OIDCFailure.CONFIGURATION, f"GET {url}: HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError as error:
        raise OIDCFailure(OIDCFailure.CONFIGURATION, f"GET {url}: not JSON") from error
    if not isinstance(document, dict):
        raise OIDCFailure(OIDCFailure.CONFIGURATION, f"GET {url}: not a JSON object")
    return document, cache_seconds(response.headers.get("cache-control"))


async def provider_metadata(provider: OIDCProvider) -> ProviderMetadata:
    """The provider's discovery document (cached), checked against its configured issuer."""
    cached = _discovery.get(provider.id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    document, max_age = await fetch_json(url)
    # OpenID Connect Discovery 1.0 §4.3: the issuer must be exactly the one we were configured with.
    if document.get("issuer") != provider.issuer:
        raise OIDCFailure(
            OIDCFailure.CONFIGURATION,
            f"{url} names issuer {document.get('issuer')!r}, configured {provider.issuer!r}",
        )
    needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if any(not isinstance(document.get(name), str) for name in needed):
        raise OIDCFailure(OIDCFailure.CONFIGURATION, f"{url} lacks one of {needed}")
    optional = ("userinfo_endpoint", "end_session_endpoint")
    metadata = ProviderMetadata(
        issuer=provider.issuer,
        **{name: document[name] for name in needed},
        **{name: document[name] for name in optional if isinstance(document.get(name), str)},
    )
    _discovery[provider.id] = (time.monotonic() + max_age, metadata)
    return metadata


async def signing_keys(
    provider: OIDCProvider, metadata: ProviderMetadata, *, refresh: bool = False
) -> KeySet:
    """The provider's public keys (cached; `refresh` fetches them again, e.g. for an unknown key id)."""
    cached = _key_sets.get(provider.id)
    if not refresh and cached is not None and cached[0] > time.monotonic():
        return cached[1]
    document, max_age = await fetch_json(metadata.jwks_uri)
    try:
        # Only public keys: a JWKS entry with private or symmetric material is not a signing key we trust.
        usable = [
            key
            for key in document.get("keys", [])
            if isinstance(key, dict) and key.get("kty") in {"RSA", "EC", "OKP"} and "d" not in key
        ]
        key_set = KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError) as error:
        raise OIDCFailure(OIDCFailure.CONFIGURATION, f"{metadata.jwks_uri}: bad JWKS {error!r}") from error
    _key_sets[provider.id] = (time.monotonic() + max_age, key_set)
    return key_set


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and the secrets that must come back (kept in the server-side session)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def s256(code_verifier: str) -> str:
    """The PKCE S256 code challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def client_signing_key(provider: OIDCProvider) -> RSAKey | ECKey | OKPKey:
    """The private key of a private_key_jwt client, from a PEM or a JWK (JSON)."""
    text = provider.private_key.strip()
    key_classes: tuple[type[RSAKey] | type[ECKey] | type[OKPKey], ...] = (RSAKey, ECKey, OKPKey)
    if text.startswith("{"):
        kty = json.loads(text).get("kty")
        key_classes = tuple(cls for cls in key_classes if cls.key_type == kty)
    for key_class in key_classes:
        try:
            return key_class.import_key(text)
        except (JoseError, ValueError, TypeError):
            continue
    raise OIDCFailure(OIDCFailure.CONFIGURATION, f"{provider.id}: the private key is not RSA, EC or OKP")


def oauth_client(provider: OIDCProvider, redirect_uri: str, token_endpoint: str) -> AsyncOAuth2Client:
    """Authlib's client for this provider, authenticating at the token endpoint as configured."""
    secret: Any = provider.client_secret
    if provider.auth_method == "private_key_jwt":
        secret = client_signing_key(provider)
    client = AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=secret,
        token_endpoint_auth_method=provider.auth_method,
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_SECONDS,
        verify=tls_context(),
        trust_env=False,
    )
    if provider.auth_method == "private_key_jwt":
        auth = PrivateKeyJWT(token_endpoint)
        if isinstance(secret, ECKey):
            auth.alg = "ES256"
        elif isinstance(secret, OKPKey):
            auth.alg = "EdDSA"
        client.register_client_auth_method(auth)
    return client


async def authorization_request(
    provider: OIDCProvider, metadata: ProviderMetadata, redirect_uri: str, locale: str
) -> AuthorizationRequest:
    """A code-flow request with fresh state, nonce and PKCE (S256) verifier."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)
    async with oauth_client(provider, redirect_uri, metadata.token_endpoint) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint,
            state=state,
            code_verifier=code_verifier,
            nonce=nonce,
            ui_locales=locale,
        )
    return AuthorizationRequest(url=str(url), state=state, nonce=nonce, code_verifier=code_verifier)


async def exchange_code(
    provider: OIDCProvider, metadata: ProviderMetadata, redirect_uri: str, code: str, code_verifier: str
) -> dict[str, Any]:
    """Trade the authorization code (with the PKCE verifier) for tokens at the token endpoint."""
    try:
        async with oauth_client(provider, redirect_uri, metadata.token_endpoint) as client:
            token = await client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )
    except OAuthError as error:
        kind = (
            OIDCFailure.CONFIGURATION
            if error.error in {"invalid_client", "unauthorized_client", "unsupported_grant_type"}
            else OIDCFailure.FLOW
        )
        raise OIDCFailure(kind, f"token endpoint said {error.error}: {error.description}") from error
    except (httpx2.HTTPStatusError, httpx.HTTPStatusError) as error:
        raise OIDCFailure(OIDCFailure.UNAVAILABLE, f"token endpoint: {error!r}") from error
    except (httpx2.HTTPError, httpx.HTTPError) as error:
        raise OIDCFailure(OIDCFailure.UNAVAILABLE, f"token endpoint: {error!r}") from error
    except ValueError as error:
        raise OIDCFailure(OIDCFailure.CONFIGURATION, f"token endpoint: {error}") from error
    if not isinstance(token.get("id_token"), str):
        raise OIDCFailure(OIDCFailure.CONFIGURATION, "token response without an id_token (scope openid?)")
    return dict(token)


async def fetch_userinfo(metadata: ProviderMetadata, access_token: str, subject: str) -> dict[str, Any]:
    """The userinfo claims, which must be about the same subject as the ID token (OIDC Core §5.3.2)."""
    if metadata.userinfo_endpoint is None:
        raise OIDCFailure(OIDCFailure.CONFIGURATION, "userinfo is configured but not offered")
    claims, _ = await fetch_json(
        metadata.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
    )
    if claims.get("sub") != subject:
        raise OIDCFailure(OIDCFailure.REJECTED, "userinfo sub differs from the ID token's")
    return claims


def end_session_url(
    provider: OIDCProvider, metadata: ProviderMetadata, id_token: str, post_logout_redirect_uri: str
) -> str | None:
    """RP-initiated logout at the provider (OIDC RP-Initiated Logout 1.0), when it offers it."""
    if metadata.end_session_endpoint is None:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": provider.client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
    )
    separator = "&" if "?" in metadata.end_session_endpoint else "?"
    return f"{metadata.end_session_endpoint}{separator}{query}"
