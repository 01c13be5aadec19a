"""People for tests, created through the same code operators use."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.corporate_number import with_check_digit
from app.accounts.passwords import hash_password
from app.accounts.seed import create_account
from app.accounts.tables import Bureau, Membership, Organization
from app.clock import utcnow

PASSWORD = "a-long-test-passphrase-for-kyoso"


@dataclass(frozen=True)
class Person:
    """A user a test can sign in as."""

    id: int
    email: str
    password: str = PASSWORD


_password_hash: list[str] = []


async def make_user(email: str, *, role: str | None = None, bureau_id: int | None = None) -> Person:
    """A user with an optional staff role (the password is hashed once per run: argon2 is slow on purpose)."""
    if not _password_hash:
        _password_hash.append(await hash_password(PASSWORD))
    user_id = await create_account(
        email=email,
        display_name=email.split("@")[0],
        password=PASSWORD,
        password_hash=_password_hash[0],
        role=role,
        bureau_id=bureau_id,
        now=utcnow(),
    )
    return Person(id=user_id, email=email)


async def make_bureau(slug: str = "digital-services") -> int:
    """A bureau."""
    rows = await Bureau.insert(
        Bureau(slug=slug, name_ja="デジタルサービス局", name_en="Digital Services", created_at=utcnow())
    ).run()
    return int(rows[0]["id"])


async def make_organization(owner: Person, base_digits: str = "010401234567") -> int:
    """An organization owned by `owner`."""
    rows = await Organization.insert(
        Organization(
            name_ja="株式会社テスト",
            name_en="Test Inc.",
            corporate_number=with_check_digit(base_digits),
            website="",
            profile="",
            created_at=utcnow(),
        )
    ).run()
    organization_id = int(rows[0]["id"])
    await Membership.insert(
        Membership(user=owner.id, organization=organization_id, role="owner", joined_at=utcnow())
    ).run()
    return organization_id
