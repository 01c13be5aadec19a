"""Notifications: an email outbox written in the same transaction as its cause, and in-app messages."""
