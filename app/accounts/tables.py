"""Tables of accounts: users, identities, bureaus, staff roles, organizations, memberships, invitations."""

from __future__ import annotations

from piccolo.columns import Boolean, Date, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

# Nothing a person did may vanish by cascade: every foreign key here is RESTRICT.
KEEP = OnDelete.restrict


class User(Table, tablename="kyoso_user"):
    """A person who signs in."""

    id = Serial(primary_key=True)
    email = Varchar(length=254, unique=True, index=True, help_text="Lower-cased sign-in address.")
    display_name = Varchar(length=100, help_text="Shown to others.")
    locale = Varchar(length=5, default="ja", help_text="Language of the UI and of messages (ja, en).")
    password_hash = Text(
        null=True, default=None, help_text="argon2id hash; empty for identity-provider users."
    )
    is_active = Boolean(default=True, help_text="Inactive users cannot sign in.")
    created_at = Timestamptz(help_text="When the account was created (UTC).")
    email_verified_at = Timestamptz(
        null=True, default=None, help_text="When the user proved they read this address (UTC)."
    )


class Bureau(Table):
    """A bureau (局) of the city that publishes challenges."""

    id = Serial(primary_key=True)
    slug = Varchar(length=60, unique=True, help_text="Short name used in addresses.")
    name_ja = Varchar(length=100, help_text="Japanese name, e.g. デジタルサービス局.")
    name_en = Varchar(length=150, help_text="English name.")
    created_at = Timestamptz()


class StaffRole(Table):
    """A platform role: admin (whole site), official (of one bureau), or judge (may be invited to rounds)."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    role = Varchar(length=20, help_text="admin, official or judge.")
    bureau = ForeignKey(references=Bureau, on_delete=KEEP, null=True, help_text="Set for officials only.")
    granted_at = Timestamptz()


class Organization(Table):
    """A startup (or any company) that applies to challenges."""

    id = Serial(primary_key=True)
    name_ja = Varchar(length=200, help_text="Registered name in Japanese.")
    name_en = Varchar(length=200, help_text="Name in English, if any.")
    corporate_number = Varchar(length=13, unique=True, help_text="法人番号: 13 digits with a check digit.")
    founded_on = Date(null=True, default=None, help_text="Date of incorporation.")
    website = Varchar(length=300, help_text="Public web site.")
    profile = Text(help_text="What the organization does.")
    created_at = Timestamptz()


class Membership(Table):
    """A user's place in an organization: owner (manages members) or member."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    organization = ForeignKey(references=Organization, on_delete=KEEP, null=False, index=True)
    role = Varchar(length=10, help_text="owner or member.")
    joined_at = Timestamptz()


class Invitation(Table):
    """An invitation to join an organization, sent as a signed link that expires."""

    id = Serial(primary_key=True)
    organization = ForeignKey(references=Organization, on_delete=KEEP, null=False, index=True)
    email = Varchar(length=254, help_text="Who was invited (lower-cased).")
    role = Varchar(length=10, help_text="owner or member.")
    invited_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(references=User, on_delete=KEEP, null=True)


class Identity(Table):
    """A person's account at an OpenID Connect provider (issuer + subject), linked to exactly one user."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    provider = Varchar(length=40, help_text="Provider id from the configuration (OIDC_PROVIDERS).")
    issuer = Varchar(length=300, help_text="The provider's exact issuer URL (the ID token's iss).")
    subject = Varchar(length=255, help_text="The provider's stable id of the person (sub).")
    one_per_subject = Varchar(
        length=64, unique=True, help_text="sha256 of issuer and subject: one user per identity."
    )
    email = Varchar(length=254, help_text="Email address the provider reported at the last sign-in.")
    linked_at = Timestamptz(help_text="When the identity was linked (UTC).")
    last_used_at = Timestamptz(null=True, default=None, help_text="Last sign-in with it (UTC).")
