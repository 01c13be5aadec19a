"""Merge new Japanese translations into the catalogues and make English msgstr equal to its msgid.

    .venv/bin/python scripts/fill_translations.py translations.py   # a file defining JA = {msgid: 訳}

Run after `make i18n` has added new msgids; entries it fills lose their fuzzy flag. Plural msgids are
keyed by their singular; Japanese has one plural form.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogue_path(locale: str) -> Path:
    """The source catalogue of `locale`."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def fill(locale: str, translate: dict[str, str]) -> list[str]:
    """Fill missing or fuzzy entries; returns the msgids still untranslated."""
    path = catalogue_path(locale)
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        empty = not message.string or (isinstance(message.string, tuple) and not all(message.string))
        if not (empty or message.fuzzy):
            continue
        if locale == "en":
            message.string = message.id
        elif singular in translate:
            text = translate[singular]
            message.string = (text,) if isinstance(message.id, tuple) else text
        else:
            missing.append(singular)
            continue
        message.flags.discard("fuzzy")
    catalogue.fuzzy = False  # a fuzzy header makes gettext ignore the whole catalogue
    with path.open("wb") as handle:
        write_po(handle, catalogue, sort_output=True, no_location=True, width=110)
    return missing


def main(argv: list[str]) -> int:
    """Fill ja from the given file, en from the msgids; print what is still missing."""
    translate: dict[str, str] = runpy.run_path(argv[0])["JA"] if argv else {}
    missing = fill("ja", translate)
    fill("en", {})
    for msgid in missing:
        print(f"untranslated (ja): {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
