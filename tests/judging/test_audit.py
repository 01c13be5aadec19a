"""The audit trail is a hash chain: any changed, deleted or inserted row is found, and appends never fork."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

from piccolo.engine.base import Engine

from app.clock import utcnow
from app.database.sqlite import KyosoSQLiteEngine
from app.judging.audit import GENESIS, record, verify_chain
from app.judging.tables import AuditEvent
from tests.conftest import POSTGRES_URL
from tests.support.client import WebClient
from tests.support.commands import app_command
from tests.support.people import make_user

START = datetime(2026, 12, 1, 3, 0, 0, 123456, tzinfo=UTC)


async def trail(count: int) -> None:
    """`count` events, one second apart."""
    for number in range(count):
        await record(
            "score.recorded",
            actor=None,
            challenge=None,
            subject=f"scorecard:{number}",
            details={"criterion": 1, "old": None, "new": number % 5 + 1, "名前": "審査員"},
            now=START + timedelta(seconds=number),
        )


async def test_an_untouched_trail_verifies(database: Engine) -> None:  # type: ignore[type-arg]
    """Ten events chain from the genesis hash and verify, microseconds and Japanese text included."""
    await trail(10)
    report = await verify_chain(batch=3)  # several batches
    assert report.intact
    assert report.checked == 10
    first = await AuditEvent.select().where(AuditEvent.sequence == 1).first().run()
    assert first["prev_hash"] == GENESIS


async def test_a_changed_row_is_found(database: Engine) -> None:  # type: ignore[type-arg]
    """Editing the details of event 4 breaks it, and only from there."""
    await trail(8)
    await AuditEvent.update({AuditEvent.payload: '{"new":5}'}).where(AuditEvent.sequence == 4).run()
    report = await verify_chain()
    assert report.broken_at == 4
    assert report.checked == 3


async def test_a_changed_time_or_actor_is_found(database: Engine) -> None:  # type: ignore[type-arg]
    """Back-dating an event, or changing who did it, breaks its hash."""
    await trail(5)
    await (
        AuditEvent.update({AuditEvent.happened_at: START - timedelta(days=1)})
        .where(AuditEvent.sequence == 2)
        .run()
    )
    assert (await verify_chain()).broken_at == 2


async def test_a_deleted_row_is_found(database: Engine) -> None:  # type: ignore[type-arg]
    """Removing event 3 leaves a gap the verification names."""
    await trail(6)
    await AuditEvent.delete().where(AuditEvent.sequence == 3).run()
    report = await verify_chain()
    assert report.broken_at == 3
    assert "missing" in report.problem


async def test_an_inserted_row_is_found(database: Engine) -> None:  # type: ignore[type-arg]
    """Slipping a forged event in (renumbering the rest) breaks the next link."""
    await trail(5)
    for sequence in range(5, 2, -1):
        await (
            AuditEvent.update({AuditEvent.sequence: sequence + 1})
            .where(AuditEvent.sequence == sequence)
            .run()
        )
    forged_prev = (await AuditEvent.select(AuditEvent.hash).where(AuditEvent.sequence == 2).first().run())[
        "hash"
    ]
    await AuditEvent.insert(
        AuditEvent(
            sequence=3,
            challenge=None,
            actor=None,
            action="score.recorded",
            subject="forged",
            payload="{}",
            happened_at=START,
            prev_hash=forged_prev,
            hash=hashlib.sha256(b"forged").hexdigest(),
        )
    ).run()
    report = await verify_chain()
    assert report.broken_at == 3


async def test_concurrent_appends_never_fork(database: Engine) -> None:  # type: ignore[type-arg]
    """Forty appends at once get forty consecutive numbers and one unbroken chain."""
    now = utcnow()

    async def one(number: int) -> int:
        return await record(
            "assignment.made", actor=None, challenge=None, subject=f"a:{number}", details={}, now=now
        )

    sequences = await asyncio.gather(*(one(number) for number in range(40)))
    assert sorted(sequences) == list(range(1, 41))
    assert (await verify_chain()).checked == 40


async def test_the_command_line_and_the_admin_page_report_a_break(
    client: WebClient,
    database: Engine,  # type: ignore[type-arg]
) -> None:
    """`verify-audit` exits 1 naming the event; the admin page says the same; others get 404."""
    await trail(4)
    url = f"sqlite:///{database.path}" if isinstance(database, KyosoSQLiteEngine) else POSTGRES_URL
    ok = app_command("verify-audit", env={"DATABASE_URL": url})
    assert ok.returncode == 0, ok.stderr
    assert "4 events" in ok.stdout
    await AuditEvent.update({AuditEvent.subject: "rewritten"}).where(AuditEvent.sequence == 2).run()
    broken = app_command("verify-audit", env={"DATABASE_URL": url})
    assert broken.returncode == 1
    assert "event 2" in broken.stderr
    official = await make_user("judge@example.jp", role="judge")
    await client.sign_in(official.email, official.password)
    assert (await client.get("/admin/audit")).status_code == 404
    await client.sign_out()
    admin = await make_user("admin@example.jp", role="admin")
    await client.sign_in(admin.email, admin.password)
    page = await client.get("/admin/audit")
    assert page.status_code == 200
    assert 'role="alert"' in page.text
