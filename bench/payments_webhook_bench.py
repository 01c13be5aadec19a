"""The Stripe webhook endpoint under 50 concurrent duplicate deliveries of one signed event.

    .venv/bin/python bench/payments_webhook_bench.py [--events 20] [--duplicates 50] [--workers 1]

Migrates a throwaway SQLite database (or the one DATABASE_URL names: use an empty PostgreSQL database),
inserts one payment per event (a PaymentIntent id, ¥1,000, "processing"), starts uvicorn with a webhook
secret, and for each event POSTs the same signed payment_intent.succeeded `--duplicates` times at once.
Prints requests per second and latency, and proves the effect happened once per event: exactly one
"applied" answer per event, one stored event id each, and every payment collected ¥1,000, not more.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from http_bench import free_port, run_cli, stop_server, wait_until_healthy  # bench/ is first on sys.path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_bench_secret"  # noqa: S105 (a throwaway secret of this benchmark)
AMOUNT = 1000


def signed_event(intent_id: str, event_id: str) -> tuple[bytes, str]:
    """A payment_intent.succeeded body and its Stripe-Signature header (HMAC-SHA256 of "t.body")."""
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {"object": {"id": intent_id, "object": "payment_intent", "amount": AMOUNT,
                                "amount_received": AMOUNT, "currency": "jpy", "status": "succeeded"}},
        }
    ).encode()  # fmt: skip
    stamp = int(time.time())
    signature = hmac.new(SECRET.encode(), b"%d.%s" % (stamp, body), hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={signature}"


async def seed(events: int) -> list[str]:
    """One processing payment per event; returns their PaymentIntent ids."""
    sys.path.insert(0, str(PROJECT_ROOT))
    import app  # noqa: F401 (sets PICCOLO_CONF before any table touches the database)
    from app.accounts.seed import create_account
    from app.clock import utcnow
    from app.payments.tables import Payment

    now = utcnow()
    payer = await create_account(
        email="bench-payer@example.com",
        display_name="bench",
        password="x" * 16,
        password_hash="!",  # noqa: S106 (no password: nobody signs in as the bench payer)
        role=None,
        bureau_id=None,
        now=now,
    )
    intents = [f"pi_bench_{index:04d}" for index in range(events)]
    await Payment.insert(
        *(
            Payment(purpose="ticket", payer=payer, amount_jpy=AMOUNT, status="processing",
                    stripe_intent=intent, created_at=now, updated_at=now)
            for intent in intents
        )
    ).run()  # fmt: skip
    return intents


async def check(intents: list[str]) -> tuple[int, int]:
    """(stored event ids, payments whose collected amount is not exactly one payment)."""
    from app.payments.tables import Payment, StripeEvent

    stored = await StripeEvent.count().run()
    rows = (
        await Payment.select(Payment.collected_jpy, Payment.status)
        .where(Payment.stripe_intent.is_in(intents))
        .run()
    )
    wrong = sum(1 for row in rows if row["collected_jpy"] != AMOUNT or row["status"] != "succeeded")
    return stored, wrong


async def healthz_rps(base_url: str, requests: int) -> float:
    """The floor: /healthz requests per second at the same concurrency (no database, no signature)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60, trust_env=False) as http:
        await http.get("/healthz")
        started = time.perf_counter()
        for _ in range(requests // 50):
            await asyncio.gather(*(http.get("/healthz") for _ in range(50)))
        return (requests // 50 * 50) / (time.perf_counter() - started)


async def deliver(
    base_url: str, intents: list[str], duplicates: int
) -> tuple[float, list[float], Counter[str]]:
    """Each event `duplicates` times concurrently, event after event; returns elapsed, latencies, outcomes."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=duplicates, max_keepalive_connections=duplicates)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60, trust_env=False) as http:

        async def one(body: bytes, signature: str) -> None:
            started = time.perf_counter()
            response = await http.post(
                "/payments/stripe/webhook", content=body,
                headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            )  # fmt: skip
            latencies.append(time.perf_counter() - started)
            outcomes[
                response.json().get("outcome", f"http {response.status_code}")
                if response.status_code == 200
                else f"http {response.status_code}"
            ] += 1

        started = time.perf_counter()
        for index, intent in enumerate(intents):
            body, signature = signed_event(intent, f"evt_bench_{index:04d}")
            await asyncio.gather(*(one(body, signature) for _ in range(duplicates)))
        return time.perf_counter() - started, latencies, outcomes


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--duplicates", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="kyoso-webhook-bench-"))
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(data_dir),
        STRIPE_SECRET_KEY="sk_test_bench",  # noqa: S106 (never used: webhooks make no API calls)
        STRIPE_PUBLISHABLE_KEY="pk_test_bench", STRIPE_WEBHOOK_SECRET=SECRET,
        WORKER_IN_PROCESS="0",
    )  # fmt: skip
    env.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'kyoso.sqlite3'}")
    os.environ.update(env)  # the seed below runs in this process against the same database
    run_cli(["migrate"], env)
    intents = asyncio.run(seed(args.events))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers), "--log-level", "warning"]  # fmt: skip
    with (data_dir / "server.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(base_url, server, 30)
            floor = asyncio.run(healthz_rps(base_url, 500))
            elapsed, latencies, outcomes = asyncio.run(deliver(base_url, intents, args.duplicates))
        finally:
            stop_server(server)
    stored, wrong = asyncio.run(check(intents))
    total = args.events * args.duplicates
    latencies.sort()
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}, uvicorn workers: {args.workers}")
    print(f"{args.events} events x {args.duplicates} concurrent duplicate deliveries = {total} requests")
    print(f"throughput: {total / elapsed:,.0f} requests/s in {elapsed:.2f} s (/healthz here: {floor:,.0f}/s)")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.1f} ms"
    )
    print(f"answers: {dict(outcomes)}")
    double = outcomes["applied"] - args.events
    print(
        f"stored event ids: {stored} (expected {args.events}); payments not collected exactly once: {wrong}"
    )
    print(f"double effects: {max(double, 0) + wrong}")
    ok = outcomes["applied"] == args.events and outcomes["duplicate"] == total - args.events
    return 0 if ok and stored == args.events and wrong == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
