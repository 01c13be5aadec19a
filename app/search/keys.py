"""Document keys ("<kind>:<id>") and change refs, as the feature sources read them."""

from __future__ import annotations

from collections.abc import Collection


def row_ids(refs: Collection[str]) -> list[int]:
    """The integer row ids among change refs (anything else names no row)."""
    return sorted({int(ref) for ref in refs if ref.isdecimal()})


def key_ids(keys: Collection[str], kind: str) -> dict[int, str]:
    """Row id -> key, for the keys of this kind."""
    prefix = f"{kind}:"
    found = {}
    for key in keys:
        ref = key.removeprefix(prefix)
        if key.startswith(prefix) and ref.isdecimal():
            found[int(ref)] = key
    return found


def paragraphs(*parts: str | None) -> str:
    """The non-empty parts, one paragraph each (the body text of a document)."""
    return "\n\n".join(part for part in parts if part)
