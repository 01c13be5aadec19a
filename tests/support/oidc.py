"""OpenID Connect peers for tests: oidc-provider-mock on 127.0.0.1, and a token endpoint stub for forged ones.

The mock is a real provider (discovery, authorize, token, JWKS, userinfo, end_session). It cannot issue a bad
ID token, so `TokenStub` serves discovery and JWKS of its own and hands out whatever token a test forged.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.accounts.oidc import tls_context
from app.settings import OIDCProvider
from tests.support.client import WebClient
from tests.support.live_server import free_port
from tests.support.peers import missing_peer

HOST = "127.0.0.1"
CLIENT_ID = "kyoso-test"
STAFF_CLIENT_ID = "kyoso-city"


@dataclass
class MockProvider:
    """oidc-provider-mock serving on 127.0.0.1 (its issuer follows the Host header: always use this URL)."""

    base_url: str

    async def set_user(self, sub: str, **claims: Any) -> None:
        """Define the claims the provider reports for `sub`."""
        async with httpx.AsyncClient(verify=tls_context(), trust_env=False) as http:
            response = await http.put(f"{self.base_url}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text

    async def authorize(self, authorization_url: str, sub: str | None) -> str:
        """Press "Authorize" as `sub` (or "Deny" when None) on the provider; returns where it redirects."""
        form = {"sub": sub} if sub is not None else {"action": "deny"}
        async with httpx.AsyncClient(verify=tls_context(), trust_env=False) as http:
            response = await http.post(authorization_url, data=form)
        assert response.status_code == 302, response.text
        return str(response.headers["location"])


@dataclass
class TokenStub:
    """A provider whose token endpoint returns `id_token` as set by the test (forged with joserfc)."""

    base_url: str
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, {"kid": "stub-key-1"}, private=True)
    )
    # Our client signs its private_key_jwt assertions with this (the stub checks them with its public half).
    client_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    extra_keys: list[RSAKey] = field(default_factory=list)
    id_token: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    jwks_fetches: int = 0

    def reset(self) -> None:
        """Forget what the previous test set and saw."""
        self.extra_keys.clear()
        self.id_token = ""
        self.token_requests.clear()
        self.jwks_fetches = 0

    def discovery(self) -> dict[str, Any]:
        """The discovery document (no end_session_endpoint, no userinfo)."""
        return {
            "issuer": self.base_url,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        """The public keys it publishes."""
        keys = [self.key, *self.extra_keys]
        return {"keys": [key.as_dict(private=False) for key in keys]}

    def claims(self, nonce: str | None, **overrides: Any) -> dict[str, Any]:
        """Valid claims for our client; `overrides` replace (None removes) any of them."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.base_url,
            "sub": "stub-subject-1",
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "email": "forged@example.jp",
            "email_verified": True,
            "name": "Stub Person",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None, alg: str = "RS256") -> str:
        """A JWS of `claims` signed by `key` (default: the published key)."""
        key = key or self.key
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def unsigned_token(claims: dict[str, Any]) -> str:
    """A token with `alg: none` and no signature (joserfc refuses to make one, so it is built by hand)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def stub_handler(stub: TokenStub) -> type[BaseHTTPRequestHandler]:
    """The stub's request handler, bound to `stub`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self.reply(200, stub.discovery())
            elif self.path == "/jwks":
                stub.jwks_fetches += 1
                self.reply(200, stub.jwks())
            else:
                self.reply(404, {"error": "not_found"})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            form = {name: values[0] for name, values in parse_qs(body).items()}
            stub.token_requests.append({**form, "authorization": self.headers.get("authorization", "")})
            self.reply(
                200, {"access_token": "stub-access", "token_type": "Bearer", "id_token": stub.id_token}
            )

        def reply(self, status: int, document: dict[str, Any]) -> None:
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest shows the app's log, not every stub request."""

    return Handler


@contextmanager
def running_mock_provider() -> Iterator[MockProvider]:
    """oidc-provider-mock on a free port of 127.0.0.1, in a thread, for as long as the block runs."""
    try:
        import oidc_provider_mock
        import werkzeug.serving
    except ImportError as error:
        missing_peer("oidc-provider-mock", f"pip install oidc-provider-mock ({error})")
        raise
    # run_server_in_thread() binds "localhost" (maybe ::1): serve the same app on 127.0.0.1 instead.
    server = werkzeug.serving.make_server(HOST, 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield MockProvider(base_url=f"http://{HOST}:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def running_token_stub() -> Iterator[TokenStub]:
    """The forged-token provider on a free port of 127.0.0.1."""
    server = ThreadingHTTPServer((HOST, 0), BaseHTTPRequestHandler)
    stub = TokenStub(base_url=f"http://{HOST}:{server.server_port}")
    server.RequestHandlerClass = stub_handler(stub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def providers_for(mock: MockProvider, stub: TokenStub) -> tuple[OIDCProvider, ...]:
    """A startup provider and a staff provider on the mock, and the forged-token stub."""
    return (
        OIDCProvider(
            id="mock",
            issuer=mock.base_url,
            client_id=CLIENT_ID,
            client_secret="s3cret",
            name_ja="テストIdP",
            name_en="Test IdP",
            use_userinfo=True,
        ),
        OIDCProvider(
            id="city",
            issuer=mock.base_url,
            client_id=STAFF_CLIENT_ID,
            client_secret="s3cret",
            name_ja="都庁",
            name_en="City Hall",
            role="official",
            staff=True,
            bureau="digital-services",
            allowed_domains=("city.example",),
        ),
        OIDCProvider(id="stub", issuer=stub.base_url, client_id=CLIENT_ID, client_secret="s3cret"),
        OIDCProvider(
            id="down", issuer=f"http://{HOST}:{free_port()}", client_id=CLIENT_ID, name_en="Down IdP"
        ),
        OIDCProvider(
            id="stubjwt",
            issuer=stub.base_url,
            client_id=CLIENT_ID,
            auth_method="private_key_jwt",
            private_key=stub.client_key.as_pem(private=True).decode(),
        ),
        OIDCProvider(id="misconfigured", issuer=stub.base_url + "/", client_id=CLIENT_ID),
    )


def query_of(url: str) -> dict[str, str]:
    """The query parameters of `url`, one value each."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def local_path(url: str) -> str:
    """Path and query of an absolute URL (the provider redirects to http://testserver/...)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def start(client: WebClient, provider_id: str, query: str = "") -> str:
    """Press a provider's button: the authorization URL the app redirects to."""
    response = await client.get(f"/oidc/{provider_id}/start{query}")
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


async def sign_in_with_mock(
    client: WebClient, mock: MockProvider, sub: str, provider_id: str = "mock", query: str = ""
) -> httpx.Response:
    """The whole round trip through the mock provider; returns the app's answer to the callback."""
    authorization_url = await start(client, provider_id, query)
    return await client.get(local_path(await mock.authorize(authorization_url, sub)))


async def callback_with_forged_token(
    client: WebClient, stub: TokenStub, forge: Any, *, state: str | None = None
) -> httpx.Response:
    """Start a stub sign-in, let `forge(nonce)` make the ID token the stub will serve, and come back."""
    params = query_of(await start(client, "stub"))
    stub.id_token = forge(params["nonce"])
    return await client.get(f"/oidc/stub/callback?code=forged-code&state={state or params['state']}")
