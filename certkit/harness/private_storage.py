"""Manila's DriverPrivateData API over an in-memory store (what the share manager backs with its DB)."""

from __future__ import annotations

import threading
from typing import Any

from certkit.manila_env import prepare_manila


def make_private_storage() -> Any:
    """A real `manila.share.drivers_private_data.DriverPrivateData` over an in-memory store.

    Keep the returned object to build a second driver instance over the same private data
    (the restart checks do).
    """
    prepare_manila()
    from manila.share import drivers_private_data

    class InMemoryStorage(drivers_private_data.StorageDriver):
        """Entity id -> {key: value}; values are stored as strings, as Manila's DB does."""

        def __init__(self) -> None:
            super().__init__(context=None, backend_host="certkit")
            self._data: dict[str, dict[str, str]] = {}
            self._lock = threading.Lock()

        def get(self, entity_id: str, key: Any = None, default: Any = None) -> Any:
            with self._lock:
                entry = dict(self._data.get(entity_id, {}))
            if key is None:
                return entry
            if isinstance(key, list):
                return {k: entry[k] for k in key if k in entry}
            return entry.get(key, default)

        def update(self, entity_id: str, details: dict[str, Any],
                   delete_existing: bool = False) -> None:
            with self._lock:
                entry = {} if delete_existing else dict(self._data.get(entity_id, {}))
                entry.update({str(k): str(v) for k, v in details.items()})
                self._data[entity_id] = entry

        def delete(self, entity_id: str, key: Any = None) -> None:
            with self._lock:
                if key is None:
                    self._data.pop(entity_id, None)
                    return
                keys = key if isinstance(key, list) else [key]
                entry = self._data.get(entity_id, {})
                for k in keys:
                    entry.pop(k, None)

        def entities(self) -> list[str]:
            """Entity ids with data (for checks that look for what a driver left behind)."""
            with self._lock:
                return [k for k, v in self._data.items() if v]

    return drivers_private_data.DriverPrivateData(storage=InMemoryStorage())
