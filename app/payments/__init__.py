"""Cashless payments with Stripe: pitch-day tickets, entry fees, sponsorship, webhooks, refunds."""
