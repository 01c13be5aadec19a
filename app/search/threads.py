"""The few threads that run Sudachi and Whoosh for searches and index writes.

A Sudachi tokenizer must not be shared by threads, so every thread that analyses text loads a dictionary of
its own (about 80 MB and 0.2 s of CPU; analysis.py). On the default thread pools every pooled thread that
ever ran a search loaded one: under load (bench/load.py) the process grew to 4 GB and the search threads
fought every other request for the GIL. Two threads serve all searches and index writes of a process.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

SEARCH_THREADS = 2
_executor = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="search")

T = TypeVar("T")


async def in_search_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking search or index work on one of the search threads (with this task's context)."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, function, *args)
    return await asyncio.get_running_loop().run_in_executor(_executor, call)
