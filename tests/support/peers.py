"""Required peers: skipped when missing on a developer's machine, a failure in CI (CI=true)."""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"


def in_ci() -> bool:
    """Whether this run is CI, where nothing required may be skipped."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_peer(name: str, reason: str) -> None:
    """Fail in CI, skip elsewhere."""
    message = f"{name} is required but unavailable: {reason}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def require_peer(name: str, url: str) -> None:
    """Check a TCP peer (e.g. PostgreSQL) answers at `url`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=3):
            pass
    except OSError as error:
        missing_peer(name, f"{url}: {error}")


def require_chromium() -> str:
    """The path of Debian's Chromium."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing_peer("Chromium", "install it with `apt-get install chromium`")
    return CHROMIUM if os.path.exists(CHROMIUM) else str(shutil.which("chromium"))
