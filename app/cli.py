"""Command line: `python -m app <command>` (also installed as `kyoso`)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from app.clock import utcnow
from app.database.registry import current_engine, pending_migrations
from app.database.sqlite import KyosoSQLiteEngine


async def migrate(_: argparse.Namespace) -> int:
    """Apply every pending migration of every feature app."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        print(f"Migration failed: {result.message}", file=sys.stderr)
        return 1
    print("Migrations are current.")
    return 0


async def create_user(args: argparse.Namespace) -> int:
    """Create a user with a role (admin, official of a bureau, judge, or a plain startup user)."""
    from app.accounts.passwords import password_problem
    from app.accounts.seed import create_account
    from app.accounts.tables import Bureau

    password = args.password or prompt_password()
    if problem := password_problem(password, personal=(args.email, args.name or "")):
        print(f"Password refused: {problem.value}", file=sys.stderr)
        return 2
    bureau_id = None
    if args.role == "official":
        if not args.bureau:
            print("An official needs --bureau <slug>.", file=sys.stderr)
            return 2
        bureau = await Bureau.select(Bureau.id).where(Bureau.slug == args.bureau).first().run()
        if bureau is None:
            print(f"No bureau with slug {args.bureau!r}.", file=sys.stderr)
            return 2
        bureau_id = bureau["id"]
    role = None if args.role == "startup" else args.role
    user_id = await create_account(
        email=args.email,
        display_name=args.name or args.email,
        password=password,
        role=role,
        bureau_id=bureau_id,
        now=utcnow(),
    )
    print(f"Created user {user_id} <{args.email}> as {args.role}.")
    return 0


def prompt_password() -> str:
    """Ask twice on the terminal."""
    first = getpass.getpass("Password (12+ characters): ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("The passwords differ.")
    return first


async def seed_demo(args: argparse.Namespace) -> int:
    """Load demo bureaus, people and startups, and print how to sign in as each."""
    from app.accounts.seed import DEMO_PASSWORD, seed_demo_data
    from app.accounts.tables import User

    if args.if_empty and await User.count().run() > 0:
        print("The database already has users: demo data not loaded.")
        return 0
    from app.catalog.municipalities import seed_municipalities
    from app.challenges.demo import seed_demo_challenges
    from app.submissions.demo import seed_demo_forms

    now = utcnow()
    accounts = await seed_demo_data(now=now)
    challenges = await seed_demo_challenges(now=now)
    await seed_demo_forms(now=now)
    await seed_municipalities()
    print(f"Demo data loaded. Every demo account's password is: {DEMO_PASSWORD}")
    for email, role in accounts:
        print(f"  {role:<28} {email}")
    print(f"{len(challenges)} demo challenges: " + ", ".join(challenges))
    return 0


async def check(_: argparse.Namespace) -> int:
    """Report configuration problems; exit 1 if any would stop the site from working."""
    from app.settings import Settings
    from app.web.i18n import check_catalogues

    settings = Settings.from_env()
    problems = check_catalogues()
    warnings = []
    if len(settings.secret_key) < 32:
        problems.append("SECRET_KEY is shorter than 32 characters.")
    if (
        not settings.is_https
        and "127.0.0.1" not in settings.base_url
        and "localhost" not in settings.base_url
    ):
        warnings.append(f"BASE_URL {settings.base_url} is not https: cookies will not be marked Secure.")
    for provider in settings.oidc_providers:
        problems.extend(provider.problems())
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / ".write-test").write_text("ok")
        (settings.data_dir / ".write-test").unlink()
    except OSError as error:
        problems.append(f"DATA_DIR {settings.data_dir} is not writable: {error}")
    try:
        pending = await pending_migrations()
    except Exception as error:  # noqa: BLE001 (report any database failure as a problem)
        problems.append(f"Database unreachable: {error}")
    else:
        if pending:
            problems.append(f"{len(pending)} migration(s) not applied: run `python -m app migrate`.")
    for line in warnings:
        print(f"warning: {line}")
    for line in problems:
        print(f"problem: {line}")
    if not problems:
        print("Configuration looks good.")
    return 1 if problems else 0


async def verify_audit(_: argparse.Namespace) -> int:
    """Check the whole audit trail; exit 1 and name the first broken link if it was tampered with."""
    from app.judging.audit import verify_chain

    report = await verify_chain()
    if report.intact:
        print(f"Audit trail intact: {report.checked} events in order, linked and unchanged.")
        return 0
    print(f"Audit trail BROKEN at event {report.broken_at}: {report.problem}.", file=sys.stderr)
    print(f"The {report.checked} events before it are intact.", file=sys.stderr)
    return 1


async def worker(_: argparse.Namespace) -> int:
    """Send queued mail and run scheduled jobs until stopped (instead of the web process doing it)."""
    from piccolo.engine.postgres import PostgresEngine

    from app.jobs import FREQUENT_JOBS, SCHEDULED_JOBS
    from app.notifications.worker import run_worker
    from app.settings import Settings

    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=4)
    print("Worker started: delivering mail and running scheduled jobs (Ctrl-C stops).", flush=True)
    try:
        await run_worker(Settings.from_env(), SCHEDULED_JOBS, frequent_jobs=FREQUENT_JOBS)
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
    return 0


async def reindex(_: argparse.Namespace) -> int:
    """Rebuild this instance's search index from the database (the database is the source of truth)."""
    from app.search_sources import reindex_search

    count = await reindex_search()
    print(f"Search index rebuilt: {count} documents.")
    return 0


async def backup(args: argparse.Namespace) -> int:
    """Back up the database and uploaded files into a new folder (see app/database/backup.py)."""
    from pathlib import Path

    from app.database.backup import BackupError, create_backup
    from app.settings import Settings

    settings = Settings.from_env()
    now = utcnow()
    target = Path(args.to) if args.to else settings.data_dir / "backups" / now.strftime("%Y%m%dT%H%M%SZ")
    try:
        manifest = await create_backup(settings, target, now)
    except BackupError as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return 1
    rows = sum(manifest.tables.values())
    print(f"Backup written to {target}: {rows} rows, audit trail head #{manifest.audit_sequence}.")
    return 0


async def restore(args: argparse.Namespace) -> int:
    """Replace the database and uploaded files with a backup, then check them against its manifest."""
    from pathlib import Path

    from app.database.backup import BackupError, restore_backup
    from app.settings import Settings

    try:
        manifest = await restore_backup(Settings.from_env(), Path(args.source))
    except BackupError as error:
        print(f"Restore failed: {error}", file=sys.stderr)
        return 1
    rows = sum(manifest.tables.values())
    print(f"Restored the backup of {manifest.created_at}: {rows} rows match, audit trail head matches.")
    print("Rebuild the search index before starting the app: python -m app reindex")
    return 0


async def reconcile_payments(args: argparse.Namespace) -> int:
    """Compare local payments with Stripe, fix what can be fixed and report the rest."""
    from app.payments.reconcile_command import reconcile_payments_command

    return await reconcile_payments_command(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "migrate": migrate,
    "create-user": create_user,
    "seed-demo": seed_demo,
    "check": check,
    "worker": worker,
    "verify-audit": verify_audit,
    "reindex": reindex,
    "backup": backup,
    "restore": restore,
    "reconcile-payments": reconcile_payments,
}


def parser() -> argparse.ArgumentParser:
    """Arguments of every command."""
    root = argparse.ArgumentParser(prog="kyoso", description="Kyoso administration commands.")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    user = commands.add_parser("create-user", help="create a user with a role")
    user.add_argument("--email", required=True)
    user.add_argument("--role", required=True, choices=["admin", "official", "judge", "startup"])
    user.add_argument("--bureau", help="bureau slug (officials only)")
    user.add_argument("--name", help="display name (default: the email)")
    user.add_argument("--password", help="password (prompted when omitted)")
    seed = commands.add_parser("seed-demo", help="load demo data and print its sign-in credentials")
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no users yet")
    commands.add_parser("check", help="check configuration and database")
    commands.add_parser("worker", help="deliver queued mail and run scheduled jobs until stopped")
    commands.add_parser("verify-audit", help="verify the hash chain of the audit trail")
    commands.add_parser("reindex", help="rebuild the search index from the database")
    saving = commands.add_parser("backup", help="back up the database and uploaded files")
    saving.add_argument("--to", help="a new folder for the backup (default: DATA_DIR/backups/<UTC time>)")
    loading = commands.add_parser("restore", help="restore a backup (stop the app first)")
    loading.add_argument("source", help="the backup folder")
    commands.add_parser("reconcile-payments", help="compare payments with Stripe and fix what can be fixed")
    return root


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status."""
    args = parser().parse_args(argv)
    try:
        return asyncio.run(run_with_engine(COMMANDS[args.command](args)))
    except KeyboardInterrupt:
        return 130


async def run_with_engine(command: Coroutine[Any, Any, int]) -> int:
    """Run a command, then release the database connections so the process can exit at once."""
    try:
        return await command
    finally:
        engine = current_engine()
        if isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
