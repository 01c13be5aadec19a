"""The command line, run as operators run it: `python -m app ...`."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support.commands import app_command


def kyoso(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run a command against a SQLite database in `data_dir`."""
    return app_command(
        *args, env={"DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir / 'kyoso.sqlite3'}"}
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A migrated data folder."""
    assert kyoso("migrate", data_dir=tmp_path).returncode == 0
    return tmp_path


def test_seed_demo_prints_credentials_and_runs_once(data_dir: Path) -> None:
    first = kyoso("seed-demo", "--if-empty", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert "kyoso-demo-2026" in first.stdout
    assert "admin@kyoso.example" in first.stdout
    assert "founder@mirai-mobility.example" in first.stdout
    second = kyoso("seed-demo", "--if-empty", data_dir=data_dir)
    assert "already has users" in second.stdout
    with sqlite3.connect(data_dir / "kyoso.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM bureau").fetchone()[0] == 3
        users = connection.execute("SELECT count(*) FROM kyoso_user").fetchone()[0]
    assert users == first.stdout.count("@")


def test_create_user_with_a_role(data_dir: Path) -> None:
    assert kyoso("seed-demo", data_dir=data_dir).returncode == 0
    created = kyoso(
        "create-user",
        "--email",
        "new.official@city.example",
        "--role",
        "official",
        "--bureau",
        "port-harbor",
        "--password",
        "harbour lights at dawn",
        data_dir=data_dir,
    )
    assert created.returncode == 0, created.stderr
    with sqlite3.connect(data_dir / "kyoso.sqlite3") as connection:
        role = connection.execute(
            "SELECT s.role, b.slug FROM staff_role s JOIN kyoso_user u ON u.id = s.user "
            "JOIN bureau b ON b.id = s.bureau WHERE u.email = 'new.official@city.example'"
        ).fetchone()
    assert role == ("official", "port-harbor")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "official", "--password", "harbour lights at dawn"], "needs --bureau"),
        (["--role", "official", "--bureau", "nowhere", "--password", "harbour lights at dawn"], "No bureau"),
        (["--role", "admin", "--password", "password1234"], "Password refused"),
    ],
)
def test_create_user_refuses_bad_input(data_dir: Path, args: list[str], message: str) -> None:
    result = kyoso("create-user", "--email", "x@city.example", *args, data_dir=data_dir)
    assert result.returncode == 2
    assert message in result.stderr


def test_check_reports_pending_migrations_then_passes(tmp_path: Path) -> None:
    before = kyoso("check", data_dir=tmp_path)
    assert before.returncode == 1
    assert "not applied" in before.stdout
    assert kyoso("migrate", data_dir=tmp_path).returncode == 0
    after = kyoso("check", data_dir=tmp_path)
    assert after.returncode == 0, after.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_check_names_what_is_wrong_with_an_identity_provider(data_dir: Path) -> None:
    """A staff provider without allowed domains, and HS256 offered as an algorithm: both named, exit 1."""
    env = {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'kyoso.sqlite3'}",
        "OIDC_PROVIDERS": "city",
        "OIDC_CITY_ISSUER": "https://id.city.example",
        "OIDC_CITY_CLIENT_ID": "kyoso",
        "OIDC_CITY_ROLE": "official",
        "OIDC_CITY_ALGORITHMS": "RS256 HS256",
    }

    result = app_command("check", env=env)

    assert result.returncode == 1
    assert "OIDC_CITY_ROLE=official needs" in result.stdout
    assert "OIDC_CITY_ALGORITHMS may only list" in result.stdout
