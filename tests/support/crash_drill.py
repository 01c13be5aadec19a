"""The crash drill's parts: a server that can be SIGKILLed and restarted on the same database and files, the
world it serves (judges with scorecards, startups with drafts), 20 autosaving clients that record every save
and its outcome, and the checks that every acknowledged save survived.

Each client saves one thing at a time, as a browser tab does, and sends the version (scores) or revision
(draft answers) its page holds: the app applies a save only if the stored version is still that one, and
bumps it. So every save has one slot it can land in (version + 1), and what the database holds can be
explained save by save:

- ok: a 2xx came back. The save must be in the database: for scores, the score event of the version the
  response named, with that criterion and value; for a draft, the answer's revision is at least the one
  the response named, and when it is exactly that one, the text is the acknowledged text.
- unknown: the request went out but no response came back (the server died). It may or may not be applied.
- not sent: the connection was refused. It cannot be applied.
- refused: any other status. It must not be applied.

After an unknown outcome the client reloads its page for the current version, as a judge reloading after
a 409 would, so it never overwrites blindly.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from app.accounts.tables import Membership
from app.clock import utcnow
from app.database.engines import engine_from_url, sqlite_path
from app.database.registry import feature_tables, use_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.judging.audit import verify_chain
from app.judging.tables import Assignment, AuditEvent, Criterion, CurrentScore, Round, Scorecard, ScoreEvent
from app.submissions.tables import Answer, Submission, SubmissionVersion
from tests.challenges.factories import make_challenge
from tests.submissions.factories import add_field
from tests.support.client import WebClient
from tests.support.commands import fresh_postgres_database, run_app_command
from tests.support.live_server import (
    HOST,
    LiveServerError,
    free_port,
    log_tail,
    spawn_uvicorn,
    sqlite_database,
    stop_process,
)
from tests.support.people import Person, make_bureau, make_organization, make_user

OK, UNKNOWN, NOT_SENT, REFUSED = "ok", "unknown", "not sent", "refused"
SLUG = "crash-drill"
SCALE = (1, 100)  # a realistic scale; consecutive saves of a criterion always differ (see JudgeClient)
SUMMARY_KEY = "summary"
# Connection refused comes at once; a save answered in 0.5-3 s (median) with 20 clients on two busy shared
# cores: give up only on a server that stopped answering (a timeout counts as an unknown outcome).
CLIENT_TIMEOUT = httpx.Timeout(20.0, connect=2.0)
RETRY_PAUSE = 0.15
STARTUP_TIMEOUT = 90.0
BIND_ATTEMPTS = 5


# --- the server -------------------------------------------------------------------------------------------


@dataclass
class DrillServer:
    """uvicorn on a fixed port, its database and DATA_DIR kept across SIGKILLs and restarts."""

    env: dict[str, str]
    port: int
    log_path: Path
    database_url: str
    process: subprocess.Popen[bytes] | None = None
    incarnation: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Start uvicorn on the same port, database and files; wait until /healthz answers."""
        for _ in range(BIND_ATTEMPTS):  # the port of a killed server is free at once (SO_REUSEADDR)
            process = spawn_uvicorn(self.env, self.port, self.log_path)
            if self.healthy(process):
                self.process = process
                self.incarnation += 1
                return
            time.sleep(0.25)
        raise LiveServerError(f"uvicorn did not start again on {self.base_url}:\n{log_tail(self.log_path)}")

    def healthy(self, process: subprocess.Popen[bytes]) -> bool:
        """Poll /healthz; False if the process exited. A longer limit than the live server's: on two cores
        shared with other test runs, importing the app alone took 6-12 s."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with httpx.Client(base_url=self.base_url, timeout=2.0, trust_env=False) as http:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    return False
                try:
                    if http.get("/healthz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        stop_process(process)
        raise LiveServerError(f"no /healthz within {STARTUP_TIMEOUT:.0f} s:\n{log_tail(self.log_path)}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye; reap the process."""
        assert self.process is not None  # a drill step out of order is a bug in the test
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n=== crash drill: SIGKILL of pid {self.process.pid} ===\n")
        self.process = None

    def stop(self) -> None:
        """A graceful stop (SIGTERM), if it runs."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@contextmanager
def drill_server(tmp_dir: Path, *, on_postgres_url: str | None) -> Iterator[DrillServer]:
    """A migrated database (a fresh PostgreSQL database or SQLite file) and a port; not started yet."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    data_dir = tmp_dir / "data"
    data_dir.mkdir(exist_ok=True)
    database = (
        fresh_postgres_database(on_postgres_url, prefix="kyoso_drill")
        if on_postgres_url
        else sqlite_database(tmp_dir / "drill.sqlite3")
    )
    with database as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            "SIGN_IN_ATTEMPTS": "1000",  # every client signs in from 127.0.0.1, again after lost sessions
        }
        env.pop("SECRET_KEY", None)  # kept under DATA_DIR: the same across restarts, like sessions
        run_app_command("migrate", env=env)
        server = DrillServer(
            env=env, port=free_port(), log_path=tmp_dir / "server.log", database_url=database_url
        )
        try:
            yield server
        finally:
            server.stop()


@asynccontextmanager
async def database_of(url: str) -> AsyncIterator[Engine]:  # type: ignore[type-arg]
    """Point every table at the database of `url` in this process; put the previous engines back after."""
    tables: tuple[type[Table], ...] = (*feature_tables(), Migration)  # what use_engine points
    previous = {table: table._meta.db for table in tables}
    engine = engine_from_url(url)
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=2)
    use_engine(engine)
    try:
        yield engine
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        elif isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
        for table, db in previous.items():
            table._meta.db = db


# --- the world --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """One open challenge: a startup member per organization, a judged submission and its judges."""

    challenge_id: int
    field_id: int
    round_id: int
    criteria: list[int]
    judged_submission: int
    judges: list[Person]
    members: list[tuple[Person, int]]  # (member, organization id)


async def build_world(judges: int, startups: int) -> World:
    """Create the people and rows through the app's own account code (on the engine in use)."""
    now = utcnow()
    bureau_id = await make_bureau("drill")
    official = await make_user("official@drill.example.jp", role="official", bureau_id=bureau_id)
    challenge_id = await make_challenge(
        bureau_id=bureau_id, author_id=official.id, slug=SLUG, now=now, close_in=timedelta(days=10)
    )
    field_id = await add_field(challenge_id, "long_text", "提案内容", position=1, max_chars=4000)
    members = []
    for index in range(startups):
        member = await make_user(f"member{index}@startup{index}.example")
        members.append((member, await make_organization(member, base_digits=f"0104012345{index:02d}")))
    applicant = await make_user("applicant@judged.example")
    applicant_org = await make_organization(applicant, base_digits="010409999999")
    rows = await Submission.insert(
        Submission(
            challenge=challenge_id, organization=applicant_org, status="submitted", active_slot=None,
            receipt_number="KY-DRILL-0001", summary="防災情報を届ける提案", created_by=applicant.id,
            created_at=now, updated_at=now, submitted_at=now, withdraw_reason="",
        )
    ).run()  # fmt: skip
    judged = int(rows[0]["id"])
    content = {"summary": "防災情報を届ける提案", "answers": {}, "files": [], "team": [], "consents": []}
    await SubmissionVersion.insert(
        SubmissionVersion(
            submission=judged, number=1, content=json.dumps(content, ensure_ascii=False),
            submitted_by=applicant.id, submitted_at=now,
        )
    ).run()  # fmt: skip
    rows = await Round.insert(
        Round(
            challenge=challenge_id, position=1, kind="document", name_ja="書類審査", name_en="Documents",
            opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=1), created_at=now,
        )
    ).run()  # fmt: skip
    round_id = int(rows[0]["id"])
    criteria = []
    for position in (1, 2):
        rows = await Criterion.insert(
            Criterion(
                round=round_id, position=position, name_ja=f"観点{position}", name_en=f"Criterion {position}",
                description_ja="", description_en="", weight=1.0, scale_min=SCALE[0], scale_max=SCALE[1],
                levels="{}",
            )
        ).run()  # fmt: skip
        criteria.append(int(rows[0]["id"]))
    people = [await make_user(f"judge{index}@review.example.jp", role="judge") for index in range(judges)]
    for judge in people:
        await Assignment.insert(
            Assignment(round=round_id, submission=judged, judge=judge.id, assigned_at=now)
        ).run()
    assert await Membership.count().run() == startups + 1  # a wrong world would prove nothing
    return World(challenge_id, field_id, round_id, criteria, judged, people, members)


# --- the clients ------------------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One save as the client saw it."""

    stream: str  # the criterion id or the answer key
    value: str
    expected: int  # the version / revision sent
    sent_at: float  # seconds since the drill started
    incarnation: int  # of the server when sent
    outcome: str = ""
    returned: int | None = None  # the version / revision a 2xx named
    done_at: float = 0.0
    status: int | None = None


@dataclass
class DrillClock:
    """Seconds since the drill started (attempts and kills are stamped with it)."""

    started: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)


VERSION = re.compile(r'name="version" value="(\d+)"')


def revision_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf'name="revision-{re.escape(key)}" value="(\d+)"')


class DrillClient:
    """One browser tab that autosaves in a loop and keeps a record of every save."""

    kind = "client"

    def __init__(
        self, name: str, person: Person, server: DrillServer, clock: DrillClock, rng: random.Random
    ) -> None:
        self.name = name
        self.person = person
        self.server = server
        self.clock = clock
        self.rng = rng
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=CLIENT_TIMEOUT, trust_env=False)
        self.web = WebClient(self.http)
        self.attempts: list[Attempt] = []
        self.sign_ins = 0
        self.reloads = 0
        self.timeouts = 0
        self.applied_unknown = 0  # saves without an answer that the database turned out to hold
        self.unexpected: list[str] = []  # statuses no save should get (5xx, 409 after a fresh reload, ...)

    async def close(self) -> None:
        await self.http.aclose()

    async def sign_in(self) -> None:
        """Through the real form (a fresh session, so also after a lost one)."""
        self.http.cookies.clear()
        response = await self.web.post(
            "/signin", {"email": self.person.email, "password": self.person.password, "next": "/"}
        )
        if response.status_code != 303:
            raise AssertionError(
                f"{self.name}: sign-in answered {response.status_code}: {response.text[:500]}"
            )
        self.sign_ins += 1

    async def page(self, path: str) -> str:
        """GET a page, signing in again if the session is gone."""
        response = await self.http.get(path)
        if response.status_code in (401, 303) or "/signin" in response.headers.get("location", ""):
            await self.sign_in()
            response = await self.http.get(path)
        if response.status_code != 200:
            raise AssertionError(f"{self.name}: GET {path} answered {response.status_code}")
        return response.text

    async def until_up(self, step: Callable[[], Any], stop: asyncio.Event) -> bool:
        """Run `step` until the server answers it (False if the drill ended first)."""
        while not stop.is_set():
            try:
                await step()
            except httpx.TransportError:
                await asyncio.sleep(RETRY_PAUSE)
            else:
                return True
        return False

    async def prepare(self) -> None:
        """Sign in and open the page (before the first kill)."""
        raise NotImplementedError

    async def reload(self) -> None:
        """Read the current version(s) from the page."""
        raise NotImplementedError

    def next_save(self) -> tuple[str, str, dict[str, str], str]:
        """(stream, value, form, path) of the next save."""
        raise NotImplementedError

    def returned_version(self, stream: str, body: str) -> int | None:
        raise NotImplementedError

    def expected_of(self, stream: str) -> int:
        raise NotImplementedError

    def acknowledge(self, stream: str, version: int) -> None:
        raise NotImplementedError

    async def save_once(self, stop: asyncio.Event) -> Attempt:
        """One save as the page sends it; after anything but a 2xx, reload the page for the versions."""
        stream, value, form, path = self.next_save()
        attempt = Attempt(stream, value, self.expected_of(stream), self.clock.now(), self.server.incarnation)
        self.attempts.append(attempt)
        try:
            response = await self.web.post(path, form, htmx=True)
        except httpx.ConnectError:
            attempt.outcome = NOT_SENT  # nothing reached the server
        except httpx.TransportError as error:
            attempt.outcome = UNKNOWN  # sent; the server may have applied it before it died
            self.timeouts += isinstance(error, httpx.TimeoutException)
        else:
            attempt.status = response.status_code
            returned = self.returned_version(stream, response.text) if response.status_code == 200 else None
            if returned is not None:
                attempt.outcome, attempt.returned = OK, returned
                self.acknowledge(stream, returned)
            else:
                attempt.outcome = REFUSED
                if response.status_code in (401, 403) or "/signin" in response.headers.get("location", ""):
                    await self.until_up(self.sign_in, stop)
                elif not (response.status_code == 409 and self.timeouts):
                    # A 409 is expected only when a request that timed out was applied after the reload.
                    self.unexpected.append(f"{response.status_code} at {attempt.sent_at} s")
        attempt.done_at = self.clock.now()
        if attempt.outcome != OK:
            self.reloads += 1
            await self.until_up(self.reload, stop)
        return attempt

    async def run(self, stop: asyncio.Event) -> None:
        """Save, save, save until told to stop; survive the server's deaths."""
        if not await self.until_up(self.reload, stop):
            return
        while not stop.is_set():
            await self.save_once(stop)
            await asyncio.sleep(self.rng.uniform(0.0, 0.03))  # autosave pacing: a little think time

    def acknowledged(self) -> int:
        return sum(attempt.outcome == OK for attempt in self.attempts)


class JudgeClient(DrillClient):
    """A judge changing scores on the scorecard: one criterion per save, as the radio buttons do."""

    kind = "judge"

    def __init__(self, *args: Any, world: World, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.world = world
        self.base = f"/judging/rounds/{world.round_id}/submissions/{world.judged_submission}"
        self.version = 0
        self.last_value: dict[str, int] = {}

    async def prepare(self) -> None:
        await self.sign_in()
        answered = await self.web.post(f"{self.base}/conflict", {"answer": "none"})
        if answered.status_code != 303:
            raise AssertionError(f"{self.name}: conflict answer got {answered.status_code}")
        await self.reload()

    async def reload(self) -> None:
        found = VERSION.search(await self.page(self.base))
        if found is None:
            raise AssertionError(f"{self.name}: no scorecard version on the page")
        self.version = int(found.group(1))

    def next_save(self) -> tuple[str, str, dict[str, str], str]:
        criterion = self.rng.choice(self.world.criteria)
        stream = str(criterion)
        previous = self.last_value.get(stream, 0)
        # Never the value just sent for this criterion: two saves sent with the same version stay distinct.
        value = self.rng.choice([v for v in range(SCALE[0], SCALE[1] + 1) if v != previous])
        self.last_value[stream] = value
        form = {f"score-{criterion}": str(value), "version": str(self.version)}
        return stream, str(value), form, f"{self.base}/scores/{criterion}"

    def returned_version(self, stream: str, body: str) -> int | None:
        found = VERSION.search(body)
        return int(found.group(1)) if found else None

    def expected_of(self, stream: str) -> int:
        return self.version

    def acknowledge(self, stream: str, version: int) -> None:
        self.version = version


class DraftClient(DrillClient):
    """A startup member typing the draft: the summary and one long answer, each autosaved."""

    kind = "startup"

    def __init__(self, *args: Any, world: World, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.world = world
        self.organization_id = organization_id
        self.submission_id = 0
        self.keys = [SUMMARY_KEY, str(world.field_id)]
        self.revisions = dict.fromkeys(self.keys, 0)
        self.sequence = 0

    async def prepare(self) -> None:
        await self.sign_in()
        started = await self.web.post(
            f"/challenges/{SLUG}/apply", {"organization": str(self.organization_id)}
        )
        location = started.headers.get("location", "")
        if started.status_code != 303 or not location.startswith("/submissions/"):
            raise AssertionError(f"{self.name}: apply answered {started.status_code} {location}")
        self.submission_id = int(location.removeprefix("/submissions/").split("?")[0].strip("/"))
        await self.reload()

    async def reload(self) -> None:
        text = await self.page(f"/submissions/{self.submission_id}")
        for key in self.keys:
            found = revision_pattern(key).search(text)
            if found is None:
                raise AssertionError(f"{self.name}: no revision of {key} on the draft page")
            self.revisions[key] = int(found.group(1))

    def next_save(self) -> tuple[str, str, dict[str, str], str]:
        key = self.rng.choice(self.keys)
        self.sequence += 1
        value = f"{self.name} の下書き #{self.sequence}: 防災情報をすべての人へ"
        form = {f"answer-{key}": value, f"revision-{key}": str(self.revisions[key])}
        return key, value, form, f"/submissions/{self.submission_id}/answers/{key}"

    def returned_version(self, stream: str, body: str) -> int | None:
        found = revision_pattern(stream).search(body)
        return int(found.group(1)) if found else None

    def expected_of(self, stream: str) -> int:
        return self.revisions[stream]

    def acknowledge(self, stream: str, version: int) -> None:
        self.revisions[stream] = version


# --- the checks -------------------------------------------------------------------------------------------


def describe(attempt: Attempt) -> str:
    return (
        f"{attempt.value!r} (sent v{attempt.expected} at {attempt.sent_at} s to server "
        f"#{attempt.incarnation}, {attempt.outcome} {attempt.returned or ''} at {attempt.done_at} s)"
    )


def applicable(attempt: Attempt) -> bool:
    """Whether the database may hold this save."""
    return attempt.outcome in (OK, UNKNOWN)


async def judge_problems(client: JudgeClient) -> list[str]:
    """Every acknowledged score is its event; every event is a save that was sent; the cache matches."""
    problems: list[str] = []
    card = await (
        Scorecard.select()
        .where((Scorecard.round == client.world.round_id) & (Scorecard.judge == client.person.id))
        .first()
        .run()
    )
    events = []
    if card is not None:
        events = await (
            ScoreEvent.select().where(ScoreEvent.scorecard == card["id"]).order_by(ScoreEvent.version).run()
        )
    by_version = {event["version"]: event for event in events}
    version = card["version"] if card else 0
    if [event["version"] for event in events] != list(range(1, version + 1)):
        problems.append(
            f"{client.name}: scorecard version {version}, events {[e['version'] for e in events]}"
        )
    for attempt in client.attempts:
        if attempt.outcome != OK:
            continue
        event = by_version.get(attempt.returned)
        if (
            event is None
            or str(event["criterion"]) != attempt.stream
            or int(event["new_value"]) != int(attempt.value)
        ):
            problems.append(f"{client.name}: LOST acknowledged score {describe(attempt)}; stored: {event}")
    for event in events:
        sources = [
            a
            for a in client.attempts
            if applicable(a)
            and a.expected == event["version"] - 1
            and a.stream == str(event["criterion"])
            and int(a.value) == int(event["new_value"])
        ]
        if not sources:
            problems.append(f"{client.name}: score event {event} matches no save that may be applied")
        elif all(a.outcome == UNKNOWN for a in sources):
            client.applied_unknown += 1
    current = {}
    if card is not None:
        rows = await CurrentScore.select().where(CurrentScore.scorecard == card["id"]).run()
        current = {str(row["criterion"]): row["value"] for row in rows}
    replay: dict[str, float] = {}
    for event in events:
        expected_old = replay.get(str(event["criterion"]))
        if event["old_value"] != expected_old:
            problems.append(f"{client.name}: event v{event['version']} starts at {event['old_value']}")
        replay[str(event["criterion"])] = event["new_value"]
    if current != replay:
        problems.append(f"{client.name}: current scores {current} != replayed events {replay}")
    for stream in {a.stream for a in client.attempts}:
        problems += final_value_problems(
            client.name, [a for a in client.attempts if a.stream == stream], current.get(stream), as_int=True
        )
    return problems


def final_value_problems(
    name: str, attempts: list[Attempt], stored: Any, *, as_int: bool = False
) -> list[str]:
    """The stored value is the last acknowledged save, or one sent after it whose answer was lost."""
    last_ok = max((i for i, a in enumerate(attempts) if a.outcome == OK), default=-1)
    candidates = [a for a in attempts[max(last_ok, 0) :] if applicable(a)]
    if last_ok < 0 and stored is None:
        return []

    def same(a: Attempt) -> bool:
        return stored is not None and (int(a.value) == int(stored) if as_int else a.value == stored)

    if any(same(a) for a in candidates):
        return []
    last = describe(attempts[last_ok]) if last_ok >= 0 else "none"
    return [f"{name}: stores {stored!r}, but the last acknowledged save of that field was {last}"]


async def draft_problems(client: DraftClient) -> list[str]:
    """Each answer holds the last acknowledged text (or a later unacknowledged one), at a revision that
    counts every acknowledged save."""
    problems: list[str] = []
    submission = await (
        Submission.select(Submission.summary, Submission.summary_revision)
        .where(Submission.id == client.submission_id)
        .first()
        .run()
    )
    answer = await (
        Answer.select(Answer.value, Answer.revision)
        .where((Answer.submission == client.submission_id) & (Answer.field == client.world.field_id))
        .first()
        .run()
    )
    stored: dict[str, tuple[Any, int]] = {SUMMARY_KEY: (None, 0), str(client.world.field_id): (None, 0)}
    if submission:
        stored[SUMMARY_KEY] = (submission["summary"], submission["summary_revision"])
    if answer:
        stored[str(client.world.field_id)] = (json.loads(answer["value"]), answer["revision"])
    for key, (value, revision) in stored.items():
        attempts = [a for a in client.attempts if a.stream == key]
        acknowledged = [a for a in attempts if a.outcome == OK]
        client.applied_unknown += max(revision - len(acknowledged), 0)
        maybe = sum(a.outcome == UNKNOWN for a in attempts)
        if not len(acknowledged) <= revision <= len(acknowledged) + maybe:
            problems.append(
                f"{client.name}/{key}: revision {revision} after {len(acknowledged)} acknowledged saves "
                f"and {maybe} unanswered ones"
            )
        if acknowledged and revision < (acknowledged[-1].returned or 0):
            problems.append(f"{client.name}/{key}: LOST acknowledged save {describe(acknowledged[-1])}")
        if acknowledged and revision == acknowledged[-1].returned and value != acknowledged[-1].value:
            problems.append(f"{client.name}/{key}: stores {value!r} at the acknowledged revision {revision}")
        problems += final_value_problems(f"{client.name}/{key}", attempts, value if revision else None)
    return problems


async def consistency_problems(judges: list[JudgeClient]) -> list[str]:
    """Across the database: one audit event per score event, an intact audit chain."""
    problems = []
    scores = await ScoreEvent.count().run()
    audited = await AuditEvent.count().where(AuditEvent.action == "score.recorded").run()
    if scores != audited:
        problems.append(f"{scores} score events but {audited} score.recorded audit events")
    acknowledged = sum(client.acknowledged() for client in judges)
    if scores < acknowledged:
        problems.append(f"{scores} score events for {acknowledged} acknowledged scores")
    report = await verify_chain()
    if not report.intact:
        problems.append(f"audit chain broken at {report.broken_at}: {report.problem}")
    return problems


def sqlite_integrity(database_url: str) -> list[str]:
    """`PRAGMA integrity_check` and `foreign_key_check` of the SQLite file (opening it replays its WAL)."""
    connection = sqlite3.connect(sqlite_path(database_url))
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        orphans = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    problems = [] if integrity == ["ok"] else [f"integrity_check: {integrity}"]
    return problems + ([f"foreign_key_check: {orphans[:10]}"] if orphans else [])


async def drill_problems(clients: list[DrillClient]) -> list[str]:
    """Every check above, on the database the tables point at."""
    problems: list[str] = []
    for client in clients:
        client.applied_unknown = 0
        if isinstance(client, JudgeClient):
            problems += await judge_problems(client)
        elif isinstance(client, DraftClient):
            problems += await draft_problems(client)
    return problems + await consistency_problems([c for c in clients if isinstance(c, JudgeClient)])
