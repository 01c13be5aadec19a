"""Invalid input found by a service, reported per field so a form can show each error beside its field."""

from __future__ import annotations


class InvalidInput(Exception):
    """One or more fields are invalid; `errors` maps a field name to a message in the reader's language."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors
