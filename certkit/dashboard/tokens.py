"""Bearer tokens of CI accounts: stored as SHA-256 digests, bound to profile-name globs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from fnmatch import fnmatchcase

from sqlalchemy import select
from sqlalchemy.orm import Session

from certkit.dashboard.db import utcnow
from certkit.dashboard.models import Token
from certkit.errors import CertkitError

TOKEN_PREFIX = "ckd_"


@dataclass(frozen=True)
class Caller:
    """Who a valid token belongs to and what it may publish."""

    token_pk: int
    account: str
    profiles: tuple[str, ...]
    admin: bool

    def may_publish(self, profile: str) -> bool:
        """Whether a profile name matches one of the token's globs (case-sensitive)."""
        return self.admin or any(fnmatchcase(profile, glob) for glob in self.profiles)


def digest(token: str) -> str:
    """The stored form of a token (tokens are 256 random bits, so a plain hash suffices)."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def create_token(session: Session, account: str, profiles: list[str], admin: bool = False) -> str:
    """Store a new token's digest and return the token itself (shown once, never stored)."""
    account = account.strip()
    if not account:
        raise CertkitError("dashboard token create: --account must not be empty")
    if not profiles and not admin:
        raise CertkitError("dashboard token create: give --profiles GLOB (or --admin)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(Token(account=account, digest=digest(token), prefix=token[:10],
                      profiles=list(profiles), admin=admin, created_at=utcnow()))
    session.commit()
    return token


def authenticate(session: Session, header: str | None) -> Caller | None:
    """The caller for an `Authorization: Bearer ...` header, or None when missing/unknown/revoked."""
    if not header or not header.startswith("Bearer "):
        return None
    wanted = digest(header[len("Bearer "):].strip())
    row = session.scalar(select(Token).where(Token.digest == wanted))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.digest, wanted):
        return None
    return Caller(row.id, row.account, tuple(row.profiles), row.admin)


def list_tokens(session: Session) -> list[Token]:
    """Every token, newest first (digests only)."""
    return list(session.scalars(select(Token).order_by(Token.id.desc())))


def revoke_token(session: Session, which: str) -> int:
    """Revoke by token id, by the token's shown prefix, or every token of an account; returns count."""
    rows = [t for t in list_tokens(session) if t.revoked_at is None and
            (str(t.id) == which or t.prefix == which or t.account == which)]
    for row in rows:
        row.revoked_at = utcnow()
    session.commit()
    if not rows:
        raise CertkitError(f"dashboard token revoke: no active token matches {which!r} "
                           "(give an id, a prefix or an account from `token list`)")
    return len(rows)
