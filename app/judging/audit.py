"""The audit trail: every judging and publishing action, hash-chained so no one can rewrite it unseen.

Each event's hash is sha256(previous hash + canonical JSON of the event), and events are numbered 1, 2, 3,
... without gaps. Changing a row breaks its own hash; deleting one leaves a gap in the numbers; inserting
one breaks the next row's link. `verify_chain` walks the trail and names the first broken link. Appends are
serialized (an advisory lock on PostgreSQL, the write transaction on SQLite), and `sequence` and `hash` are
UNIQUE, so two appends can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app.judging.tables import AuditEvent

GENESIS = "0" * 64
# Any constant shared by every app instance: the advisory lock that serializes appends on PostgreSQL.
AUDIT_LOCK_KEY = 4_821_337


def canonical(event: dict[str, Any]) -> str:
    """The event as the hash sees it: sorted keys, no spaces, UTF-8 text, instants in ISO 8601 UTC."""
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The hashed part of a stored row."""
    happened_at = row["happened_at"]
    return {
        "sequence": row["sequence"],
        "challenge": row["challenge"],
        "actor": row["actor"],
        "action": row["action"],
        "subject": row["subject"],
        "payload": row["payload"],
        "happened_at": happened_at.isoformat() if isinstance(happened_at, datetime) else happened_at,
    }


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """sha256 of the previous hash followed by the canonical event."""
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


async def record(
    action: str,
    *,
    actor: int | None,
    challenge: int | None,
    subject: str,
    details: dict[str, Any],
    now: datetime,
) -> int:
    """Append an event (call inside the transaction of the action it records); returns its sequence number."""
    engine = AuditEvent._meta.db
    now = now.astimezone(UTC)  # the database returns UTC: hash exactly what will be read back
    async with engine.transaction():
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY})")
        last = await (
            AuditEvent.select(AuditEvent.sequence, AuditEvent.hash)
            .order_by(AuditEvent.sequence, ascending=False)
            .first()
            .run()
        )
        sequence = (last["sequence"] if last else 0) + 1
        prev_hash = last["hash"] if last else GENESIS
        fields = {
            "sequence": sequence,
            "challenge": challenge,
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": canonical(details),
            "happened_at": now.isoformat(),
        }
        await AuditEvent.insert(
            AuditEvent(
                sequence=sequence,
                challenge=challenge,
                actor=actor,
                action=action,
                subject=subject,
                payload=fields["payload"],
                happened_at=now,
                prev_hash=prev_hash,
                hash=chain_hash(prev_hash, fields),
            )
        ).run()
    return sequence


@dataclass(frozen=True)
class ChainReport:
    """The result of a verification: how many events were checked and the first broken link, if any."""

    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        """Whether every link holds."""
        return self.broken_at is None


async def verify_chain(batch: int = 5_000) -> ChainReport:
    """Walk the whole trail in order and report the first event whose number, link or hash is wrong."""
    expected_sequence = 1
    prev_hash = GENESIS
    checked = 0
    while True:
        rows = await (
            AuditEvent.select()
            .where(AuditEvent.sequence >= expected_sequence)
            .order_by(AuditEvent.sequence)
            .limit(batch)
            .run()
        )
        if not rows:
            return ChainReport(checked=checked)
        for row in rows:
            if row["sequence"] != expected_sequence:
                return ChainReport(checked, expected_sequence, f"event {expected_sequence} is missing")
            if row["prev_hash"] != prev_hash:
                return ChainReport(checked, row["sequence"], "its link to the previous event does not match")
            stored_at = row["happened_at"]
            fields = event_fields(row)
            if isinstance(stored_at, datetime):
                fields["happened_at"] = stored_at.isoformat()
            if chain_hash(prev_hash, fields) != row["hash"]:
                return ChainReport(checked, row["sequence"], "its content was changed after it was recorded")
            prev_hash = row["hash"]
            expected_sequence += 1
            checked += 1
