"""The demo challenges cover every stage consistently, and the bench seeder inserts what it is asked for."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from piccolo.engine.base import Engine

from app.accounts.seed import seed_demo_data
from app.accounts.tables import StaffRole
from app.challenges.demo import JST, THEMES, DemoAccountsMissing, seed_demo_challenges
from app.challenges.lifecycle import (
    PHASES,
    PUBLIC_STATUSES,
    TRANSITIONS,
    ChallengeFacts,
    Status,
    accepting_questions,
    effective_status,
)
from app.challenges.tables import (
    Challenge,
    ChallengeEvent,
    ChallengeRevision,
    ChallengeTheme,
    Follow,
    Question,
)
from app.settings import PROJECT_ROOT
from app.submissions.demo import DEMO_FIELDS, seed_demo_forms
from app.submissions.tables import FormField

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ALLOWED_STEPS = {(before, after) for (before, _), after in TRANSITIONS.items()}
DEADLINE_CLOSE = (Status.PUBLISHED, Status.CLOSED)
FOUNDERS = {"founder@mirai-mobility.example", "founder@kosodate-tech.example"}

# Noon in Tokyo, and a quarter past midnight there (still the previous day in UTC).
INSTANTS = (datetime(2026, 12, 1, 3, 0, tzinfo=UTC), datetime(2026, 12, 1, 15, 15, tzinfo=UTC))


@pytest.fixture(params=INSTANTS, ids=["noon-jst", "after-midnight-jst"])
def now(request: pytest.FixtureRequest) -> datetime:
    """The instant the demo data is seeded at."""
    instant: datetime = request.param
    return instant


@pytest.fixture
async def demo(database: Engine, now: datetime) -> list[str]:  # type: ignore[type-arg]
    """The demo accounts and challenges, seeded at `now`; the slugs returned."""
    await seed_demo_data(now=now)
    return await seed_demo_challenges(now=now)


async def challenges() -> list[dict[str, Any]]:
    """Every challenge row, JSON loaded."""
    rows: list[dict[str, Any]] = await Challenge.select().output(load_json=True).order_by(Challenge.id).run()
    return rows


async def staff() -> tuple[dict[int, int], set[int]]:
    """Officials' bureau by user id, and the admins' ids."""
    roles = await StaffRole.select().run()
    officials = {row["user"]: row["bureau"] for row in roles if row["role"] == "official"}
    return officials, {row["user"] for row in roles if row["role"] == "admin"}


def effective(row: Mapping[str, Any], now: datetime) -> Status:
    """The status the public sees now."""
    return effective_status(ChallengeFacts.from_row(row), now)


def assert_timeline_ordered(rows: Iterable[Mapping[str, Any]]) -> None:
    """Every instant is set, timezone-aware and later than the one before."""
    for row in rows:
        times = [row[phase] for phase in PHASES]
        assert all(time is not None and time.utcoffset() == timedelta(0) for time in times), row["slug"]
        assert times == sorted(times), row["slug"]
        assert len(set(times)) == len(times), row["slug"]


async def test_the_demo_spans_every_stage(demo: list[str], now: datetime) -> None:
    rows = await challenges()
    assert 8 <= len(rows) <= 10
    assert [row["slug"] for row in rows] == demo
    assert all(SLUG.match(slug) for slug in demo)
    assert {Status(row["status"]) for row in rows} >= {
        Status.DRAFT,
        Status.IN_REVIEW,
        Status.PUBLISHED,
        Status.JUDGING,
        Status.RESULTS_PUBLISHED,
    }
    shown = {row["slug"]: effective(row, now) for row in rows}
    assert set(shown.values()) == set(Status)  # every state, closed included (by the deadline)
    open_rows = [row for row in rows if shown[row["slug"]] is Status.PUBLISHED]
    assert len(open_rows) == 3
    days_left = sorted((row["applications_close_at"] - now) / timedelta(days=1) for row in open_rows)
    assert 1 <= days_left[0] <= 3  # one closes in about two days
    assert all(5 <= days <= 41 for days in days_left[1:])
    past_deadline = [
        row for row in rows if row["status"] == "published" and row["applications_close_at"] < now
    ]
    assert len(past_deadline) == 1
    assert effective(past_deadline[0], now) is Status.CLOSED
    assert {row["bureau"] for row in rows if row["status"] in PUBLIC_STATUSES} == {
        row["bureau"] for row in rows
    }


async def test_every_timeline_is_ordered_and_jst_friendly(demo: list[str], now: datetime) -> None:
    rows = await challenges()
    assert_timeline_ordered(rows)
    for row in rows:
        assert row["applications_close_at"].astimezone(JST).hour == 17, row["slug"]
        assert row["questions_close_at"].astimezone(JST).hour == 17, row["slug"]
        assert row["created_at"] <= row["updated_at"] <= now, row["slug"]
        if row["status"] in PUBLIC_STATUSES:
            assert row["created_at"] < row["published_at"] <= row["updated_at"], row["slug"]
            assert row["published_at"] <= row["applications_open_at"] <= now, row["slug"]
        else:
            assert row["published_at"] is None, row["slug"]
    by_status = {row["status"]: row for row in rows}
    assert by_status["judging"]["screening_at"] < now < by_status["judging"]["results_at"]
    assert by_status["results_published"]["results_at"] < now


async def test_authors_and_approvers_belong_to_the_bureau(demo: list[str]) -> None:
    officials, admins = await staff()
    for row in await challenges():
        assert officials.get(row["author"]) == row["bureau"], row["slug"]
        if row["status"] in PUBLIC_STATUSES:
            approver = row["approved_by"]
            assert approver is not None, row["slug"]
            assert approver != row["author"], row["slug"]
            assert officials.get(approver) == row["bureau"] or approver in admins, row["slug"]
        else:
            assert row["approved_by"] is None, row["slug"]


async def test_events_are_valid_transitions_up_to_the_stored_status(demo: list[str], now: datetime) -> None:
    rows = {row["id"]: row for row in await challenges()}
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in await ChallengeEvent.select().order_by(ChallengeEvent.happened_at).run():
        events[event["challenge"]].append(event)
    officials, admins = await staff()
    for challenge_id, row in rows.items():
        steps = events[challenge_id]
        assert steps, row["slug"]
        state = Status.DRAFT
        for step in steps:
            move = (Status(step["from_status"]), Status(step["to_status"]))
            assert move[0] is state, (row["slug"], move)
            assert move in ALLOWED_STEPS, (row["slug"], move)
            assert (step["actor"] is None) == (move == DEADLINE_CLOSE), (row["slug"], move)
            if step["actor"] is not None:
                assert officials.get(step["actor"]) == row["bureau"] or step["actor"] in admins
            if move == DEADLINE_CLOSE:
                assert step["happened_at"] == row["applications_close_at"]
            if move == (Status.IN_REVIEW, Status.PUBLISHED):
                assert step["actor"] == row["approved_by"]
                assert step["happened_at"] == row["published_at"]
            assert row["created_at"] < step["happened_at"] <= now, row["slug"]
            state = move[1]
        assert state is Status(row["status"]), row["slug"]
    sent_back = [s for steps in events.values() for s in steps if s["to_status"] == "draft"]
    assert len(sent_back) == 1
    assert sent_back[0]["comment"]


async def test_an_open_challenge_had_its_deadline_extended(demo: list[str], now: datetime) -> None:
    revisions = await ChallengeRevision.select().output(load_json=True).run()
    assert len(revisions) == 1
    revision = revisions[0]
    row = next(row for row in await challenges() if row["id"] == revision["challenge"])
    old, new = (datetime.fromisoformat(value) for value in revision["changes"]["applications_close_at"])
    assert revision["material"] is True
    assert list(revision["changes"]) == ["applications_close_at"]
    assert old < new == row["applications_close_at"]
    assert row["published_at"] < revision["edited_at"] == row["material_change_at"] <= now < old
    assert revision["editor"] == row["author"]
    assert "締切" in row["material_change_note"]
    assert "延長" in row["material_change_note"]
    assert f"旧: {old.astimezone(JST):%Y-%m-%d %H:%M} JST" in row["material_change_note"]
    assert effective(row, now) is Status.PUBLISHED
    others = [other for other in await challenges() if other["id"] != row["id"]]
    assert all(
        other["material_change_at"] is None and other["material_change_note"] == "" for other in others
    )


async def test_questions_are_asked_by_startups_and_answered_by_officials(
    demo: list[str], now: datetime
) -> None:
    rows = {row["id"]: row for row in await challenges()}
    officials, admins = await staff()
    questions = await Question.select(*Question.all_columns(), Question.asker.email).run()
    assert len(questions) >= 4
    assert {question["asker.email"] for question in questions} == FOUNDERS
    unanswered = [question for question in questions if question["answered_at"] is None]
    assert len(unanswered) == 1
    assert unanswered[0]["answer"] == ""
    assert unanswered[0]["answered_by"] is None
    waiting_on = rows[unanswered[0]["challenge"]]
    assert accepting_questions(ChallengeFacts.from_row(waiting_on), now)
    for question in questions:
        row = rows[question["challenge"]]
        assert row["published_at"] <= question["asked_at"] <= min(row["questions_close_at"], now)
        if question["answered_at"] is not None:
            assert question["answer"]
            assert question["asked_at"] < question["answered_at"] <= now
            by = question["answered_by"]
            assert officials.get(by) == row["bureau"] or by in admins
    follows = await Follow.select(Follow.challenge, Follow.user.email).run()
    assert len(follows) == 1
    assert follows[0]["user.email"] in FOUNDERS
    assert effective(rows[follows[0]["challenge"]], now) is Status.PUBLISHED


async def test_public_challenges_read_well_in_both_languages(demo: list[str]) -> None:
    rows = await challenges()
    themes: dict[int, list[str]] = defaultdict(list)
    for theme in await ChallengeTheme.select().run():
        themes[theme["challenge"]].append(theme["theme"])
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for row in rows:
        slug = row["slug"]
        for field in ("title", "summary", "body", "background", "problem", "outcome"):
            assert japanese.search(row[f"{field}_ja"]), (slug, field)
            assert row[f"{field}_en"].strip(), (slug, field)
            assert not japanese.search(row[f"{field}_en"]), (slug, field)
        assert "\n" not in row["summary_ja"].strip(), slug  # one paragraph
        assert "\n" not in row["summary_en"].strip(), slug
        assert "](https://" in row["body_ja"] or "- " in row["body_ja"], slug
        assert row["eligibility"], slug
        assert all(set(item) == {"ja", "en"} for item in row["eligibility"]), slug
        assert 5_000_000 <= row["poc_budget_jpy"] <= 30_000_000, slug
        assert 1 <= row["selection_count"] <= 3, slug
        assert row["contact"], slug
        assert 2 <= len(themes[row["id"]]) <= 3, slug
        assert set(themes[row["id"]]) <= set(THEMES), slug


async def test_demo_challenges_need_the_demo_accounts(database: Engine) -> None:  # type: ignore[type-arg]
    with pytest.raises(DemoAccountsMissing, match="seed-demo"):
        await seed_demo_challenges(now=INSTANTS[0])
    assert await Challenge.count().run() == 0


def load_bench_seeder(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/seed_challenges.py, imported from its path (bench/ is not a package)."""
    path = PROJECT_ROOT / "bench" / "seed_challenges.py"
    spec = importlib.util.spec_from_file_location("bench_seed_challenges", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the module runs.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


async def test_the_bench_seeder_inserts_the_requested_counts(
    database: Engine,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = INSTANTS[0]
    bench = load_bench_seeder(monkeypatch)
    await seed_demo_data(now=now)
    phases = await bench.seed(30, 200, now=now, run_id="test")
    assert {phase.name: phase.rows for phase in phases}["challenges"] == 30
    assert await Challenge.count().run() == 30
    assert await Question.count().run() == 200
    assert 60 <= await ChallengeTheme.count().run() <= 90
    rows = await challenges()
    assert_timeline_ordered(rows)
    shown = {effective(row, now) for row in rows}
    assert {Status.PUBLISHED, Status.CLOSED, Status.JUDGING, Status.RESULTS_PUBLISHED} <= shown
    assert all(row["slug"].startswith("bench-test-") and row["published_at"] <= now for row in rows)
    answered = await Question.count().where(Question.answered_at.is_not_null()).run()
    assert 100 <= answered < 200
    assert await Question.count().where(Question.answered_at > now).run() == 0


async def test_every_public_demo_challenge_gets_an_application_form(demo: list[str], now: datetime) -> None:
    """Seeding forms gives each public challenge the demo questions once (a second run adds nothing)."""
    public = await Challenge.count().where(Challenge.status.is_in([s.value for s in PUBLIC_STATUSES])).run()
    assert await seed_demo_forms(now=now) == public
    assert await seed_demo_forms(now=now) == 0
    assert await FormField.count().run() == public * len(DEMO_FIELDS)
