"""Fixtures of the dashboard tests: databases, an in-process client, tokens."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from certkit.dashboard.app import Settings, create_app
from certkit.dashboard.db import open_database
from certkit.dashboard.tokens import create_token
from tests.dashboard.services import postgres_server


@pytest.fixture(scope="session")
def postgres_url():
    """One PostgreSQL server for the session (each test makes its own database on it)."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def sessions(tmp_path):
    return open_database(str(tmp_path / "dash.sqlite"))


@pytest.fixture
def make_client(sessions):
    def make(**settings) -> TestClient:
        return TestClient(create_app(sessions, Settings(**settings)))
    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def token(sessions):
    """A token of account acme-ci bound to acme-* profiles."""
    with sessions() as session:
        return create_token(session, "acme-ci", ["acme-*"])


@pytest.fixture
def admin_token(sessions):
    with sessions() as session:
        return create_token(session, "gerrit-listener", [], admin=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_sample() -> dict:
    """A small real `certkit audit --in-tree --json` output in the format the in-tree schema
    describes (format 1: one row per class; format 2: one row per back-end configuration)."""
    import json
    from pathlib import Path

    from certkit.schema_check import load_schema

    version = load_schema("audit.schema.json")["properties"]["format"]["const"]
    return json.loads((Path(__file__).parent / f"audit_sample_v{version}.json").read_text())
