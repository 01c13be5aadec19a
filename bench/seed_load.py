"""Seed the realistic data set of bench/load.py: challenges, submissions, scores, outputs, and its users.

    .venv/bin/python bench/seed_load.py --plan plan.json [--challenges 1000 --submissions 20000
        --scores 100000 --outputs 5000 --startups 15 --judges 15]

Run after `python -m app migrate` and `python -m app seed-demo` against the database DATABASE_URL names
(a throwaway SQLite file, or an empty PostgreSQL database). It reuses bench/seed_challenges.py (challenges,
themes, lifecycle events, questions) and bench/catalog_bench.py (municipalities, outputs, adoptions), then
adds, with multi-row INSERTs of CHUNK rows and one transaction per table:

- organizations, each with an owner who signs in with the demo password (`kyoso-demo-2026`);
- judges (staff role judge), invited to rounds;
- three form fields per challenge; submissions spread over the challenges (drafts and submitted ones on
  open challenges, submitted ones after the deadline, judged ones in judging or with results), with their
  answers, team and, once submitted, their frozen version and receipt number;
- one document round with four criteria per judged challenge (open now in judging, closed with results),
  three judges per submission who declared no conflict, and scorecards whose score events and current
  scores add up to `--scores`.

It writes a plan (JSON) for the load generator: the virtual users' emails, each startup user's own drafts
and fields, each judge's open scorecards and criteria, challenge slugs, and per-table row counts and times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
for folder in (PROJECT_ROOT, BENCH_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import catalog_bench  # noqa: E402 (bench/: bulk outputs and adoptions)
import seed_challenges  # noqa: E402 (bench/: bulk challenges and questions; imports app first)
from seed_challenges import Phase, insert_all  # noqa: E402

from app.accounts.corporate_number import with_check_digit  # noqa: E402
from app.accounts.seed import DEMO_PASSWORD  # noqa: E402
from app.accounts.tables import Membership, Organization, StaffRole, User  # noqa: E402
from app.challenges.tables import Challenge  # noqa: E402
from app.clock import utcnow  # noqa: E402
from app.judging.tables import (  # noqa: E402
    Assignment,
    ConflictDeclaration,
    Criterion,
    CurrentScore,
    Round,
    RoundJudge,
    Scorecard,
    ScoreEvent,
)
from app.submissions.tables import Answer, FormField, Submission, SubmissionVersion, TeamMember  # noqa: E402

CRITERIA = (
    ("課題への適合性", "Fit with the problem", 0.3),
    ("実現可能性", "Feasibility", 0.3),
    ("革新性", "Innovation", 0.2),
    ("展開可能性", "Scalability", 0.2),
)
FIELDS = (
    ("short_text", "提案名", "Name of the proposal", 200),
    ("long_text", "提案の概要", "Outline of the proposal", 4000),
    ("url", "製品・サービスのURL", "Product or service URL", None),
)
JUDGES_PER_SUBMISSION = 3
JUDGES_PER_ROUND = 6
DRAFTS_PER_STARTUP = 3
SUMMARIES = (
    "AIを活用した{topic}の実証を提案します。既存の業務フローに組み込み、3か月で効果を測定します。",
    "We propose a proof of concept for {topic}, measured within 3 months.",
    "センサーとオープンデータを組み合わせ、{topic}の課題を可視化します。",
)


def judged_submission_count(submissions: int, scores: int) -> int:
    """Submissions in judged rounds: each has JUDGES_PER_SUBMISSION scorecards of len(CRITERIA) scores."""
    return min(submissions, math.ceil(scores / (JUDGES_PER_SUBMISSION * len(CRITERIA))))


async def timed(
    phases: list[Phase], name: str, table: Any, rows: Sequence[Any], *returning: Any
) -> list[Any]:
    """insert_all with its time recorded as a phase."""
    started = time.perf_counter()
    returned = await insert_all(table, rows, *returning)
    phases.append(Phase(name, len(rows), time.perf_counter() - started))
    return returned


def spread(total: int, buckets: int) -> list[int]:
    """`total` split over `buckets` as evenly as possible."""
    if buckets == 0:
        return []
    base, extra = divmod(total, buckets)
    return [base + (1 if index < extra else 0) for index in range(buckets)]


async def seed_people(
    phases: list[Phase], organizations: int, judges: int, demo_hash: str, now: datetime, run_id: str
) -> tuple[list[int], list[int], list[str], list[tuple[str, int]]]:
    """Organizations with one owner each, and judges: (org ids, owner ids, owner emails, judge emails)."""
    orgs = [
        Organization(
            name_ja=f"株式会社ベンチ{index:05d}",
            name_en=f"Bench {index:05d} Inc.",
            corporate_number=with_check_digit(f"9{run_id_digits(run_id)}{index:06d}"),
            founded_on=None,
            website=f"https://bench{index}.example",
            profile="ベンチマーク用の企業です。",
            created_at=now,
        )
        for index in range(organizations)
    ]
    org_rows = await timed(phases, "orgs", Organization, orgs, Organization.id, Organization.corporate_number)
    by_number = {row["corporate_number"]: int(row["id"]) for row in org_rows}
    org_ids = [by_number[row.corporate_number] for row in orgs]
    owner_emails = [f"load.startup{index:05d}.{run_id}@kyoso.example" for index in range(organizations)]
    judge_emails = [f"load.judge{index:04d}.{run_id}@kyoso.example" for index in range(judges)]
    users = [
        User(email=email, display_name=f"ベンチ {email.split('.')[1]}", locale="ja",
             password_hash=demo_hash, created_at=now, email_verified_at=now)
        for email in [*owner_emails, *judge_emails]
    ]  # fmt: skip
    user_rows = await timed(phases, "users", User, users, User.id, User.email)
    by_email = {row["email"]: int(row["id"]) for row in user_rows}
    owner_ids = [by_email[email] for email in owner_emails]
    judge_ids = [by_email[email] for email in judge_emails]
    memberships = [
        Membership(user=user, organization=org, role="owner", joined_at=now)
        for user, org in zip(owner_ids, org_ids, strict=True)
    ]
    await timed(phases, "memberships", Membership, memberships)
    roles = [StaffRole(user=user, role="judge", bureau=None, granted_at=now) for user in judge_ids]
    await timed(phases, "staff roles", StaffRole, roles)
    return org_ids, owner_ids, owner_emails, list(zip(judge_emails, judge_ids, strict=True))


def run_id_digits(run_id: str) -> str:
    """Five digits derived from the run id, so two runs on one database get distinct 法人番号."""
    return f"{int(run_id, 16) % 100_000:05d}"


async def seed(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """Everything; returns the plan for the load generator."""
    rng = random.Random(args.seed)  # noqa: S311 (sample data, not security)
    run_id = args.run_id
    phases: list[Phase] = list(
        await seed_challenges.seed(
            args.challenges, args.questions, now=now, rng_seed=args.seed, run_id=run_id
        )
    )
    started = time.perf_counter()
    catalog_bench.OUTPUTS = args.outputs
    await catalog_bench.seed()
    phases.append(Phase("outputs+adoptions", args.outputs * (1 + catalog_bench.ADOPTIONS_PER_OUTPUT),
                        time.perf_counter() - started))  # fmt: skip

    demo = await User.select(User.password_hash).where(User.password_hash.is_not_null()).first().run()
    if demo is None:
        raise LookupError("seed-demo first: no demo user with the demo password")
    organizations = max(args.organizations, args.startups, 100)
    judges = max(args.judges, JUDGES_PER_ROUND, 30)
    org_ids, owner_ids, owner_emails, judge_pairs = await seed_people(
        phases, organizations, judges, demo["password_hash"], now, run_id
    )
    judge_ids = [judge_id for _email, judge_id in judge_pairs]

    challenges = await (
        Challenge.select(Challenge.id, Challenge.slug, Challenge.status, Challenge.author,
                         Challenge.applications_close_at, Challenge.title_ja)
        .where(Challenge.slug.like(f"bench-{run_id}-%"))
        .order_by(Challenge.id)
        .run()
    )  # fmt: skip
    open_ones = [c for c in challenges if c["status"] == "published" and c["applications_close_at"] > now]
    judged = [c for c in challenges if c["status"] in ("judging", "results_published")]
    others = [c for c in challenges if c not in open_ones and c not in judged]

    # Form fields: three per challenge.
    fields = [
        FormField(challenge=c["id"], position=position, kind=kind, label_ja=label_ja, label_en=label_en,
                  help_ja="", help_en="", required=position < 2, max_chars=max_chars, choices="[]",
                  created_at=now)
        for c in challenges
        for position, (kind, label_ja, label_en, max_chars) in enumerate(FIELDS)
    ]  # fmt: skip
    field_rows = await timed(phases, "form fields", FormField, fields, FormField.id, FormField.challenge)
    fields_of: dict[int, list[int]] = {}
    for row in field_rows:
        fields_of.setdefault(int(row["challenge"]), []).append(int(row["id"]))

    # Submissions: judged ones first (enough for the scores), the rest over open and other challenges.
    judged_count = judged_submission_count(args.submissions, args.scores) if judged else 0
    slots: dict[tuple[int, int], str] = {}  # (challenge id, org id) -> status
    startup_drafts: dict[int, list[int]] = {}  # org index -> challenge ids of its own drafts
    for index in range(min(args.startups, len(org_ids))):
        picks = rng.sample(open_ones, k=min(DRAFTS_PER_STARTUP, len(open_ones)))
        startup_drafts[index] = [c["id"] for c in picks]
        for c in picks:
            slots[(c["id"], org_ids[index])] = "draft"
    reserved = set(range(min(args.startups, len(org_ids))))
    pool = [i for i in range(len(org_ids)) if i not in reserved] or list(range(len(org_ids)))

    def place(challenge_list: list[dict[str, Any]], count: int, statuses: Sequence[str]) -> None:
        for c, n in zip(challenge_list, spread(count, len(challenge_list)), strict=True):
            chosen = rng.sample(pool, k=min(n, len(pool)))
            for position, org_index in enumerate(chosen):
                slots.setdefault((c["id"], org_ids[org_index]), statuses[position % len(statuses)])

    place(judged, judged_count, ("submitted",))
    rest = max(args.submissions - len(slots), 0)
    open_share = round(rest * 0.8) if others else rest
    place(open_ones, open_share, ("draft", "submitted", "draft", "submitted", "draft"))
    place(others, rest - open_share, ("submitted",))
    by_id = {c["id"]: c for c in challenges}
    owner_of = dict(zip(org_ids, owner_ids, strict=True))
    submission_rows = []
    for serial, ((challenge_id, org_id), status) in enumerate(sorted(slots.items())):
        challenge = by_id[challenge_id]
        if challenge["status"] == "results_published":
            status = "winner" if serial % 15 == 0 else "not_selected"
        submitted = status != "draft"
        created = min(now, challenge["applications_close_at"]) - timedelta(days=rng.uniform(1, 20))
        summary = rng.choice(SUMMARIES).format(topic=challenge["title_ja"].split("：")[0])
        submission_rows.append(
            Submission(
                challenge=challenge_id, organization=org_id, status=status,
                active_slot=f"{challenge_id}:{org_id}",
                receipt_number=f"KY-L{run_id}-{serial:06d}" if submitted else None,
                summary=summary, summary_revision=1, created_by=owner_of[org_id], created_at=created,
                updated_at=created, submitted_at=created if submitted else None, withdraw_reason="",
            )
        )  # fmt: skip
    inserted = await timed(
        phases, "submissions", Submission, submission_rows, Submission.id, Submission.active_slot
    )
    id_of_slot = {row["active_slot"]: int(row["id"]) for row in inserted}
    submissions = [(id_of_slot[row.active_slot], row) for row in submission_rows]

    answers, team, versions = [], [], []
    for submission_id, row in submissions:
        field_ids = fields_of[row.challenge]
        values = [
            f"{row.summary[:30]} #{submission_id}",
            row.summary * 3,
            f"https://bench.example/{submission_id}",
        ]
        answered = field_ids if row.status != "draft" else field_ids[:2]
        for field_id, value in zip(answered, values, strict=False):
            answers.append(
                Answer(submission=submission_id, field=field_id, value=json.dumps(value, ensure_ascii=False),
                       revision=1, updated_by=row.created_by, updated_at=row.created_at)
            )  # fmt: skip
        team.append(TeamMember(submission=submission_id, user=row.created_by, added_at=row.created_at))
        if row.status != "draft" and args.versions:
            content = {
                "summary": row.summary,
                "answers": {
                    str(field_id): {"label_ja": label[1], "kind": label[0], "value": value}
                    for field_id, label, value in zip(field_ids, FIELDS, values, strict=True)
                },
                "files": [],
                "team": [{"user": row.created_by, "display_name": "ベンチ", "email": "bench@kyoso.example"}],
                "consents": [],
            }
            versions.append(
                SubmissionVersion(submission=submission_id, number=1,
                                  content=json.dumps(content, ensure_ascii=False),
                                  submitted_by=row.created_by, submitted_at=row.submitted_at)
            )  # fmt: skip
    await timed(phases, "answers", Answer, answers)
    await timed(phases, "team", TeamMember, team)
    await timed(phases, "versions", SubmissionVersion, versions)

    # Rounds, criteria, judges, assignments, conflict answers, scorecards, score events, current scores.
    rounds = []
    for c in judged:
        judging = c["status"] == "judging"
        close = c["applications_close_at"]
        rounds.append(
            Round(challenge=c["id"], position=1, kind="document", name_ja="書類審査",
                  name_en="Document screening",
                  opens_at=close + timedelta(days=1) if not judging else now - timedelta(days=7),
                  closes_at=close + timedelta(days=14) if not judging else now + timedelta(days=14),
                  blind=False, comments_required=False, judges_per_submission=JUDGES_PER_SUBMISSION,
                  advancement_rule="top_n", advancement_value=5.0, normalize=False, hidden_field_ids="[]",
                  rubric_locked_at=close + timedelta(days=2), advanced_at=None, created_at=close)
        )  # fmt: skip
    round_rows = await timed(phases, "rounds", Round, rounds, Round.id, Round.challenge)
    round_of = {int(row["challenge"]): int(row["id"]) for row in round_rows}
    levels = json.dumps({str(level): {"ja": f"水準{level}", "en": f"Level {level}"} for level in range(1, 6)})
    criteria = [
        Criterion(round=round_id, position=position, name_ja=name_ja, name_en=name_en, description_ja="",
                  description_en="", weight=weight, scale_min=1, scale_max=5, levels=levels)
        for round_id in round_of.values()
        for position, (name_ja, name_en, weight) in enumerate(CRITERIA)
    ]  # fmt: skip
    criterion_rows = await timed(phases, "criteria", Criterion, criteria, Criterion.id, Criterion.round)
    criteria_of: dict[int, list[int]] = {}
    for row in criterion_rows:
        criteria_of.setdefault(int(row["round"]), []).append(int(row["id"]))

    round_judges, assignments, declarations, cards = [], [], [], []
    status_of = {c["id"]: c["status"] for c in challenges}
    by_challenge: dict[int, list[int]] = {}
    for submission_id, row in submissions:
        if row.challenge in round_of:
            by_challenge.setdefault(row.challenge, []).append(submission_id)
    for position, (challenge_id, round_id) in enumerate(sorted(round_of.items())):
        panel = [
            judge_ids[(position * JUDGES_PER_ROUND + k) % len(judge_ids)] for k in range(JUDGES_PER_ROUND)
        ]
        panel = list(dict.fromkeys(panel))
        invited_by = by_id[challenge_id]["author"]
        for judge in panel:
            round_judges.append(
                RoundJudge(round=round_id, user=judge, email="", invited_by=invited_by,
                           invited_at=now - timedelta(days=10), accepted_at=now - timedelta(days=9))
            )  # fmt: skip
        final = status_of[challenge_id] == "results_published"
        for n, submission_id in enumerate(by_challenge.get(challenge_id, [])):
            for k in range(min(JUDGES_PER_SUBMISSION, len(panel))):
                judge = panel[(n + k) % len(panel)]
                assignments.append(
                    Assignment(round=round_id, submission=submission_id, judge=judge,
                               assigned_by=invited_by, assigned_at=now - timedelta(days=8))
                )  # fmt: skip
                declarations.append(
                    ConflictDeclaration(submission=submission_id, judge=judge, conflicted=False, reason="",
                                        source="declared", declared_at=now - timedelta(days=7))
                )  # fmt: skip
                cards.append(
                    Scorecard(round=round_id, submission=submission_id, judge=judge, version=len(CRITERIA),
                              state="final" if final else "open", comment="", comment_shareable=False,
                              finalized_at=now - timedelta(days=3) if final else None)
                )  # fmt: skip
    await timed(phases, "round judges", RoundJudge, round_judges)
    await timed(phases, "assignments", Assignment, assignments)
    await timed(phases, "conflicts", ConflictDeclaration, declarations)
    card_rows = await timed(
        phases,
        "scorecards",
        Scorecard,
        cards,
        Scorecard.id,
        Scorecard.round,
        Scorecard.submission,
        Scorecard.judge,
    )
    events, current = [], []
    scored_at = now - timedelta(days=5)
    budget = args.scores
    for row in card_rows:
        for version, criterion_id in enumerate(criteria_of[int(row["round"])], start=1):
            if budget <= 0:
                break
            budget -= 1
            value = float(rng.randint(1, 5))
            events.append(ScoreEvent(scorecard=row["id"], criterion=criterion_id, old_value=None,
                                     new_value=value,
                                     version=version, judge=row["judge"], happened_at=scored_at))  # fmt: skip
            current.append(CurrentScore(scorecard=row["id"], criterion=criterion_id, value=value,
                                        updated_at=scored_at))  # fmt: skip
    await timed(phases, "score events", ScoreEvent, events)
    await timed(phases, "current scores", CurrentScore, current)

    # The plan: who signs in and what each virtual user edits.
    judging_rounds = {round_of[c["id"]] for c in judged if c["status"] == "judging"}
    work: dict[int, list[dict[str, Any]]] = {}
    for row in card_rows:
        if int(row["round"]) in judging_rounds:
            work.setdefault(int(row["judge"]), []).append(
                {"round": int(row["round"]), "submission": int(row["submission"]),
                 "criteria": criteria_of[int(row["round"])]}
            )  # fmt: skip
    load_judges = [
        {"email": email, "scorecards": work[judge_id][:20]}
        for email, judge_id in judge_pairs
        if work.get(judge_id)
    ][: args.judges]
    startups = []
    for index, challenge_ids in startup_drafts.items():
        drafts = [
            {"submission": id_of_slot[f"{challenge_id}:{org_ids[index]}"],
             "keys": ["summary", *(str(f) for f in fields_of[challenge_id])]}
            for challenge_id in challenge_ids
        ]  # fmt: skip
        startups.append({"email": owner_emails[index], "drafts": drafts})
    counts = {phase.name: phase.rows for phase in phases}
    return {
        "password": DEMO_PASSWORD,
        "slugs": [c["slug"] for c in challenges],
        "open_slugs": [c["slug"] for c in open_ones],
        "startups": startups,
        "judges": load_judges,
        "counts": counts,
        "sizes": {
            "challenges": len(challenges),
            "submissions": len(submissions),
            "scores": len(events),
            "outputs": args.outputs,
            "questions": args.questions,
            "answers": len(answers),
            "scorecards": len(card_rows),
        },
        "phases": [{"name": p.name, "rows": p.rows, "seconds": round(p.seconds, 3)} for p in phases],
    }


async def run(args: argparse.Namespace) -> int:
    """Check the database, seed it, write the plan, print the timings."""

    async def seeding() -> int:
        started = time.perf_counter()
        plan = await seed(args, utcnow())
        plan["seconds"] = round(time.perf_counter() - started, 2)
        Path(args.plan).write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")  # noqa: ASYNC240
        phases = [Phase(phase["name"], phase["rows"], phase["seconds"]) for phase in plan["phases"]]
        seed_challenges.report(phases, plan["seconds"], name_width=18)
        return 0

    return await seed_challenges.seed_database(seeding)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--plan", required=True, help="where to write the load plan (JSON)")
    parser.add_argument("--challenges", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=None, help="default: 5 per challenge")
    parser.add_argument("--submissions", type=int, default=20000)
    parser.add_argument("--scores", type=int, default=100000)
    parser.add_argument("--outputs", type=int, default=5000)
    parser.add_argument("--organizations", type=int, default=None, help="default: one per challenge")
    parser.add_argument("--startups", type=int, default=15, help="startup users the load signs in")
    parser.add_argument("--judges", type=int, default=15, help="judges the load signs in")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--no-versions",
        dest="versions",
        action="store_false",
        help="no frozen versions of submitted applications (fewer search documents: a faster reindex)",
    )
    parser.add_argument("--run-id", default="a0b1c2", help="hex; part of slugs and e-mail addresses")
    args = parser.parse_args(argv)
    if args.questions is None:
        args.questions = 5 * args.challenges
    if args.organizations is None:
        args.organizations = args.challenges
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
