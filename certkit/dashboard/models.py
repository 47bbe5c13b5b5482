"""The dashboard's tables (SQLAlchemy 2 declarative); Alembic migrations create them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, SmallInteger,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

OUTCOMES: tuple[str, ...] = ("passed", "failed", "skipped", "error")
"""Check outcomes, stored as their index (a SMALLINT keeps 4 million results small)."""


class Base(DeclarativeBase):
    """Declarative base of every dashboard table."""


class Backend(Base):
    """A back end: a certkit profile, or an in-tree driver the audit found with no profile."""

    __tablename__ = "backends"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    vendor: Mapped[str] = mapped_column(Text, default="")
    driver: Mapped[str] = mapped_column(Text, default="", index=True)
    protocols: Mapped[list] = mapped_column(JSON, default=list)
    maintainers: Mapped[list] = mapped_column(JSON, default=list)
    ci_account: Mapped[str] = mapped_column(Text, default="")
    claimed: Mapped[list] = mapped_column(JSON, default=list)
    """Features the profile claims, the listed ones and those its access_types, access_levels and
    driver_handles_share_servers keys imply (empty for audit-only back ends)."""
    claims: Mapped[dict] = mapped_column(JSON, default=dict)
    """The profile's claims as written: access_types, access_levels, driver_handles_share_servers."""
    has_profile: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Token(Base):
    """A CI account's bearer token: only its SHA-256 is stored."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(Text, index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The first characters of the token, to tell tokens apart in `token list`."""
    profiles: Mapped[list] = mapped_column(JSON, default=list)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Run(Base):
    """One accepted certkit report (a certification run of one profile)."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("backend_id", "run_id"),
                      Index("ix_runs_backend_started", "backend_id", "started_at"),
                      Index("ix_runs_account_started", "account", "started_at"),
                      Index("ix_runs_backend_received", "backend_id", "received_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    backend_id: Mapped[int] = mapped_column(ForeignKey("backends.id"))
    run_id: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(Text, default="")
    release: Mapped[str] = mapped_column(String(40), index=True)
    manila_version: Mapped[str] = mapped_column(Text)
    manila_change: Mapped[str] = mapped_column(Text, default="")
    driver_version: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration: Mapped[float] = mapped_column(Float)
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    header: Mapped[dict] = mapped_column(JSON, deferred=True)
    """The report without its checks (features, reasons, warnings, leaks, timing...)."""


class CheckDef(Base):
    """A check, keyed by its permanent id (+ variant) as the report names it."""

    __tablename__ = "check_defs"
    __table_args__ = (UniqueConstraint("check_id", "variant"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(Text)
    variant: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(Text)
    suite: Mapped[str] = mapped_column(Text)
    feature: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(20), default="")


class Result(Base):
    """One check's outcome in one run."""

    __tablename__ = "results"
    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    check_pk: Mapped[int] = mapped_column(ForeignKey("check_defs.id"), primary_key=True)
    outcome: Mapped[int] = mapped_column(SmallInteger)
    duration: Mapped[float] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)


class Cell(Base):
    """The matrix: what the latest runs say of one back end's feature in one release."""

    __tablename__ = "cells"
    __table_args__ = (Index("ix_cells_observed_at", "observed_at"),)
    backend_id: Mapped[int] = mapped_column(ForeignKey("backends.id"), primary_key=True)
    release: Mapped[str] = mapped_column(String(40), primary_key=True)
    feature: Mapped[str] = mapped_column(String(80), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    """verified, failed or unverified (claimed, not proven), from the latest run."""
    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the speaking run started (as its report says)."""
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the server received the speaking run: the newest received run speaks, ages count from
    here."""
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    """The failing check's name, or why the claim is unverified."""


class Audit(Base):
    """A static audit (`certkit audit --in-tree --json`) of one Manila release."""

    __tablename__ = "audits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release: Mapped[str] = mapped_column(String(40), index=True)
    manila_version: Mapped[str] = mapped_column(Text)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditDriver(Base):
    """One driver class in an audit: its feature statuses and findings."""

    __tablename__ = "audit_drivers"
    __table_args__ = (UniqueConstraint("audit_id", "driver"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    driver: Mapped[str] = mapped_column(Text, index=True)
    features: Mapped[dict] = mapped_column(JSON)
    findings: Mapped[list] = mapped_column(JSON)


class CiVote(Base):
    """A third-party CI's vote on a Gerrit change, as the Gerrit listener saw it."""

    __tablename__ = "ci_votes"
    __table_args__ = (UniqueConstraint("account", "change", "patchset", "seen_at"),
                      Index("ix_ci_votes_account_seen", "account", "seen_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    account: Mapped[str] = mapped_column(Text)
    project: Mapped[str] = mapped_column(Text)
    change: Mapped[int] = mapped_column(Integer)
    patchset: Mapped[int] = mapped_column(Integer)
    branch: Mapped[str] = mapped_column(Text, default="")
    verified: Mapped[int] = mapped_column(SmallInteger)
    jobs: Mapped[list] = mapped_column(JSON, default=list)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
