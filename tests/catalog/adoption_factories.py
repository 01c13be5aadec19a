"""Catalogue entries, municipalities and officials for adoption tests: rows inserted directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.catalog.codes import with_check_digit
from app.catalog.tables import Municipality, MunicipalityMember, Output
from app.clock import utcnow
from tests.support.people import Person, make_user


async def make_output(
    slug: str, *, created_by: int, status: str = "published", now: datetime | None = None, **columns: Any
) -> int:
    """An Output row in `status` (published by default); any column can be given by name."""
    moment = now or utcnow()
    values: dict[str, Any] = {
        "slug": slug,
        "name": f"Software {slug}",
        "short_description_ja": f"{slug} の概要",
        "short_description_en": f"About {slug}",
        "long_description_ja": "",
        "long_description_en": "",
        "repository_url": f"https://git.example.jp/{slug}",
        "landing_url": "",
        "license": "MIT",
        "license_is_open": True,
        "development_status": "stable",
        "categories": ["it-development"],
        "maintainer_name": "",
        "version": "1.0.0",
        "status": status,
        "created_by": created_by,
        "created_at": moment,
        "updated_at": moment,
        "published_at": moment if status == "published" else None,
        **columns,
    }
    rows = await Output.insert(Output(**values)).run()
    return int(rows[0]["id"])


async def make_municipality(code_prefix: str, prefecture: str, name: str = "") -> dict[str, Any]:
    """A municipality with a valid code built from five digits."""
    code = with_check_digit(code_prefix)
    rows = await Municipality.insert(
        Municipality(code=code, prefecture=prefecture, name=name, prefecture_kana="", name_kana="")
    ).run()
    return {"id": int(rows[0]["id"]), "code": code, "prefecture": prefecture, "name": name}


async def make_municipal_official(email: str, municipality_id: int) -> Person:
    """A user granted as an official of the municipality."""
    person = await make_user(email)
    await MunicipalityMember.insert(
        MunicipalityMember(municipality=municipality_id, user=person.id, granted_at=utcnow())
    ).run()
    return person
