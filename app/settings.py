"""One frozen settings object, read from the environment once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"


@dataclass(frozen=True)
class OIDCProvider:
    """An OpenID Connect identity provider offered on the sign-in page."""

    id: str
    issuer: str
    client_id: str
    client_secret: str = ""
    name_ja: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    database_url: str
    secret_key: str
    data_dir: Path
    base_url: str = "http://127.0.0.1:8000"
    redis_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "Kyoso <no-reply@kyoso.example>"
    # The outbox worker and scheduler run inside the web process unless `python -m app worker` runs them.
    worker_in_process: bool = True
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    oidc_providers: tuple[OIDCProvider, ...] = field(default_factory=tuple)
    debug: bool = False
    # Sign-in attempts per client address per 5 minutes (browser tests drive many people from one address).
    sign_in_attempts: int = 10
    # Forms are small; uploads (a later feature) set their own limit per route.
    max_body_bytes: int = 1_000_000

    @property
    def is_https(self) -> bool:
        """Whether the public address is https (Secure cookies, HSTS)."""
        return urlsplit(self.base_url).scheme == "https"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read settings from `environ` (default: the process environment)."""
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("DATA_DIR") or DEFAULT_DATA_DIR).resolve()
        return cls(
            database_url=env.get("DATABASE_URL") or default_database_url(data_dir),
            secret_key=env.get("SECRET_KEY") or stored_secret_key(data_dir),
            data_dir=data_dir,
            base_url=(env.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            redis_url=env.get("REDIS_URL") or None,
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or "Kyoso <no-reply@kyoso.example>",
            worker_in_process=env.get("WORKER_IN_PROCESS", "1").lower() not in {"0", "false", "no"},
            stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
            stripe_publishable_key=env.get("STRIPE_PUBLISHABLE_KEY") or None,
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            oidc_providers=parse_oidc_providers(env),
            debug=env.get("DEBUG", "").lower() in {"1", "true", "yes"},
            sign_in_attempts=int(env.get("SIGN_IN_ATTEMPTS") or 10),
        )


def default_database_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file under the data folder."""
    return f"sqlite:///{data_dir / 'kyoso.sqlite3'}"


def stored_secret_key(data_dir: Path) -> str:
    """Read `var/secret_key`, creating it with a random key on first run."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def parse_oidc_providers(env: dict[str, str]) -> tuple[OIDCProvider, ...]:
    """Providers named in OIDC_PROVIDERS=a,b with OIDC_A_ISSUER, OIDC_A_CLIENT_ID, ... per id."""
    providers = []
    for provider_id in filter(None, (p.strip() for p in env.get("OIDC_PROVIDERS", "").split(","))):
        prefix = f"OIDC_{provider_id.upper()}_"
        providers.append(
            OIDCProvider(
                id=provider_id,
                issuer=env.get(prefix + "ISSUER", ""),
                client_id=env.get(prefix + "CLIENT_ID", ""),
                client_secret=env.get(prefix + "CLIENT_SECRET", ""),
                name_ja=env.get(prefix + "NAME_JA", provider_id),
                name_en=env.get(prefix + "NAME_EN", provider_id),
            )
        )
    return tuple(providers)
