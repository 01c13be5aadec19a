"""Demo data a newcomer can click through as each role, and account creation for the command line."""

from __future__ import annotations

from datetime import date, datetime

from app.accounts.corporate_number import with_check_digit
from app.accounts.passwords import hash_password
from app.accounts.services import assign_role, normalize_email
from app.accounts.tables import Bureau, Membership, Organization, User

# Printed by `seed-demo` and refused for real accounts by the password rules.
DEMO_PASSWORD = "kyoso-demo-2026"  # noqa: S105 (a published demo password, not a secret)

BUREAUS = (
    ("digital-services", "デジタルサービス局", "Bureau of Digital Services"),
    ("industry-labor", "産業労働局", "Bureau of Industrial and Labor Affairs"),
    ("port-harbor", "港湾局", "Bureau of Port and Harbor"),
)
# (email, display name, role, bureau slug)
STAFF = (
    ("admin@kyoso.example", "管理 太郎", "admin", None),
    ("official.digital@kyoso.example", "電子 花子", "official", "digital-services"),
    ("official.digital2@kyoso.example", "情報 次郎", "official", "digital-services"),
    ("official.industry@kyoso.example", "産業 三郎", "official", "industry-labor"),
    ("official.port@kyoso.example", "港 四季", "official", "port-harbor"),
    ("judge1@kyoso.example", "審査 一郎", "judge", None),
    ("judge2@kyoso.example", "審査 二葉", "judge", None),
    ("judge3@kyoso.example", "Judge Three", "judge", None),
)
# (name ja, name en, 12 base digits of the 法人番号, founded, [(email, display name, role)])
STARTUPS = (
    (
        "株式会社みらいモビリティ",
        "Mirai Mobility Inc.",
        "010401234567",
        date(2021, 4, 1),
        [
            ("founder@mirai-mobility.example", "未来 創", "owner"),
            ("member@mirai-mobility.example", "移動 歩", "member"),
        ],
    ),
    (
        "合同会社こそだてテック",
        "Kosodate Tech LLC",
        "011001765432",
        date(2023, 10, 2),
        [("founder@kosodate-tech.example", "育 さくら", "owner")],
    ),
)


async def create_account(
    *,
    email: str,
    display_name: str,
    password: str,
    role: str | None,
    bureau_id: int | None,
    now: datetime,
    password_hash: str | None = None,
) -> int:
    """Insert a user (and their staff role), without the sign-up rules: for operators and demo data.

    `password_hash`, when given, is stored instead of hashing `password` again (demo data shares one).
    """
    rows = await User.insert(
        User(
            email=normalize_email(email),
            display_name=display_name,
            locale="ja",
            password_hash=password_hash or await hash_password(password),
            created_at=now,
        )
    ).run()
    user_id: int = rows[0]["id"]
    if role is not None:
        await assign_role(email=email, role=role, bureau_id=bureau_id, now=now)
    return user_id


async def seed_demo_data(*, now: datetime) -> list[tuple[str, str]]:
    """Create demo bureaus, staff, judges and startups; return (email, role) of every account."""
    accounts: list[tuple[str, str]] = []
    demo_hash = await hash_password(DEMO_PASSWORD)
    async with User._meta.db.transaction():
        bureau_ids: dict[str, int] = {}
        for slug, name_ja, name_en in BUREAUS:
            rows = await Bureau.insert(
                Bureau(slug=slug, name_ja=name_ja, name_en=name_en, created_at=now)
            ).run()
            bureau_ids[slug] = rows[0]["id"]
        for email, name, role, bureau in STAFF:
            await create_account(
                email=email,
                display_name=name,
                password=DEMO_PASSWORD,
                password_hash=demo_hash,
                role=role,
                bureau_id=bureau_ids[bureau] if bureau else None,
                now=now,
            )
            accounts.append((email, f"{role} {bureau or ''}".strip()))
        for name_ja, name_en, base, founded, members in STARTUPS:
            rows = await Organization.insert(
                Organization(
                    name_ja=name_ja,
                    name_en=name_en,
                    corporate_number=with_check_digit(base),
                    founded_on=founded,
                    website="",
                    profile="",
                    created_at=now,
                )
            ).run()
            for email, name, member_role in members:
                user_id = await create_account(
                    email=email,
                    display_name=name,
                    password=DEMO_PASSWORD,
                    password_hash=demo_hash,
                    role=None,
                    bureau_id=None,
                    now=now,
                )
                await Membership.insert(
                    Membership(user=user_id, organization=rows[0]["id"], role=member_role, joined_at=now)
                ).run()
                accounts.append((email, f"startup {member_role} ({name_en})"))
    return accounts
