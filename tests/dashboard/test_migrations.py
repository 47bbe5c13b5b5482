"""The Alembic migrations build exactly the schema the models describe (indexes included)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from certkit.dashboard.db import open_database
from certkit.dashboard.models import Base


def test_migrated_schema_matches_the_models(tmp_path):
    sessions = open_database(str(tmp_path / "m.sqlite"))
    with sessions() as session:
        diff = compare_metadata(MigrationContext.configure(session.connection()), Base.metadata)
        assert diff == [], diff
        indexes = {name for (name,) in session.connection().exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cells'")}
    assert "ix_cells_observed_at" in indexes  # serves max(observed_at) of the page cache
