"""A challenge open for applications with a form, and the people around it, for submission tests."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from pypdf import PdfWriter

from app.accounts.tables import Membership
from app.clock import utcnow
from app.submissions.tables import FormField
from tests.challenges.factories import make_challenge
from tests.support.people import Person, make_bureau, make_organization, make_user


@dataclass(frozen=True)
class Contest:
    """An open challenge with a form, its bureau's official, and a startup with two members."""

    challenge_id: int
    slug: str
    bureau_id: int
    official: Person
    founder: Person
    colleague: Person
    organization_id: int
    fields: dict[str, int]


async def add_field(challenge_id: int, kind: str, label: str, *, position: int, **columns: object) -> int:
    """A form field; returns its id."""
    rows = await FormField.insert(
        FormField(
            challenge=challenge_id,
            position=position,
            kind=kind,
            label_ja=label,
            label_en="",
            help_ja="",
            help_en="",
            required=columns.pop("required", True),
            created_at=utcnow(),
            **columns,
        )
    ).run()
    return int(rows[0]["id"])


async def make_contest(*, close_in: timedelta = timedelta(days=10), now: datetime | None = None) -> Contest:
    """An open challenge `close_in` from now with one field of every kind."""
    now = now or utcnow()
    bureau_id = await make_bureau("digital")
    official = await make_user("official@city.example.jp", role="official", bureau_id=bureau_id)
    challenge_id = await make_challenge(
        bureau_id=bureau_id, author_id=official.id, slug="smart-city", now=now, close_in=close_in
    )
    founder = await make_user("founder@startup.example")
    colleague = await make_user("colleague@startup.example")
    organization_id = await make_organization(founder)
    await Membership.insert(
        Membership(user=colleague.id, organization=organization_id, role="member", joined_at=now)
    ).run()
    choices = json.dumps([{"ja": "東京都内", "en": "In Tokyo"}, {"ja": "都外", "en": "Outside Tokyo"}])
    fields = {
        "pitch": await add_field(challenge_id, "long_text", "提案内容", position=1, max_chars=400),
        "employees": await add_field(challenge_id, "number", "従業員数", position=2),
        "office": await add_field(challenge_id, "single_choice", "所在地", position=3, choices=choices),
        "video": await add_field(challenge_id, "url", "ピッチ動画", position=4, required=False),
        "deck": await add_field(challenge_id, "file", "ピッチ資料", position=5),
    }
    return Contest(
        challenge_id, "smart-city", bureau_id, official, founder, colleague, organization_id, fields
    )


def pdf_bytes(pages: int = 2) -> bytes:
    """A valid PDF of blank pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
