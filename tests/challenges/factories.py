"""Challenges, questions and apps for tests: rows inserted directly, in any state, at any time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.utils import join_paths

from app.accounts.tables import Bureau
from app.asgi import create_app
from app.challenges.lifecycle import PUBLIC_STATUSES, Status
from app.challenges.tables import Challenge, ChallengeTheme, Question
from app.settings import Settings
from tests.support.people import make_user

DEFAULT_THEMES: tuple[str, ...] = ("防災",)
DEFAULT_ELIGIBILITY: tuple[dict[str, str], ...] = (
    {"ja": "設立10年以内の法人", "en": "Founded within 10 years"},
)
_COLUMN_NAMES = frozenset(column._meta.name for column in Challenge._meta.columns)


async def make_challenge(
    *,
    bureau_id: int,
    author_id: int,
    slug: str,
    status: str = "published",
    now: datetime,
    close_in: timedelta | None = timedelta(days=10),
    themes: Sequence[str] = DEFAULT_THEMES,
    title_ja: str = "地域防災の課題",
    title_en: str = "Disaster preparedness",
    summary_ja: str = "課題の概要です。",
    body_ja: str = "課題の**本文**です。",
    **columns: Any,
) -> int:
    """Insert a challenge (and its themes) in `status` as of `now`; returns its id.

    The application deadline is `now + close_in` (None: no deadline), applications opened a month
    before `now`, and a public status gets `published_at = now`. Any other column of Challenge can be
    given by name (e.g. `screening_at=...`, `summary_en=...`, `updated_at=...`, `published_at=None`).
    """
    unknown = set(columns) - _COLUMN_NAMES
    if unknown:
        raise TypeError(f"Challenge has no column {sorted(unknown)}")
    values: dict[str, Any] = {
        "slug": slug,
        "bureau": bureau_id,
        "status": Status(status).value,
        "author": author_id,
        "title_ja": title_ja,
        "title_en": title_en,
        "summary_ja": summary_ja,
        "summary_en": "A summary of the challenge.",
        "body_ja": body_ja,
        "body_en": "The **body** of the challenge.",
        "background_ja": "",
        "background_en": "",
        "problem_ja": "",
        "problem_en": "",
        "outcome_ja": "",
        "outcome_en": "",
        "eligibility": [dict(condition) for condition in DEFAULT_ELIGIBILITY],
        "poc_budget_jpy": 5_000_000,
        "selection_count": 1,
        "contact": "デジタルサービス局 (digital@city.example.jp)",
        "applications_open_at": now - timedelta(days=30),
        "questions_close_at": None,
        "applications_close_at": now + close_in if close_in is not None else None,
        "screening_at": None,
        "pitch_at": None,
        "results_at": None,
        "created_at": now - timedelta(days=40),
        "updated_at": now,
        "published_at": now if Status(status) in PUBLIC_STATUSES else None,
        "material_change_note": "",
        **columns,
    }
    rows = await Challenge.insert(Challenge(**values)).run()
    challenge_id = int(rows[0]["id"])
    if themes:
        await ChallengeTheme.insert(
            *(ChallengeTheme(challenge=challenge_id, theme=theme) for theme in themes)
        ).run()
    return challenge_id


async def make_bureau_named(slug: str, *, name_ja: str, name_en: str, now: datetime) -> int:
    """A bureau with the given names (tests/support/people.make_bureau names every bureau alike)."""
    rows = await Bureau.insert(Bureau(slug=slug, name_ja=name_ja, name_en=name_en, created_at=now)).run()
    return int(rows[0]["id"])


async def make_official(bureau_id: int, email: str = "official@city.example.jp") -> int:
    """An official of the bureau (a challenge's author); returns the user id."""
    return (await make_user(email, role="official", bureau_id=bureau_id)).id


async def make_question(
    challenge_id: int,
    *,
    asker_id: int,
    body: str,
    asked_at: datetime,
    answer: str = "",
    answered_by: int | None = None,
    answered_at: datetime | None = None,
) -> int:
    """A question (answered when `answered_at` is given); returns its id."""
    rows = await Question.insert(
        Question(
            challenge=challenge_id,
            asker=asker_id,
            body=body,
            asked_at=asked_at,
            answer=answer,
            answered_by=answered_by,
            answered_at=answered_at,
        )
    ).run()
    return int(rows[0]["id"])


def app_with(settings: Settings, controllers: Iterable[type[Controller]]) -> Litestar:
    """The app with `controllers` registered, unless create_app already registers them (same paths)."""
    app = create_app(settings)
    registered = {route.path for route in app.routes}
    for controller in controllers:
        # A controller without its own `path` inherits Litestar's slot descriptor, not a string.
        prefix = next(
            (str(c.__dict__["path"]) for c in controller.__mro__ if isinstance(c.__dict__.get("path"), str)),
            "/",
        )
        paths = {
            join_paths([prefix, path])
            for value in vars(controller).values()
            if isinstance(value, HTTPRouteHandler)
            for path in value.paths
        }
        if not paths <= registered:
            app.register(controller)
    return app
