"""Key-value stores for sessions and rate limits: files under DATA_DIR by default, Redis when configured."""

from __future__ import annotations

from anyio import Path as AnyioPath
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry

from app.settings import Settings


class LocalFileStore(FileStore):
    """A FileStore that reads its small files (sessions, counters) on the event loop.

    Reading a ~100-byte file from the page cache takes microseconds; Litestar's FileStore sends each read
    through a worker thread, and that round trip was a measurable part of every signed-in request.
    """

    @staticmethod
    async def _load_from_path(path: AnyioPath) -> StorageObject | None:
        try:
            with open(str(path), "rb") as handle:  # noqa: ASYNC230 (tiny local file; see the class docstring)
                return StorageObject.from_bytes(handle.read())
        except FileNotFoundError:
            return None


def store_registry(settings: Settings) -> StoreRegistry:
    """One namespace per store name, shared by every worker process."""
    if settings.redis_url:
        root = RedisStore.with_client(url=settings.redis_url, namespace="kyoso")

        def redis_store(name: str) -> Store:
            return root.with_namespace(name)

        return StoreRegistry(default_factory=redis_store)

    stores_dir = settings.data_dir / "stores"
    stores_dir.mkdir(parents=True, exist_ok=True)

    def file_store(name: str) -> Store:
        return LocalFileStore(stores_dir / name, create_directories=True)

    return StoreRegistry(default_factory=file_store)
