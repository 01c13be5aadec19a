"""Fixtures of the notification tests: settings that send to the real SMTP server (tests/conftest.py)."""

from __future__ import annotations

import dataclasses

import pytest

from app.settings import Settings
from tests.support.smtp import SmtpServer


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """The app's settings with SMTP_URL pointing at `smtp_server`."""
    return dataclasses.replace(settings, smtp_url=smtp_server.url)
