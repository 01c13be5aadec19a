"""Rules about identities and provider configuration, negative cases first."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.accounts.oidc import cache_seconds
from app.accounts.policies import (
    can_link_identity,
    can_unlink_identity,
    email_domain_allowed,
    first_sign_in_role,
)
from app.accounts.viewer import Viewer
from app.settings import OIDCProvider, parse_oidc_providers

ALICE = Viewer(id=1, email="alice@example.jp", display_name="Alice", locale="ja")
BOB = Viewer(id=2, email="bob@example.jp", display_name="Bob", locale="ja")
STARTUP_IDP = OIDCProvider(id="gbiz", issuer="https://gbiz.example", client_id="c")
STAFF_IDP = OIDCProvider(
    id="city",
    issuer="https://login.city.example",
    client_id="c",
    role="official",
    staff=True,
    bureau="digital-services",
    allowed_domains=("city.example",),
)


@pytest.mark.parametrize(
    ("user", "has_password", "count"),
    [
        (None, True, 2),  # anonymous
        (BOB, True, 2),  # not the owner
        (ALICE, False, 1),  # the last way to sign in
        (ALICE, False, 0),
    ],
)
def test_cannot_unlink(user: Viewer | None, has_password: bool, count: int) -> None:
    assert not can_unlink_identity(user, ALICE.id, has_password, count)


@pytest.mark.parametrize(("has_password", "count"), [(True, 1), (False, 2), (True, 3)])
def test_owner_unlinks_while_another_way_remains(has_password: bool, count: int) -> None:
    assert can_unlink_identity(ALICE, ALICE.id, has_password, count)


def test_only_signed_in_users_link() -> None:
    assert not can_link_identity(None)
    assert can_link_identity(ALICE)


@pytest.mark.parametrize(
    "email", ["eve@startup.example", "eve@sub.city.example", "eve@city.example.evil", "no-at-sign", "x@"]
)
def test_staff_provider_refuses_other_domains(email: str) -> None:
    assert not email_domain_allowed(STAFF_IDP, email)
    assert first_sign_in_role(STAFF_IDP, email) == "member"


def test_staff_provider_without_a_domain_list_refuses_everyone() -> None:
    unlisted = OIDCProvider(id="x", issuer="i", client_id="c", role="official", staff=True, bureau="b")
    assert not email_domain_allowed(unlisted, "taro@city.example")
    assert first_sign_in_role(unlisted, "taro@city.example") == "member"


def test_official_only_from_a_staff_provider() -> None:
    not_staff = OIDCProvider(
        id="x", issuer="i", client_id="c", role="official", allowed_domains=("city.example",)
    )
    assert first_sign_in_role(not_staff, "taro@city.example") == "member"
    assert first_sign_in_role(STAFF_IDP, "Taro@City.Example") == "official"


def test_startup_provider_accepts_any_domain_as_member() -> None:
    assert email_domain_allowed(STARTUP_IDP, "founder@startup.example")
    assert first_sign_in_role(STARTUP_IDP, "founder@startup.example") == "member"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"issuer": ""}, "ISSUER"),
        ({"auth_method": "client_secret_jwt"}, "AUTH_METHOD"),
        ({"auth_method": "private_key_jwt"}, "PRIVATE_KEY_FILE"),
        ({"role": "admin"}, "ROLE must be"),
        ({"role": "official"}, "ROLE=official needs"),
        ({"scopes": ("email",)}, "openid"),
        ({"algorithms": ("HS256",)}, "ALGORITHMS"),
        ({"algorithms": ("none",)}, "ALGORITHMS"),
    ],
)
def test_configuration_problems_are_named(changes: dict[str, object], problem: str) -> None:
    from dataclasses import replace

    assert any(problem in text for text in replace(STARTUP_IDP, **changes).problems())  # type: ignore[arg-type]


def test_a_good_configuration_has_no_problems() -> None:
    assert STARTUP_IDP.problems() == []
    assert STAFF_IDP.problems() == []


def test_providers_are_read_from_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text("PEM", encoding="utf-8")
    providers = parse_oidc_providers(
        {
            "OIDC_PROVIDERS": "gbiz, city",
            "OIDC_GBIZ_ISSUER": "https://gbiz.example",
            "OIDC_GBIZ_CLIENT_ID": "kyoso",
            "OIDC_GBIZ_PRIVATE_KEY_FILE": str(key_file),
            "OIDC_GBIZ_NAME_JA": "GビズID",
            "OIDC_GBIZ_USERINFO": "1",
            "OIDC_CITY_ISSUER": "https://login.city.example",
            "OIDC_CITY_CLIENT_ID": "kyoso",
            "OIDC_CITY_CLIENT_SECRET": "s",
            "OIDC_CITY_ROLE": "official",
            "OIDC_CITY_STAFF": "true",
            "OIDC_CITY_BUREAU": "digital-services",
            "OIDC_CITY_ALLOWED_DOMAINS": "City.Example, ward.city.example",
            "OIDC_CITY_SCOPES": "openid email",
        }
    )
    gbiz, city = providers
    assert (gbiz.auth_method, gbiz.private_key, gbiz.use_userinfo) == ("private_key_jwt", "PEM", True)
    assert gbiz.display_name("ja") == "GビズID"
    assert gbiz.display_name("en") == "gbiz"
    assert (city.role, city.staff, city.bureau) == ("official", True, "digital-services")
    assert city.allowed_domains == ("city.example", "ward.city.example")
    assert city.scopes == ("openid", "email")
    assert city.auth_method == "client_secret_basic"
    assert gbiz.problems() == city.problems() == []


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 3600),
        ("no-store", 3600),
        ("max-age=5", 60),
        ("public, max-age=600", 600),
        ("max-age=999999", 86400),
    ],
)
def test_discovery_is_cached_as_the_provider_says_within_bounds(header: str | None, seconds: int) -> None:
    assert cache_seconds(header) == seconds
