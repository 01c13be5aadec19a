"""Database engines, the one engine the app uses, and migrations."""
