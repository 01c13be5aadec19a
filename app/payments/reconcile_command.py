"""`python -m app reconcile-payments`: print what disagrees with Stripe, fixed or left for a person."""

from __future__ import annotations

import argparse
import sys

from app.clock import utcnow
from app.payments.gateway import GatewayUnavailable
from app.payments.reconcile import reconcile_payments
from app.payments.records import open_gateway
from app.settings import Settings


async def reconcile_payments_command(_: argparse.Namespace) -> int:
    """List local payments that disagree with Stripe, fix what can be fixed; exit 1 if any is left."""
    try:
        async with open_gateway(Settings.from_env()) as gateway:
            report = await reconcile_payments(gateway, now=utcnow())
    except GatewayUnavailable as error:
        print(f"Stripe is not available: {error}", file=sys.stderr)
        return 2
    for line in report.fixed:
        print(f"fixed: {line}")
    for line in report.unresolved:
        print(f"unresolved: {line}")
    print(f"{report.checked} payments checked, {len(report.fixed)} fixed, {len(report.unresolved)} left.")
    return 1 if report.unresolved else 0
