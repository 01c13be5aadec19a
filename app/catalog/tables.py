"""Tables of the catalogue: collaborations, outputs, municipalities and their staff, adoptions, problems."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from app.accounts.tables import Organization, User
from app.challenges.tables import Challenge
from app.submissions.tables import Submission

# Reuse records are public evidence of what a city's money produced: nothing cascades away.
KEEP = OnDelete.restrict


class Collaboration(Table):
    """What came of a winning application: 協議中 → PoC実施中 → 契約 → 完了 / 中止, shown publicly."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, unique=True)
    status = Varchar(length=20, default="negotiating", help_text="negotiating, poc, contract, done, stopped.")
    started_at = Timestamptz()
    updated_at = Timestamptz()


class CollaborationStep(Table):
    """One public progress note of a collaboration (a step reached, with its date)."""

    id = Serial(primary_key=True)
    collaboration = ForeignKey(references=Collaboration, on_delete=KEEP, null=False, index=True)
    status = Varchar(length=20)
    happened_on = Date()
    note_ja = Text()
    note_en = Text()
    recorded_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    recorded_at = Timestamptz()


class Output(Table):
    """A catalogue entry: software a collaboration (or anyone) produced that other cities can reuse."""

    id = Serial(primary_key=True)
    slug = Varchar(length=80, unique=True)
    name = Varchar(length=200, help_text="The software's name (as in publiccode.yml).")
    short_description_ja = Varchar(length=300)
    short_description_en = Varchar(length=300)
    long_description_ja = Text(help_text="Markdown.")
    long_description_en = Text()
    repository_url = Varchar(length=500)
    landing_url = Varchar(length=500)
    license = Varchar(length=200, help_text="SPDX expression, validated with license-expression.")
    license_is_open = Boolean(default=False, help_text="Every licence in the expression is OSI/FSF-approved.")
    development_status = Varchar(length=20, default="development", help_text="concept … obsolete.")
    software_type = Varchar(length=40, default="standalone/web")
    categories = JSON(default="[]")
    platforms = JSON(default="[]")
    maintainer_organization = ForeignKey(references=Organization, on_delete=KEEP, null=True, index=True)
    maintainer_name = Varchar(length=200, help_text="Maintainer when not an organization on the platform.")
    contacts = JSON(default="[]", help_text='[{"name": ..., "email": ...}].')
    screenshots = JSON(default="[]", help_text="Image URLs.")
    source_challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=True, index=True)
    collaboration = ForeignKey(references=Collaboration, on_delete=KEEP, null=True)
    release_date = Date(null=True, default=None, help_text="Date of the last release.")
    version = Varchar(length=40, help_text="Latest version.")
    publiccode_extra = JSON(default="{}", help_text="publiccode.yml keys kept as they came (round trip).")
    repository_stars = Integer(null=True, default=None, help_text="Activity figures entered or imported.")
    repository_commits_90d = Integer(null=True, default=None)
    status = Varchar(length=20, default="draft", index=True, help_text="draft, in_review or published.")
    created_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    approved_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None, index=True)
    adoption_count = Integer(default=0, index=True, help_text="Confirmed adoptions (sorts by reuse).")


class Municipality(Table):
    """A local government, keyed by its 全国地方公共団体コード (6 digits, the last a check digit)."""

    id = Serial(primary_key=True)
    code = Varchar(length=6, unique=True)
    prefecture = Varchar(length=10)
    name = Varchar(length=60, help_text="Empty for a prefecture's own row.")
    prefecture_kana = Varchar(length=40)
    name_kana = Varchar(length=80)


class MunicipalityMember(Table):
    """A user who acts for a municipality (its official): granted by an admin."""

    id = Serial(primary_key=True)
    municipality = ForeignKey(references=Municipality, on_delete=KEEP, null=False, index=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    granted_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    granted_at = Timestamptz()


class Adoption(Table):
    """A municipality adopted, is evaluating, or stopped using an output; confirmed by its maintainer."""

    id = Serial(primary_key=True)
    output = ForeignKey(references=Output, on_delete=KEEP, null=False, index=True)
    municipality = ForeignKey(references=Municipality, on_delete=KEEP, null=False, index=True)
    status = Varchar(length=20, help_text="adopted, evaluating or stopped.")
    deployment_url = Varchar(length=500)
    fork_url = Varchar(length=500, help_text="Their fork's repository (isBasedOn), if any.")
    recorded_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    recorded_at = Timestamptz()
    updated_at = Timestamptz()
    confirmed_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    confirmed_at = Timestamptz(null=True, default=None)
    one_per_pair = Varchar(length=40, unique=True, help_text="output:municipality — one record per pair.")


class AdoptionEvent(Table):
    """A change of an adoption's status (the timeline on the output page)."""

    id = Serial(primary_key=True)
    adoption = ForeignKey(references=Adoption, on_delete=KEEP, null=False, index=True)
    status = Varchar(length=20)
    happened_at = Timestamptz()
    actor = ForeignKey(references=User, on_delete=KEEP, null=True)


class SharedProblem(Table):
    """'同じ課題があります': a municipality has the same problem as a published challenge."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    municipality = ForeignKey(references=Municipality, on_delete=KEEP, null=False)
    note = Text()
    marked_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    marked_at = Timestamptz()
    one_per_pair = Varchar(length=40, unique=True, help_text="challenge:municipality.")
