"""Rendered pages kept until the data changes (or a minute passes, so ages stay right)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certkit.dashboard.models import Audit, Backend, Cell, Run


def data_version(session: Session) -> tuple:
    """Changes whenever a run, audit or back end is added (four index look-ups), in any process."""
    return (session.scalar(select(func.max(Run.id))), session.scalar(select(func.max(Audit.id))),
            session.scalar(select(func.max(Backend.id))),
            session.scalar(select(func.count()).select_from(Backend)),
            session.scalar(select(func.max(Cell.observed_at))))


class PageCache:
    """An LRU of page bodies keyed by (page, parameters, data version, minute)."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, session: Session, build: Callable[[], object]) -> object:
        full = (key, data_version(session), int(time.time() // 60))
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                return self._items[full]
        value = build()
        with self._lock:
            self._items[full] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
