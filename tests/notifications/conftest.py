"""Fixtures of the notification tests: a real SMTP server, and settings that send to it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from app.settings import Settings
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port of 127.0.0.1, recording every message; stopped after the test."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """The app's settings with SMTP_URL pointing at `smtp_server`."""
    return dataclasses.replace(settings, smtp_url=smtp_server.url)
