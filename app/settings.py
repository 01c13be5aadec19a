"""One frozen settings object, read from the environment once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"


# Asymmetric signatures only: `none` and HS* (a shared secret a public JWKS cannot check) are never accepted.
ID_TOKEN_ALGORITHMS = (
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA"),
)
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
FIRST_SIGN_IN_ROLES = ("member", "official", "judge")


@dataclass(frozen=True)
class OIDCProvider:
    """An OpenID Connect identity provider offered on the sign-in page."""

    id: str
    issuer: str
    client_id: str
    client_secret: str = ""
    name_ja: str = ""
    name_en: str = ""
    # client_secret_basic, client_secret_post, or private_key_jwt (signed with `private_key`, a PEM or JWK).
    auth_method: str = "client_secret_basic"
    private_key: str = ""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    # What a first sign-in creates: member (a startup person, who then registers or joins a company),
    # official (of `bureau`; staff providers only, and only for an allowed email domain) or judge.
    role: str = "member"
    staff: bool = False
    bureau: str = ""
    # Lower-cased email domains accepted from this provider; empty accepts any (not allowed for staff).
    allowed_domains: tuple[str, ...] = ()
    use_userinfo: bool = False
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")

    def display_name(self, locale: str) -> str:
        """The button label in `locale` (ja or en)."""
        name = self.name_ja if locale == "ja" else self.name_en
        return name or self.name_en or self.name_ja or self.id

    def problems(self) -> list[str]:
        """What is wrong with this configuration (empty when it can be used)."""
        prefix = f"OIDC_{self.id.upper()}_"
        found = []
        if not self.issuer or not self.client_id:
            found.append(f"OIDC provider {self.id!r} needs {prefix}ISSUER and {prefix}CLIENT_ID.")
        if self.auth_method not in CLIENT_AUTH_METHODS:
            found.append(f"{prefix}AUTH_METHOD must be one of {', '.join(CLIENT_AUTH_METHODS)}.")
        if self.auth_method == "private_key_jwt" and not self.private_key:
            found.append(f"{prefix}PRIVATE_KEY_FILE is needed for private_key_jwt.")
        if self.role not in FIRST_SIGN_IN_ROLES:
            found.append(f"{prefix}ROLE must be one of {', '.join(FIRST_SIGN_IN_ROLES)}.")
        if self.role == "official" and not (self.staff and self.bureau and self.allowed_domains):
            needed = f"{prefix}STAFF=1, {prefix}BUREAU and {prefix}ALLOWED_DOMAINS"
            found.append(f"{prefix}ROLE=official needs {needed}.")
        if "openid" not in self.scopes:
            found.append(f"{prefix}SCOPES must include openid.")
        if not self.algorithms or any(alg not in ID_TOKEN_ALGORITHMS for alg in self.algorithms):
            found.append(f"{prefix}ALGORITHMS may only list {', '.join(ID_TOKEN_ALGORITHMS)}.")
        return found


DEFAULT_RECEIPT_OPERATOR = "Kyoso (Tokyo Metropolitan Government)"


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
    # Who issues the receipts (領収書) of card payments; the registration number is the 適格請求書発行事業者
    # 登録番号 (T + 13 digits) of the invoice system, shown only when set.
    receipt_operator_name: str = DEFAULT_RECEIPT_OPERATOR
    receipt_operator_address: str = ""
    receipt_registration_number: str = ""
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
            receipt_operator_name=env.get("RECEIPT_OPERATOR_NAME") or DEFAULT_RECEIPT_OPERATOR,
            receipt_operator_address=env.get("RECEIPT_OPERATOR_ADDRESS") or "",
            receipt_registration_number=env.get("RECEIPT_REGISTRATION_NUMBER") or "",
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
    """Providers named in OIDC_PROVIDERS=a,b with OIDC_A_ISSUER, OIDC_A_CLIENT_ID, ... per id (see README)."""
    providers = []
    for provider_id in filter(None, (p.strip() for p in env.get("OIDC_PROVIDERS", "").split(","))):
        prefix = f"OIDC_{provider_id.upper()}_"
        key_file = env.get(prefix + "PRIVATE_KEY_FILE", "")
        providers.append(
            OIDCProvider(
                id=provider_id,
                issuer=env.get(prefix + "ISSUER", ""),
                client_id=env.get(prefix + "CLIENT_ID", ""),
                client_secret=env.get(prefix + "CLIENT_SECRET", ""),
                name_ja=env.get(prefix + "NAME_JA", provider_id),
                name_en=env.get(prefix + "NAME_EN", provider_id),
                auth_method=env.get(prefix + "AUTH_METHOD", "")
                or ("private_key_jwt" if key_file else "client_secret_basic"),
                private_key=Path(key_file).read_text(encoding="utf-8") if key_file else "",
                scopes=_words(env.get(prefix + "SCOPES", "")) or ("openid", "email", "profile"),
                role=env.get(prefix + "ROLE", "member"),
                staff=_flag(env.get(prefix + "STAFF", "")),
                bureau=env.get(prefix + "BUREAU", ""),
                allowed_domains=tuple(d.lower() for d in _words(env.get(prefix + "ALLOWED_DOMAINS", ""))),
                use_userinfo=_flag(env.get(prefix + "USERINFO", "")),
                algorithms=_words(env.get(prefix + "ALGORITHMS", "")) or ("RS256", "PS256", "ES256"),
            )
        )
    return tuple(providers)


def _words(value: str) -> tuple[str, ...]:
    """Items of a list written with commas and/or spaces."""
    return tuple(word for word in value.replace(",", " ").split() if word)


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes"}
