"""Backups an operator can restore: a consistent copy of the database, the uploaded files, and a manifest.

    python -m app backup [--to DIR]     DIR defaults to DATA_DIR/backups/<UTC timestamp>
    python -m app restore DIR           with the app stopped

SQLite: the online backup API copies a consistent snapshot while the app keeps running and writing.
PostgreSQL: `pg_dump --format=custom`, restored by `pg_restore --clean --single-transaction` (all or
nothing). Uploaded files (DATA_DIR/uploads) go into `uploads.tar`. The search index is not saved: it is
rebuilt from the database (`python -m app reindex`).

`manifest.json` records each table's row count, the audit chain's head (sequence and hash) and the
sha256 of every file. Restore refuses a backup whose files do not match their sums, and after loading
checks the counts and the chain head again, so a restore that "worked" but lost rows says so.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.database.engines import sqlite_path
from app.database.registry import feature_tables
from app.settings import Settings

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
UPLOADS_FILE = "uploads.tar"
COMMAND_TIMEOUT_SECONDS = 3600


class BackupError(Exception):
    """A backup or restore that cannot be made or trusted; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, to check a restore against."""

    created_at: str
    database: str
    tables: dict[str, int]
    audit_sequence: int
    audit_hash: str
    sha256: dict[str, str] = field(default_factory=dict)


async def table_counts() -> dict[str, int]:
    """Rows per table of every feature app."""
    counts: dict[str, int] = {}
    for table in feature_tables():
        counts[table._meta.tablename] = int(await table.count().run())
    return counts


async def audit_head() -> tuple[int, str]:
    """The last audit event's sequence number and hash ((0, "") when the trail is empty)."""
    from app.judging.tables import AuditEvent

    row = (
        await AuditEvent.select(AuditEvent.sequence, AuditEvent.hash)
        .order_by(AuditEvent.sequence, ascending=False)
        .first()
        .run()
    )
    return (int(row["sequence"]), str(row["hash"])) if row else (0, "")


async def current_state(settings: Settings, created_at: datetime) -> Manifest:
    """The counts and chain head of the database as it is now."""
    sequence, head = await audit_head()
    return Manifest(
        created_at=created_at.isoformat(),
        database="sqlite" if settings.is_sqlite else "postgresql",
        tables=await table_counts(),
        audit_sequence=sequence,
        audit_hash=head,
    )


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def uploads_dir(settings: Settings) -> Path:
    """Where uploaded files live."""
    return settings.data_dir / "uploads"


async def create_backup(settings: Settings, target: Path, now: datetime) -> Manifest:
    """Write a backup into the new folder `target` and return its manifest."""
    prepare_target(target)
    # Counted before the copy: rows written meanwhile may be in the copy too, never fewer.
    state = await current_state(settings, now)
    files = write_backup_files(settings, target)
    manifest = Manifest(**{**asdict(state), "sha256": {name: sha256_of(target / name) for name in files}})
    (target / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False) + "\n")
    return manifest


def prepare_target(target: Path) -> None:
    """Create the backup folder; an existing non-empty folder is refused, never overwritten."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: choose a new folder for the backup.")
    target.mkdir(parents=True, exist_ok=True)


def write_backup_files(settings: Settings, target: Path) -> list[str]:
    """Copy the database and archive the uploads into `target`; the names of the files written."""
    if settings.is_sqlite:
        copy_sqlite(sqlite_path(settings.database_url), target / SQLITE_FILE)
        files = [SQLITE_FILE]
    else:
        run_tool(["pg_dump", "--format=custom", "--no-owner", f"--file={target / POSTGRES_FILE}",
                  f"--dbname={settings.database_url}"])  # fmt: skip
        files = [POSTGRES_FILE]
    with tarfile.open(target / UPLOADS_FILE, "w") as archive:
        if uploads_dir(settings).is_dir():
            archive.add(uploads_dir(settings), arcname="uploads")
    return [*files, UPLOADS_FILE]


def copy_sqlite(source: Path, destination: Path) -> None:
    """Copy a SQLite database with the online backup API (a consistent snapshot, WAL included)."""
    with sqlite3.connect(source) as live, sqlite3.connect(destination) as copy:
        live.backup(copy)
    copy.close()
    live.close()


def run_tool(command: list[str]) -> None:
    """Run pg_dump / pg_restore; a failure is a BackupError carrying the tool's message."""
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS)  # noqa: S603 (fixed tool, our arguments)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client tools.") from error
    except subprocess.CalledProcessError as error:
        raise BackupError(f"{command[0]} failed: {error.stderr.strip()}") from error


def read_manifest(source: Path) -> Manifest:
    """The manifest of a backup folder, after checking every file against its sum."""
    try:
        data: dict[str, Any] = json.loads((source / MANIFEST).read_text())
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as error:
        raise BackupError(f"{source} has no readable {MANIFEST}: is it a Kyoso backup folder?") from error
    for name, expected in manifest.sha256.items():
        path = source / name
        if not path.is_file() or sha256_of(path) != expected:
            raise BackupError(f"{path} is missing or damaged (its sha256 does not match the manifest).")
    return manifest


async def restore_backup(settings: Settings, source: Path) -> Manifest:
    """Replace the database and uploaded files with the backup in `source`, then check the result."""
    manifest = read_manifest(source)
    kind = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest.database != kind:
        raise BackupError(f"This backup is of a {manifest.database} database; DATABASE_URL names {kind}.")
    if settings.is_sqlite:
        restore_sqlite(source / SQLITE_FILE, sqlite_path(settings.database_url))
    else:
        run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  f"--dbname={settings.database_url}", str(source / POSTGRES_FILE)])  # fmt: skip
    restore_uploads(source / UPLOADS_FILE, uploads_dir(settings))
    restored = await current_state(settings, datetime.fromisoformat(manifest.created_at))
    if (restored.tables, restored.audit_sequence, restored.audit_hash) != (
        manifest.tables,
        manifest.audit_sequence,
        manifest.audit_hash,
    ):
        raise BackupError("The restored database differs from the backup's manifest: do not start the app.")
    return manifest


def restore_sqlite(backup: Path, live: Path) -> None:
    """Load a backup into the live SQLite file through the backup API (WAL and -shm stay consistent)."""
    live.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(backup) as source, sqlite3.connect(live) as destination:
        source.backup(destination)
    source.close()
    destination.close()


def restore_uploads(archive_path: Path, destination: Path) -> None:
    """Replace the uploads folder with the archived one (the old one is kept until the new one is in)."""
    staging = destination.with_name(destination.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(archive_path) as archive:
        # The "data" filter refuses absolute paths, links out of the folder and device files.
        archive.extractall(staging, filter="data")
    previous = destination.with_name(destination.name + ".before-restore")
    shutil.rmtree(previous, ignore_errors=True)
    if destination.exists():
        destination.rename(previous)
    extracted = staging / "uploads"
    if extracted.is_dir():
        extracted.rename(destination)
    else:
        destination.mkdir(parents=True)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)
