"""Pytest fixtures of the OpenID Connect peers (load with `pytest_plugins = ["tests.support.oidc_fixtures"]`).

Kept apart from `tests.support.oidc`, which test modules import directly: a plugin module must be imported by
pytest first to have its assertions rewritten.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from app.accounts.oidc import forget_provider_metadata
from app.accounts.viewer import forget_viewer
from app.asgi import create_app
from app.settings import Settings
from app.web.page_cache import forget_public_pages
from tests.support.client import WebClient
from tests.support.oidc import (
    MockProvider,
    TokenStub,
    providers_for,
    running_mock_provider,
    running_token_stub,
)


def pytest_configure(config: pytest.Config) -> None:
    """Silence the deprecations oidc-provider-mock triggers inside Authlib (not our code, nothing to fix)."""
    config.addinivalue_line("filterwarnings", "ignore:get_jwt_config:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:authlib.jose module is deprecated")


@pytest.fixture(scope="session")
def mock_provider() -> Iterator[MockProvider]:
    """oidc-provider-mock for the whole run."""
    with running_mock_provider() as mock:
        yield mock


@pytest.fixture(scope="session")
def token_stub() -> Iterator[TokenStub]:
    """The forged-token stub for the whole run."""
    with running_token_stub() as stub:
        yield stub


@pytest.fixture(scope="session")
def oidc_settings(settings: Settings, mock_provider: MockProvider, token_stub: TokenStub) -> Settings:
    """The test settings with the mock and stub providers configured."""
    return replace(settings, oidc_providers=providers_for(mock_provider, token_stub))


@pytest.fixture(scope="session")
def oidc_app(oidc_settings: Settings) -> Litestar:
    """The app with identity providers configured."""
    return create_app(oidc_settings)


@pytest.fixture
async def oidc_client(
    oidc_app: Litestar,
    database: Engine,  # type: ignore[type-arg]
    token_stub: TokenStub,
) -> AsyncIterator[WebClient]:
    """A visitor of the app with providers, on a fresh database, with nothing cached from earlier tests."""
    await forget_public_pages()
    forget_viewer()
    forget_provider_metadata()
    token_stub.reset()
    for name in ("sessions", "rate_limit"):
        with contextlib.suppress(FileNotFoundError):  # nothing stored yet
            await oidc_app.stores.get(name).delete_all()
    async with WebClient.for_app(oidc_app) as web:
        yield web


@pytest.fixture
async def other_oidc_client(oidc_app: Litestar, oidc_client: WebClient) -> AsyncIterator[WebClient]:
    """A second visitor of the app with providers, with cookies of their own."""
    async with WebClient.for_app(oidc_app) as web:
        yield web
