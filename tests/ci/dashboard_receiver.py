"""A small in-test HTTP receiver for the dashboard API the CI client publishes to.

It implements only the client-facing contract in the coordination notes: POST
/api/v1/reports (bearer token, report.schema.json validation -> 422 problem+json with errors,
idempotent on profile.name + run_id -> 200), POST /api/v1/ci-votes, and scripted failures
(5xx, 429 with Retry-After, or not listening at all).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from certkit.schema_check import validator_for

CI_VOTE_FIELDS = {"source", "account", "project", "change", "patchset", "branch", "verified",
                  "jobs", "seen_at", "comment"}


class Receiver:
    """Records every request; `script` is a list of statuses to answer before behaving."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.reports: dict[tuple[str, str], dict[str, Any]] = {}
        self.votes: list[dict[str, Any]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((self.path, dict(self.headers), body))
                status, answer, extra = receiver.answer(self.path, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                kind = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, headers: Any, body: bytes) -> tuple[int, dict, dict]:
        if self.script:
            status = self.script.pop(0)
            extra = {"Retry-After": "1"} if status == 429 else {}
            return status, {"title": "scripted failure", "status": status}, extra
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"title": "Unauthorized", "status": 401}, {}
        try:
            doc = json.loads(body)
        except ValueError:
            return 422, {"title": "Unprocessable", "errors": [{"path": "", "message": "not JSON"}]}, {}
        if path == "/api/v1/reports":
            errors = [{"path": "/" + "/".join(map(str, e.absolute_path)), "message": e.message}
                      for e in validator_for("report.schema.json").iter_errors(doc)]
            if errors:
                return 422, {"title": "Report does not match the schema", "status": 422,
                             "errors": errors}, {}
            key = (doc["profile"]["name"], doc["run_id"])
            url = f"{self.url}/runs/{key[0]}/{key[1]}"
            if key in self.reports:
                return 200, {"id": f"{key[0]}/{key[1]}", "url": url}, {}
            self.reports[key] = doc
            return 201, {"id": f"{key[0]}/{key[1]}", "url": url}, {}
        if path == "/api/v1/ci-votes":
            missing = CI_VOTE_FIELDS - set(doc)
            if missing:
                return 422, {"title": "missing fields", "errors": [
                    {"path": f"/{sorted(missing)[0]}", "message": "required"}]}, {}
            self.votes.append(doc)
            return 201, {"id": len(self.votes)}, {}
        return 404, {"title": "Not Found"}, {}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
