"""Key-value stores for sessions and rate limits: files under DATA_DIR by default, Redis when configured."""

from __future__ import annotations

from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry

from app.settings import Settings


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
        return FileStore(stores_dir / name, create_directories=True)

    return StoreRegistry(default_factory=file_store)
