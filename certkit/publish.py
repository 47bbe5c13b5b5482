"""Publish reports (and CI votes) to the compatibility dashboard, losing nothing.

Every body is first written to a spool directory, then POSTed; it leaves the spool only when
the dashboard accepted it (2xx). Connection errors, 5xx and 429 are retried with backoff
(urllib3's Retry, honouring Retry-After) and otherwise stay spooled for the next flush. Other
4xx answers are final: the body moves to spool/rejected/ with the dashboard's reason. The
token goes only into the Authorization header; it is never logged, spooled or printed.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from certkit.errors import CertkitError
from certkit.files import atomic_write

log = logging.getLogger("certkit.publish")
TOKEN_ENV = "CERTKIT_DASHBOARD_TOKEN"
ENDPOINTS = {"reports": "/api/v1/reports", "ci-votes": "/api/v1/ci-votes",
             "audits": "/api/v1/audits"}
RETRY_STATUS = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class PublishResult:
    """What happened to one spooled body."""

    name: str
    kind: str
    status: str  # "accepted" | "rejected" | "pending"
    detail: str
    url: str | None = None
    source: str = ""
    """The file the user published (empty for bodies spooled by a program, e.g. the listener)."""

    @property
    def label(self) -> str:
        """How messages name the body: the user's file, else the spooled file."""
        return self.source or self.name


def default_spool_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "certkit" / "spool"


class Publisher:
    """A dashboard client with a durable spool."""

    def __init__(self, base_url: str, token: str | None, spool_dir: Path, *, retries: int = 4,
                 backoff: float = 0.5, timeout: float = 30.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise CertkitError(f"--to: expected an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.spool_dir = spool_dir
        self.timeout = timeout
        self.session = requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                      backoff_factor=backoff, backoff_max=30, status_forcelist=RETRY_STATUS,
                      allowed_methods=frozenset({"POST"}), respect_retry_after_header=True,
                      raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        (spool_dir / "pending").mkdir(parents=True, exist_ok=True)
        (spool_dir / "rejected").mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:  # never show the token
        return f"Publisher({self.base_url!r}, spool={str(self.spool_dir)!r})"

    def spool(self, kind: str, body: dict[str, Any], source: str = "") -> Path:
        """Write the body to the spool (atomically), with the name of the user's file beside it
        (`.source`) so every later message names that file; returns the spooled file."""
        if kind not in ENDPOINTS:
            raise CertkitError(f"unknown dashboard endpoint kind {kind!r}")
        name = f"{time.time_ns():020d}-{kind}-{uuid.uuid4().hex[:8]}.json"
        path = self.spool_dir / "pending" / name
        if source:
            atomic_write(path.with_suffix(".source"), source)
        atomic_write(path, json.dumps(body))
        return path

    def submit(self, kind: str, body: dict[str, Any], source: str = "") -> PublishResult:
        """Spool, then try to send now."""
        return self._send(self.spool(kind, body, source))

    def flush(self) -> list[PublishResult]:
        """Try every spooled body, oldest first. The first that stays pending (dashboard down,
        busy or failing) ends the flush: one bounded try (the retries of one request) for the
        whole spool, never one per file."""
        results = []
        for path in self.pending():
            result = self._send(path)
            results.append(result)
            if result.status == "pending":
                break
        return results

    def pending(self) -> list[Path]:
        return sorted((self.spool_dir / "pending").glob("*.json"))

    @staticmethod
    def source_of(path: Path) -> str:
        """The user's file a spooled body came from ("" when not recorded)."""
        try:
            return path.with_suffix(".source").read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return ""

    def _send(self, path: Path) -> PublishResult:
        kind = path.name.split("-", 1)[1].rsplit("-", 1)[0]
        sidecar = path.with_suffix(".source")
        source = self.source_of(path)
        try:
            body = path.read_bytes()
        except FileNotFoundError:  # sent by a concurrent flush
            return PublishResult(path.name, kind, "accepted", "already sent", source=source)
        label = source or path.name
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self.session.post(self.base_url + ENDPOINTS[kind], data=body,
                                         headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            detail = (f"{self.base_url}: unreachable ({type(exc).__name__}); kept in spool as "
                      f"{path.name}")
            log.warning("publish %s: %s", label, detail)
            return PublishResult(path.name, kind, "pending", detail, source=source)
        if 200 <= response.status_code < 300:
            path.unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
            url = _json(response).get("url")
            return PublishResult(path.name, kind, "accepted", f"HTTP {response.status_code}", url,
                                 source=source)
        detail = f"HTTP {response.status_code}: {_problem(response)}"
        if response.status_code in RETRY_STATUS:
            detail += f"; kept in spool as {path.name}"
            log.warning("publish %s: %s", label, detail)
            return PublishResult(path.name, kind, "pending", detail, source=source)
        target = self.spool_dir / "rejected" / path.name
        os.replace(path, target)
        if source:
            os.replace(sidecar, target.with_suffix(".source"))
        atomic_write(target.with_suffix(".error"), detail + "\n")
        log.error("publish %s: rejected: %s", label, detail)
        return PublishResult(path.name, kind, "rejected", detail, source=source)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _problem(response: requests.Response) -> str:
    """One line from an RFC 9457 problem (title, detail, first error), or the reason."""
    data = _json(response)
    parts = [str(data[k]) for k in ("title", "detail") if data.get(k)]
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        parts.append(f"{errors[0].get('path', '')}: {errors[0].get('message', '')}")
    text = "; ".join(parts) or response.reason or "no detail"
    return " ".join(text.split())[:300]
