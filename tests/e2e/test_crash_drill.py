"""Crash drill: SIGKILL the server at random moments while 20 people autosave, and lose nothing acknowledged.

10 judges change scores and 10 startup members type their drafts, each in a loop, through the real pages
(sign-in form, CSRF, the version or revision their page holds). A killer sends SIGKILL to uvicorn at seeded
random moments and starts it again on the same database and DATA_DIR; the clients retry through the
downtime. After the last kill, with the server still dead, the database must hold every save that got a
2xx (or a later save of the same field whose answer died with the server), nothing that was refused, and
pass its integrity check; then a restarted server must take new saves.

Short by default (3 kills; 35-70 s per database on two shared cores, most of it starting the server four
times); `KYOSO_DRILL_KILLS=20` for a long run, `KYOSO_DRILL_SEED=<n>` to replay other moments. The seed,
the kill times and the saves by outcome are printed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.crash_drill import (
    NOT_SENT,
    OK,
    REFUSED,
    UNKNOWN,
    DraftClient,
    DrillClient,
    DrillClock,
    DrillServer,
    JudgeClient,
    build_world,
    database_of,
    drill_problems,
    drill_server,
    sqlite_integrity,
)
from tests.support.peers import require_peer

KILLS = int(os.environ.get("KYOSO_DRILL_KILLS") or 3)
SEED = int(os.environ.get("KYOSO_DRILL_SEED") or 20261128)
JUDGES = STARTUPS = 10
SAVES_BEFORE_KILL = 10  # acknowledged by each incarnation of the server before it may be killed
TRAFFIC_SECONDS = (0.0, 2.5)  # then the kill comes this much later
WARM_UP_LIMIT_SECONDS = 60.0
DOWNTIME_SECONDS = (0.05, 0.8)  # dead before the restart begins


def seeded(offset: int) -> random.Random:
    """A generator of its own for each client and the killer, all derived from SEED."""
    return random.Random(SEED + offset)  # noqa: S311 (replayable moments and choices, not secrets)


async def kill_and_restart(
    server: DrillServer, clock: DrillClock, rng: random.Random, acknowledged: Callable[[], int]
) -> list[tuple[float, float]]:
    """SIGKILL `KILLS` times at random moments while saves flow, restarting after each but the last.

    Before each kill the server must have acknowledged a few saves since it (re)started, so every kill hits
    a server at work; then it dies a random time later. Returns (killed at, up again at) in seconds since
    the drill started; -1 for the last, not restarted.
    """
    moments = []
    for number in range(1, KILLS + 1):
        floor = acknowledged() + SAVES_BEFORE_KILL
        deadline = clock.now() + WARM_UP_LIMIT_SECONDS
        while acknowledged() < floor:
            assert clock.now() < deadline, (
                f"no saves acknowledged for {WARM_UP_LIMIT_SECONDS} s before kill #{number}"
            )
            await asyncio.sleep(0.05)
        await asyncio.sleep(rng.uniform(*TRAFFIC_SECONDS))
        killed = clock.now()
        server.kill()
        if number == KILLS:
            moments.append((killed, -1.0))
            break
        await asyncio.sleep(rng.uniform(*DOWNTIME_SECONDS))
        await asyncio.to_thread(server.start)
        moments.append((killed, clock.now()))
    return moments


def report(clients: list[DrillClient], moments: list[tuple[float, float]], final: int) -> str:
    """Saves by outcome and kind, and when the server died and came back."""
    lines = [f"seed {SEED}, {len(moments)} kills (killed at s → up again at s): {moments}"]
    for kind in ("judge", "startup"):
        group = [c for c in clients if c.kind == kind]
        attempts = [a for c in group for a in c.attempts]
        counts = {
            outcome: sum(a.outcome == outcome for a in attempts)
            for outcome in (OK, UNKNOWN, NOT_SENT, REFUSED)
        }
        waits = sorted(a.done_at - a.sent_at for a in attempts if a.outcome == OK) or [0.0]
        lines.append(
            f"{kind}s: {len(attempts)} saves {counts}, {sum(c.reloads for c in group)} reloads, "
            f"{sum(c.sign_ins for c in group)} sign-ins, {sum(c.applied_unknown for c in group)} unanswered "
            f"saves found applied; 2xx in {waits[len(waits) // 2]:.3f} s median, "
            f"{waits[-1]:.3f} s max"
        )
    lines.append(f"after the restart: {final} of {len(clients)} new saves acknowledged")
    return "\n".join(lines)


def server_errors(log_path: Path) -> list[str]:
    """Tracebacks and 5xx lines the server logged across its lives (a SIGKILL itself logs nothing)."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if line.startswith("Traceback") or '" 50' in line]


async def test_every_acknowledged_save_survives_sigkill(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Kill at random, restart, and find every 2xx save, an intact database and a server that writes again."""
    caplog.set_level(logging.WARNING, logger="httpx")  # thousands of requests: keep failure reports readable
    under_test = os.environ.get("DATABASE_URL_UNDER_TEST", "")
    postgres_url = under_test if under_test.startswith("postgres") else None
    if postgres_url:
        require_peer("PostgreSQL", postgres_url)
    rng = seeded(-1)
    with drill_server(tmp_path, on_postgres_url=postgres_url) as server:
        async with database_of(server.database_url):
            world = await build_world(JUDGES, STARTUPS)
        await asyncio.to_thread(server.start)
        clock = DrillClock()
        clients: list[DrillClient] = [
            JudgeClient(f"judge{i}", judge, server, clock, seeded(i), world=world)
            for i, judge in enumerate(world.judges)
        ]
        clients += [
            DraftClient(
                f"startup{i}",
                member,
                server,
                clock,
                seeded(100 + i),
                world=world,
                organization_id=organization_id,
            )
            for i, (member, organization_id) in enumerate(world.members)
        ]
        try:
            await asyncio.gather(*(client.prepare() for client in clients))
            stop = asyncio.Event()
            saving = [asyncio.create_task(client.run(stop)) for client in clients]
            try:
                moments = await kill_and_restart(
                    server, clock, rng, lambda: sum(client.acknowledged() for client in clients)
                )
            finally:
                stop.set()
                await asyncio.gather(*saving)

            # The crash image, the server still dead: what a restart would find.
            async with database_of(server.database_url):
                crashed = await drill_problems(clients)
            if not postgres_url:
                crashed += sqlite_integrity(server.database_url)

            # Back up on the same database: every client saves once more, then a graceful stop.
            await asyncio.to_thread(server.start)
            never = asyncio.Event()
            for client in clients:
                await client.until_up(client.reload, never)
            final = await asyncio.gather(*(client.save_once(never) for client in clients))
            server.stop()
            async with database_of(server.database_url):
                after = await drill_problems(clients)
            if not postgres_url:
                after += sqlite_integrity(server.database_url)
        finally:
            for client in clients:
                await client.close()

        summary = report(clients, moments, sum(attempt.outcome == OK for attempt in final))
        print(summary)  # the drill's figures, shown with -s and in CI logs
        assert not crashed, "after SIGKILL:\n" + "\n".join(crashed[:40]) + f"\n{summary}"
        assert not after, "after the restart:\n" + "\n".join(after[:40]) + f"\n{summary}"
        assert all(attempt.outcome == OK for attempt in final), (
            f"the restarted server refused saves: {[(a.status, a.outcome) for a in final]}\n{summary}"
        )
        errors = server_errors(server.log_path)
        assert not errors, f"the server logged errors: {errors[:10]}\n{server.log_path}\n{summary}"
        unexpected = {client.name: client.unexpected for client in clients if client.unexpected}
        assert not unexpected, f"saves answered with an unexpected status: {unexpected}\n{summary}"
