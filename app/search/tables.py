"""The search change log: written in the same transaction as the change, applied to the index after commit."""

from __future__ import annotations

from piccolo.columns import BigSerial, Timestamptz, Varchar
from piccolo.table import Table


class SearchChange(Table):
    """Something searchable changed: the indexer re-reads `kind:ref_id` from the database (or drops it)."""

    id = BigSerial(primary_key=True)
    kind = Varchar(length=30, help_text="challenge, question, output, adoption, submission ...")
    ref_id = Varchar(length=60, help_text="The changed row's id (as text).")
    changed_at = Timestamptz()
