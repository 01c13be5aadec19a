"""Count the SQL statements a block of code runs, to hold each page to a query budget."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.database.registry import current_engine


@dataclass
class QueryCount:
    """How many statements ran inside the `count_queries` block."""

    value: int = 0


@contextmanager
def count_queries() -> Iterator[QueryCount]:
    """Count statements through the engine's own query counter (every Piccolo query increments it)."""
    engine = current_engine()
    counted = QueryCount()
    start = engine.query_id
    try:
        yield counted
    finally:
        counted.value = engine.query_id - start


def assert_query_budget(counted: QueryCount, budget: int) -> None:
    """Fail when a page needs more queries than its budget (an N+1 creeping in)."""
    assert counted.value <= budget, f"{counted.value} queries, budget {budget}"
