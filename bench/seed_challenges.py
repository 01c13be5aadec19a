"""Bulk-load published challenges, themes, lifecycle events and questions, to try pages at a realistic size.

Run from the project root, after `python -m app migrate` and `python -m app seed-demo`:

    .venv/bin/python bench/seed_challenges.py --challenges 1000 --questions 20000

It writes into the database DATABASE_URL names (default: the app's SQLite file under DATA_DIR), spreads the
challenges over the demo bureaus and their officials, with deadlines mostly ahead (open) and some behind
(closed, judging, results), and asks the questions as the demo startup users, most of them answered. Rows
go in with multi-row INSERTs of CHUNK rows, one transaction per table, and the script prints how long
each table took. Every run adds new rows (slugs carry a run id), so it can run twice on one database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

# Importing Piccolo is safe before PICCOLO_CONF is set: it looks for the engine when a table first runs.
from piccolo.columns import Column
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    # Run as a script, sys.path[0] is bench/: import the app of this checkout (and run its __init__).
    sys.path.insert(0, str(PROJECT_ROOT))

import app  # noqa: E402, F401 (first: it sets PICCOLO_CONF before any table touches the database)
from app.accounts.tables import Bureau, Membership, StaffRole  # noqa: E402
from app.challenges.demo import COMMENTS, COMMON_ELIGIBILITY, DEMO_BUREAUS, LIFECYCLE, THEMES, jst  # noqa: E402
from app.challenges.lifecycle import Status  # noqa: E402
from app.challenges.tables import Challenge, ChallengeEvent, ChallengeTheme, Question  # noqa: E402
from app.clock import utcnow  # noqa: E402
from app.database.registry import current_engine, pending_migrations  # noqa: E402
from app.database.sqlite import KyosoSQLiteEngine  # noqa: E402

CHUNK = 500
# stage: (stored status, earliest and latest deadline in days from today).
STAGES = {
    "open": (Status.PUBLISHED, 1, 60),
    "past_deadline": (Status.PUBLISHED, -10, -1),  # shown as closed; the deadline job has not run
    "closed": (Status.CLOSED, -20, -5),
    "judging": (Status.JUDGING, -45, -15),
    "results": (Status.RESULTS_PUBLISHED, -365, -60),
}
# Every twenty challenges: 13 open, 2 past their deadline, 1 closed, 2 in judging, 2 with results.
STAGE_CYCLE = ("open",) * 13 + ("past_deadline",) * 2 + ("closed",) + ("judging",) * 2 + ("results",) * 2
TOPICS = (
    ("スマートシティ", "smart city services"),
    ("防災情報の多言語化", "multilingual disaster information"),
    ("港湾物流のDX", "port logistics DX"),
    ("子育て手続きのオンライン化", "online childcare procedures"),
    ("高齢者の見守り", "looking out for older residents"),
    ("中小企業のDX支援", "digital tools for small businesses"),
    ("都市農業", "urban farming"),
    ("働き方改革", "workstyle reform"),
    ("脱炭素化", "decarbonisation"),
    ("観光案内", "visitor information"),
)
AREAS = (
    ("西新宿", "Nishi-Shinjuku"),
    ("臨海副都心", "the waterfront city centre"),
    ("多摩地域", "the Tama area"),
    ("島しょ地域", "the islands"),
    ("丸の内", "Marunouchi"),
    ("大田区", "Ota City"),
)
QUESTION_BODIES = (
    "実証期間の延長は可能ですか。",
    "共同提案（コンソーシアム）での応募はできますか。",
    "PoC予算に人件費を含めてもよいですか。",
    "実証で使用できるデータの形式を教えてください。",
    "海外に本社がある企業も応募できますか。",
    "採択後の本格導入の見込みについて教えてください。",
)
ANSWERS = (
    "可能です。詳しくは採択後にご相談ください。",
    "応募できます。代表となる企業を1社お決めください。",
    "含めていただけます。内訳を応募書類に記載してください。",
    "CSV形式とAPIでの提供を予定しています。",
)


@dataclass(frozen=True)
class People:
    """Who the rows refer to: officials of each bureau, the admin, and startup users who ask questions."""

    officials: dict[int, list[int]]  # bureau id -> official user ids
    admin: int
    askers: list[int]


@dataclass
class Planned:
    """A challenge about to be inserted, with what its themes, events and questions need to know."""

    row: Challenge
    status: Status
    author: int
    approver: int
    times: dict[str, datetime]
    themes: list[str]


@dataclass(frozen=True)
class Phase:
    """How long inserting one table took."""

    name: str
    rows: int
    seconds: float


def chunks(rows: Sequence[Table], size: int = CHUNK) -> Iterator[Sequence[Table]]:
    """Consecutive slices of at most `size` rows."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def insert_all(table: type[Table], rows: Sequence[Table], *returning: Column) -> list[dict[str, Any]]:
    """Insert `rows` CHUNK at a time in one transaction; return the `returning` columns of each."""
    returned: list[dict[str, Any]] = []
    async with table._meta.db.transaction():
        for part in chunks(rows):
            returned += await table.insert(*part).returning(*returning or (table._meta.primary_key,)).run()
    return returned


async def load_people() -> People:
    """The demo bureaus' officials, the admin and the startup users; LookupError if seed-demo never ran."""
    bureaus = await Bureau.select(Bureau.id).where(Bureau.slug.is_in([*DEMO_BUREAUS])).run()
    roles = await StaffRole.select(StaffRole.user, StaffRole.role, StaffRole.bureau).run()
    askers = await Membership.select(Membership.user).order_by(Membership.user).run()
    officials: dict[int, list[int]] = {int(row["id"]): [] for row in bureaus}
    for role in roles:
        if role["role"] == "official" and role["bureau"] in officials:
            officials[role["bureau"]].append(int(role["user"]))
    admins = sorted(int(role["user"]) for role in roles if role["role"] == "admin")
    if len(officials) < len(DEMO_BUREAUS) or not all(officials.values()) or not admins or not askers:
        raise LookupError("The demo accounts are missing: run `python -m app seed-demo` first.")
    return People(officials=officials, admin=admins[0], askers=sorted({int(row["user"]) for row in askers}))


def plan_times(close_day: int, window_days: int, now: datetime) -> dict[str, datetime]:
    """The timeline of a challenge closing `close_day` days from today, published yesterday at the latest."""
    open_day = min(close_day - window_days, -1)
    return {
        "applications_open_at": jst(now, open_day, 10),
        "questions_close_at": jst(now, close_day - 7, 17),
        "applications_close_at": jst(now, close_day, 17),
        "screening_at": jst(now, close_day + 14, 10),
        "pitch_at": jst(now, close_day + 35, 13),
        "results_at": jst(now, close_day + 56, 10),
    }


def markdown(topic: tuple[str, str], area: tuple[str, str]) -> dict[str, str]:
    """Short bilingual Markdown for the text fields of a generated challenge."""
    (topic_ja, topic_en), (area_ja, area_en) = topic, area
    return {
        "body_ja": f"{area_ja}で**{topic_ja}**を実証します。\n\n- 実証期間：最長6か月\n- 成果の公開\n",
        "body_en": f"A trial of **{topic_en}** in {area_en}.\n\n- Up to six months\n- Public results\n",
        "background_ja": f"{area_ja}では{topic_ja}への期待が高まっています。\n",
        "background_en": f"Expectations of {topic_en} are rising in {area_en}.\n",
        "problem_ja": "- 既存の仕組みでは対応が難しい\n- **人手が足りない**\n",
        "problem_en": "- Current tools cannot cope\n- **Too few hands**\n",
        "outcome_ja": "- 効果を数値で示す\n- 他地域への展開\n",
        "outcome_en": "- Measured results\n- A model other areas can adopt\n",
    }


def plan_challenge(index: int, run_id: str, people: People, rng: random.Random, now: datetime) -> Planned:
    """Challenge number `index` of this run, at the stage STAGE_CYCLE gives it."""
    stored, earliest, latest = STAGES[STAGE_CYCLE[index % len(STAGE_CYCLE)]]
    times = plan_times(rng.randint(earliest, latest), rng.randint(30, 60), now)
    bureau, officials = list(people.officials.items())[index % len(people.officials)]
    author = officials[index % len(officials)]
    approver = next((user for user in officials if user != author), people.admin)
    topic, area = TOPICS[index % len(TOPICS)], rng.choice(AREAS)
    fields: dict[str, Any] = {**markdown(topic, area), **times}
    row = Challenge(
        slug=f"bench-{run_id}-{index + 1:05d}",
        bureau=bureau,
        status=stored.value,
        title_ja=f"{topic[0]}：{area[0]}での実証（No.{index + 1}）",
        title_en=f"{topic[1].capitalize()}: a proof of concept in {area[1]} (No. {index + 1})",
        summary_ja=f"{area[0]}における{topic[0]}の課題を解決するスタートアップを募集します。",
        summary_en=f"We are looking for a startup to take on {topic[1]} in {area[1]}.",
        eligibility=json.dumps([vars(item) for item in COMMON_ELIGIBILITY], ensure_ascii=False),
        poc_budget_jpy=rng.choice((5, 8, 10, 15, 20, 25, 30)) * 1_000_000,
        selection_count=rng.randint(1, 3),
        contact="bench@kyoso.example",
        author=author,
        approved_by=approver,
        created_at=times["applications_open_at"] - timedelta(days=30),
        updated_at=times["applications_open_at"],
        published_at=times["applications_open_at"],
        material_change_note="",
        **fields,
    )
    themes = rng.sample(THEMES, k=rng.randint(2, 3))
    return Planned(row, stored, author, approver, times, themes)


def plan_events(challenge_id: int, planned: Planned) -> list[ChallengeEvent]:
    """The lifecycle events from draft to the stored status (the deadline closes with no actor)."""
    times = planned.times
    closed = times["applications_close_at"]
    moments: dict[Status, tuple[int | None, datetime]] = {
        Status.IN_REVIEW: (planned.author, times["applications_open_at"] - timedelta(days=7)),
        Status.PUBLISHED: (planned.approver, times["applications_open_at"]),
        Status.CLOSED: (None, closed),
        Status.JUDGING: (planned.author, closed + timedelta(hours=17)),
        Status.RESULTS_PUBLISHED: (planned.author, times["results_at"]),
    }
    path = LIFECYCLE[: LIFECYCLE.index(planned.status) + 1]
    return [
        ChallengeEvent(
            challenge=challenge_id,
            actor=moments[after][0],
            from_status=before.value,
            to_status=after.value,
            comment=COMMENTS[after],
            happened_at=moments[after][1],
        )
        for before, after in pairwise(path)
    ]


def plan_question(
    challenge_id: int, planned: Planned, people: People, rng: random.Random, now: datetime
) -> Question:
    """A question asked while questions were open; three in four answered within three days (if by now)."""
    start = planned.times["applications_open_at"]
    end = min(planned.times["questions_close_at"], now - timedelta(hours=1))
    asked_at = start + (end - start) * rng.random()
    answered_at = asked_at + timedelta(hours=rng.uniform(2, 72))
    answered = rng.random() < 0.75 and answered_at <= now
    return Question(
        challenge=challenge_id,
        asker=rng.choice(people.askers),
        body=rng.choice(QUESTION_BODIES),
        asked_at=asked_at,
        answer=rng.choice(ANSWERS) if answered else "",
        answered_by=rng.choice((planned.author, planned.approver)) if answered else None,
        answered_at=answered_at if answered else None,
    )


async def seed(
    challenges: int, questions: int, *, now: datetime, rng_seed: int = 2026, run_id: str | None = None
) -> list[Phase]:
    """Insert `challenges` published challenges (with themes and events) and `questions` questions."""
    if questions and not challenges:
        raise ValueError("Questions need at least one challenge.")
    rng = random.Random(rng_seed)  # noqa: S311 (sample data, not security)
    run_id = run_id or secrets.token_hex(3)
    people, phases = await load_people(), []
    planned = [plan_challenge(index, run_id, people, rng, now) for index in range(challenges)]
    started = time.perf_counter()
    inserted = await insert_all(Challenge, [item.row for item in planned], Challenge.id, Challenge.slug)
    phases.append(Phase("challenges", len(inserted), time.perf_counter() - started))
    by_slug = {row["slug"]: int(row["id"]) for row in inserted}
    ids = [by_slug[item.row.slug] for item in planned]
    pairs = list(zip(ids, planned, strict=True))
    themes = [ChallengeTheme(challenge=i, theme=theme) for i, item in pairs for theme in item.themes]
    events = [event for i, item in pairs for event in plan_events(i, item)]
    picks = [rng.randrange(challenges) for _ in range(questions)]
    asked = [plan_question(ids[pick], planned[pick], people, rng, now) for pick in picks]
    for name, table, rows in (
        ("themes", ChallengeTheme, themes),
        ("events", ChallengeEvent, events),
        ("questions", Question, asked),
    ):
        started = time.perf_counter()
        await insert_all(table, rows)
        phases.append(Phase(name, len(rows), time.perf_counter() - started))
    return phases


async def seed_database(seeding: Callable[[], Awaitable[int]]) -> int:
    """Run `seeding` (an exit code) once the database is ready; close connections whatever happens."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=2)
    try:
        if pending := await pending_migrations():
            print(f"{len(pending)} migration(s) pending: run `python -m app migrate` first.", file=sys.stderr)
            return 2
        return await seeding()
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        elif isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()


async def run(challenges: int, questions: int, rng_seed: int, run_id: str | None = None) -> int:
    """Check the database is ready, seed it, print the timings."""

    async def seeding() -> int:
        started = time.perf_counter()
        try:
            phases = await seed(challenges, questions, now=utcnow(), rng_seed=rng_seed, run_id=run_id)
        except LookupError as error:
            print(error, file=sys.stderr)
            return 2
        report(phases, time.perf_counter() - started)
        return 0

    return await seed_database(seeding)


def report(phases: Sequence[Phase], total: float, *, name_width: int = 12) -> None:
    """One line per table: rows, seconds, rows per second; then the total (planning included)."""
    print(f"Seeded {current_engine().engine_type} in chunks of {CHUNK} rows:")
    print(f"  {'table':<{name_width}}{'rows':>8}{'seconds':>10}{'rows/s':>10}")
    for phase in phases:
        rate = phase.rows / phase.seconds if phase.seconds else 0.0
        print(f"  {phase.name:<{name_width}}{phase.rows:>8}{phase.seconds:>10.2f}{rate:>10.0f}")
    print(f"  {'total':<{name_width}}{sum(phase.rows for phase in phases):>8}{total:>10.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and seed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--challenges", type=int, default=1000, help="published challenges (default 1000)")
    parser.add_argument("--questions", type=int, default=20000, help="questions over them (default 20000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument(
        "--run-id", help="slug part: challenges are bench-<run id>-00001... (default: random)"
    )
    args = parser.parse_args(argv)
    if args.challenges < 0 or args.questions < 0:
        parser.error("counts cannot be negative")
    return asyncio.run(run(args.challenges, args.questions, args.seed, args.run_id))


if __name__ == "__main__":
    sys.exit(main())
