"""A Gerrit double: Gerrit's SSH command port and a git server, on loopback, for certkit's tests
and for a vendor rehearsing the whole CI loop on one machine (`certkit ci gerrit-double`).

What it emulates, exactly (Gerrit 3.x documentation: cmd-stream-events, cmd-query,
cmd-review, cmd-version, json):
- SSH on 127.0.0.1 (paramiko server): public-key authentication only, per account; a host key
  the client must know.
- Command lines split like Gerrit's CommandFactoryProvider.split (spaces/tabs separate,
  '...' and "..." quote, backslash escapes outside single quotes); nothing is run by a shell.
- `gerrit stream-events [-s TYPE]...`: one JSON object per line, for patchset-created,
  comment-added, change-abandoned, change-restored, change-deleted, change-merged and
  ref-updated, with the fields Gerrit documents (type, eventCreatedOn, change{project, branch,
  id, number, subject, owner, url, commitMessage, status, topic}, patchSet{number, revision,
  parents, ref, uploader, createdOn, author, kind}, uploader/author/abandoner/restorer/deleter
  accounts {name, email, username}, comment, approvals, newRev, refUpdate{oldRev, newRev,
  refName, project}). Events are not replayed after a disconnect.
- `gerrit review [--project P] [--message M] [--label L=V]... [--tag T] CHANGE,PATCHSET`:
  stores the comment as "Patch Set N: Label+V\\n\\nM" and emits comment-added with approvals;
  labels on a closed (abandoned) change are refused with exit status 1, as Gerrit does.
- `gerrit query --format=JSON [--patch-sets] [--current-patch-set] [--files] [--comments]
  QUERY` with the operators change:, project:, message:, status:open|abandoned, after:/since:
  ("YYYY-MM-DD HH:MM:SS [+ZZZZ]"): change rows then a stats row {type: stats, rowCount,
  runTimeMilliseconds}.
- `gerrit version`.
- Unknown commands: exit status 1 and "fatal: ... not found" on stderr, as Gerrit's dispatcher.
- A bare git repository per project under git_root, serving refs/changes/NN/C/PS over file://.
Not emulated: permissions/capabilities, other commands, HTTP/REST, web UI, label rules,
pushing to refs/for/* (a developer's actions are the `double ...` commands below instead).

Not Gerrit at all: the `developer` account may run `double upload|comment|abandon|restore|
delete ...` (what `certkit ci gerrit-double upload ...` sends) so a rehearsal can play the
developer's side from another terminal.
Every command received is recorded in `commands` as (username, argv).

What real Zuul 14.3 asked of it (tests/zuul, `certkit lab up zuul`; zuul/driver/gerrit with no
HTTP password, so everything goes over SSH), each checked against Gerrit's documentation
(cmd-query, cmd-version, user-upload "git over SSH") and served by the functions at the end:
- `gerrit stream-events` with no -s (served as before).
- `gerrit query --format json --all-approvals --comments --commit-message --current-patch-set
  --dependencies --files --patch-sets --submit-records change:N` (the change, on each event)
  and `gerrit query --format json --commit-message --current-patch-set QUERY`: `--format` as a
  separate, case-insensitive value (Gerrit's args4j enum); `submitRecords` [{status, labels
  [{label, status}]}] with --submit-records; `dependsOn`/`neededBy` only when there are some
  (never here: one patch set per commit, no stacks). QUERY is also `message:{CHANGE-ID}` (Zuul's
  search for changes that name this one in a Depends-On footer: the `message:` operator, a
  match in the commit message). A change a query can see always has its patch set: the double
  once registered a change before its first patch set was pushed, and Zuul, querying in that
  moment (two changes uploaded at once), failed on the row's missing `currentPatchSet` and
  dropped the other change's event.
- `git-upload-pack '/openstack/manila'` (Zuul's mergers and its branch poller; git over SSH
  as Gerrit serves it on the same port): the real `git upload-pack` on the bare repository,
  the SSH channel as its stdin/stdout, its exit status returned.
- `gerrit review --project P --message M --label Verified=1 C,PS` (without --tag: Zuul sends
  it only when it knows the Gerrit version, which it learns over HTTP only).
- `gerrit version` ("gerrit version 3.10.0"), which Zuul 14 does not ask over SSH but
  operators do when they check the account.
"""

from __future__ import annotations

import datetime
import json
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

CI_ACCOUNT = {"name": "Acme CI", "email": "ci@acme.example", "username": "acme-ci"}
OWNER = {"name": "Jane Developer", "email": "jane@example.org", "username": "jane"}
DEVELOPER = "developer"  # the rehearsal's developer account (runs `double ...` commands)


def gerrit_split(command: str) -> list[str]:
    """Gerrit's CommandFactoryProvider.split: the server side of remote argument quoting."""
    out: list[str] = []
    current: list[str] = []
    in_single = in_double = False
    i = 0
    while i < len(command):
        ch = command[i]
        i += 1
        if ch in " \t":
            if in_single or in_double:
                current.append(ch)
            elif current:
                out.append("".join(current))
                current = []
        elif ch == '"':
            if in_single:
                current.append(ch)
            else:
                in_double = not in_double
        elif ch == "'":
            if in_double:
                current.append(ch)
            else:
                in_single = not in_single
        elif ch == "\\":
            if in_single or i == len(command):
                current.append(ch)
            else:
                current.append(command[i])
                i += 1
        else:
            current.append(ch)
    if current:
        out.append("".join(current))
    return out


@dataclass
class Account:
    username: str
    key: paramiko.PKey


@dataclass
class ChangeRecord:
    project: str
    branch: str
    number: int
    subject: str
    message: str
    owner: dict[str, str] = field(default_factory=lambda: dict(OWNER))
    status: str = "NEW"
    patch_sets: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    topic: str | None = None
    url: str | None = None  # default: <web_url>/c/<project>/+/<number>

    def row(self, base_url: str) -> dict[str, Any]:
        row = {"project": self.project, "branch": self.branch,
                "id": f"I{self.number:040x}"[:41], "number": self.number,
                "subject": self.subject, "owner": self.owner,
                "url": self.url or f"{base_url}/c/{self.project}/+/{self.number}",
                "commitMessage": self.message, "status": self.status, "open": self.status == "NEW",
                "createdOn": self.patch_sets[0]["createdOn"] if self.patch_sets else 0,
                "lastUpdated": max([p["createdOn"] for p in self.patch_sets]
                                   + [c["timestamp"] for c in self.comments] + [0])}
        if self.topic is not None:
            row["topic"] = self.topic
        return row


class _Server(paramiko.ServerInterface):
    def __init__(self, double: "GerritDouble") -> None:
        self.double = double
        self.username: str | None = None
        self.commands: dict[int, str] = {}
        self.ready = threading.Condition()

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        account = self.double.accounts.get(username)
        if account is not None and account.key.get_base64() == key.get_base64():
            self.username = username
            return paramiko.AUTH_SUCCESSFUL
        self.double.refused.append(username)
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else \
            paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        with self.ready:
            self.commands[channel.get_id()] = command.decode("utf-8", errors="replace")
            self.ready.notify_all()
        return True


class GerritDouble:
    """Gerrit's SSH command port and git hosting, on loopback, for tests."""

    def __init__(self, root: Path, web_url: str = "https://review.example.org",
                 port: int = 0) -> None:
        self.root = root
        self.git_root = root / "git"
        self.git_root.mkdir(parents=True, exist_ok=True)
        self.web_url = web_url
        self.host_key = paramiko.ECDSAKey.generate()
        self.accounts: dict[str, Account] = {}
        self.changes: dict[int, ChangeRecord] = {}
        self.commands: list[tuple[str, list[str]]] = []
        self.refused: list[str] = []
        self.subscribers: list[tuple[paramiko.Channel, set[str]]] = []
        self.transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.paused = threading.Event()  # set: connections are refused (Gerrit is down)
        self.refuse_reviews = ""  # set: every `gerrit review` fails with this message
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))  # port: the same one again after a restart
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # -- set-up helpers ----------------------------------------------------------------------
    def add_account(self, username: str, key_path: Path) -> paramiko.PKey:
        """Create a key pair for username; the private key is written to key_path."""
        key = paramiko.ECDSAKey.generate()
        key.write_private_key_file(str(key_path))
        self.accounts[username] = Account(username, key)
        return key

    def write_known_hosts(self, path: Path) -> None:
        path.write_text(f"[127.0.0.1]:{self.port} {self.host_key.get_name()} "
                        f"{self.host_key.get_base64()}\n")

    @property
    def git_url(self) -> str:
        return f"file://{self.git_root}"

    def create_project(self, project: str, source: Path) -> None:
        """A bare repository for project, with source's master branch pushed to it."""
        bare = self.git_root / project
        if not bare.exists():
            _git("init", "-q", "--bare", str(bare))
        _git("push", "-q", str(bare), "HEAD:refs/heads/master", cwd=source)

    # -- Gerrit behaviour -------------------------------------------------------------------------
    def upload_patchset(self, project: str, change: int, source: Path, *, branch: str = "master",
                        subject: str | None = None, files: list[str] | None = None,
                        emit: bool = True, created: int | None = None) -> dict[str, Any]:
        """Push source's HEAD as the change's next patch set and announce patchset-created."""
        revision = _git("rev-parse", "HEAD", cwd=source).strip()
        message = _git("log", "-1", "--format=%B", cwd=source)
        record = self.changes.get(change)
        new = record is None
        if record is None:  # registered below, with its patch set: Gerrit never shows a change without one
            record = ChangeRecord(project=project, branch=branch, number=change,
                                  subject=subject or message.splitlines()[0], message=message)
        if subject is not None:
            record.subject = subject
        number = len(record.patch_sets) + 1
        ref = f"refs/changes/{change % 100:02d}/{change}/{number}"
        _git("push", "-q", "-f", str(self.git_root / project), f"HEAD:{ref}", cwd=source)
        patch_set = {"number": number, "revision": revision, "parents": [],
                     "ref": ref, "uploader": dict(OWNER), "author": dict(OWNER),
                     "createdOn": created or int(time.time()), "kind": "REWORK",
                     "sizeInsertions": 1, "sizeDeletions": 0,
                     "files": [{"file": f, "type": "MODIFIED", "insertions": 1, "deletions": 0}
                               for f in ["/COMMIT_MSG", *(files or [])]]}
        record.patch_sets.append(patch_set)
        if new:
            self.changes[change] = record
        event = {"type": "patchset-created", "change": record.row(self.web_url),
                 "patchSet": _public(patch_set), "uploader": dict(OWNER),
                 "eventCreatedOn": patch_set["createdOn"]}
        if emit:
            self.emit(event)
        return event

    def add_comment(self, change: int, patchset: int, author: dict[str, str], text: str,
                    approvals: list[dict[str, Any]] | None = None, emit: bool = True,
                    when: int | None = None) -> dict[str, Any]:
        record = self.changes[change]
        when = when or int(time.time())
        votes = "".join(f" {a['type']}{int(a['value']):+d}" for a in approvals or [])
        full = f"Patch Set {patchset}:{votes}\n\n{text}" if text else f"Patch Set {patchset}:{votes}"
        record.comments.append({"timestamp": when, "reviewer": dict(author), "message": full})
        event = {"type": "comment-added", "change": record.row(self.web_url),
                 "patchSet": _public(record.patch_sets[patchset - 1]), "author": dict(author),
                 "approvals": approvals or [], "comment": full, "eventCreatedOn": when}
        if emit:
            self.emit(event)
        return event

    def set_status(self, change: int, kind: str, who: dict[str, str] | None = None,
                   emit: bool = True) -> dict[str, Any]:
        """change-abandoned / change-restored / change-deleted, as Gerrit announces them."""
        record = self.changes[change]
        who = dict(who or OWNER)
        role = {"change-abandoned": "abandoner", "change-restored": "restorer",
                "change-deleted": "deleter"}[kind]
        record.status = {"change-abandoned": "ABANDONED", "change-restored": "NEW",
                         "change-deleted": "DELETED"}[kind]
        event = {"type": kind, "change": record.row(self.web_url),
                 "patchSet": _public(record.patch_sets[-1]), role: who,
                 "reason": "", "eventCreatedOn": int(time.time())}
        if kind == "change-deleted":
            del self.changes[change]
            event.pop("patchSet")
        if emit:
            self.emit(event)
        return event

    def emit(self, event: dict[str, Any]) -> None:
        self.emit_raw(json.dumps(event))

    def emit_raw(self, line: str, newline: bool = True) -> None:
        """Send one line to every stream-events subscriber (types filtered as Gerrit does);
        newline=False sends a line cut short, as a connection dropping mid-event does."""
        kind = None
        try:
            kind = json.loads(line).get("type")
        except (ValueError, AttributeError):
            pass
        data = (line + ("\n" if newline else "")).encode()
        with self._lock:
            alive = []
            for channel, types in self.subscribers:
                if types and kind is not None and kind not in types:
                    alive.append((channel, types))
                    continue
                try:
                    channel.sendall(data)
                    alive.append((channel, types))
                except (OSError, EOFError, paramiko.SSHException):
                    pass
            self.subscribers = alive

    def wait_for_subscriber(self, count: int = 1, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len([c for c, _ in self.subscribers if not c.closed]) >= count:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"no stream-events subscriber within {timeout} s")

    def drop_connections(self) -> None:
        """Close every SSH connection (a Gerrit restart): streams end, events are not replayed."""
        with self._lock:
            transports, self.transports = self.transports, []
            self.subscribers = []
        for transport in transports:
            transport.close()

    def reviews(self) -> list[list[str]]:
        return [argv for _, argv in self.commands if argv[:2] == ["gerrit", "review"]]

    def stop(self) -> None:
        self._stop.set()
        self.drop_connections()
        self.sock.close()
        self._thread.join(timeout=5)

    # -- SSH plumbing ----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            if self.paused.is_set():
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        transport = paramiko.Transport(client)
        transport.add_server_key(self.host_key)
        server = _Server(self)
        try:
            transport.start_server(server=server)
        except (paramiko.SSHException, EOFError, OSError):
            return
        with self._lock:
            self.transports.append(transport)
        while transport.is_active() and not self._stop.is_set():
            channel = transport.accept(timeout=0.5)
            if channel is None:
                continue
            with server.ready:
                chanid = channel.get_id()
                server.ready.wait_for(lambda: chanid in server.commands, timeout=5)  # noqa: B023
                command = server.commands.pop(chanid, "")
            threading.Thread(target=self._command, args=(server.username or "", channel, command),
                             daemon=True).start()

    def _command(self, username: str, channel: paramiko.Channel, command: str) -> None:
        argv = gerrit_split(command)
        self.commands.append((username, argv))
        try:
            if argv[:2] == ["gerrit", "stream-events"]:
                types = {argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-s", "--subscribe")}
                with self._lock:
                    self.subscribers.append((channel, types))
                return  # stays open until the connection closes
            if argv[:2] == ["gerrit", "review"]:
                status, out, err = self._review(username, argv[2:])
            elif argv[:2] == ["gerrit", "version"]:
                status, out, err = 0, f"gerrit version {GERRIT_VERSION}\n", ""
            elif argv[:1] == ["double"] and username == DEVELOPER:
                status, out, err = self._developer(argv[1:])
            elif argv[:2] == ["gerrit", "query"]:
                status, out, err = self._query(argv[2:])
            elif argv[:1] == ["git-upload-pack"]:
                status, out, err = _git_upload_pack(self.git_root, argv[1:], channel)
            else:
                status, out, err = 1, "", f"fatal: {' '.join(argv[:2])}: not found\n"
        except Exception as exc:  # noqa: BLE001 - the double must answer, as Gerrit does, not hang
            status, out, err = 1, "", f"fatal: internal error: {exc}\n"
        try:
            if out:
                channel.sendall(out.encode())
            if err:
                channel.sendall_stderr(err.encode())
            channel.send_exit_status(status)
        finally:
            channel.close()

    def _developer(self, args: list[str]) -> tuple[int, str, str]:
        """A developer's action, for a rehearsal: `double upload PROJECT CHANGE SOURCE_DIR
        [BRANCH]`, `double comment CHANGE PATCHSET TEXT`, `double abandon|restore|delete CHANGE`."""
        action, rest = (args[0], args[1:]) if args else ("", [])
        if action == "upload" and len(rest) in (3, 4) and rest[1].isdigit():
            source = Path(rest[2])
            if not (self.git_root / rest[0]).exists():
                self.create_project(rest[0], source)
            files = _git("diff-tree", "--no-commit-id", "--name-only", "-r", "--root", "HEAD",
                         cwd=source).split()
            event = self.upload_patchset(rest[0], int(rest[1]), source, files=files,
                                         branch=rest[3] if len(rest) == 4 else "master")
            return 0, f"{rest[1]},{event['patchSet']['number']} uploaded\n", ""
        if action == "comment" and len(rest) == 3 and rest[0].isdigit() and rest[1].isdigit():
            self.add_comment(int(rest[0]), int(rest[1]), OWNER, rest[2])
            return 0, f"{rest[0]},{rest[1]} commented\n", ""
        if action in ("abandon", "restore", "delete") and len(rest) == 1 and rest[0].isdigit():
            kind = {"abandon": "change-abandoned", "restore": "change-restored",
                    "delete": "change-deleted"}[action]
            self.set_status(int(rest[0]), kind)
            return 0, f"{rest[0]} {kind.split('-')[1]}\n", ""
        return 1, "", "fatal: usage: double upload PROJECT CHANGE SOURCE [BRANCH] | comment " \
                      "CHANGE PATCHSET TEXT | abandon|restore|delete CHANGE\n"

    def _review(self, username: str, args: list[str]) -> tuple[int, str, str]:
        options: dict[str, list[str]] = {}
        target = None
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in ("--project", "-p", "--message", "-m", "--label", "-l", "--tag", "-t"):
                if i + 1 >= len(args):
                    return 1, "", f"fatal: option {arg} needs a value\n"
                options.setdefault(arg.lstrip("-")[0], []).append(args[i + 1])
                i += 2
            elif arg.startswith("-"):
                return 1, "", f'fatal: "{arg}" is not a valid option\n'
            else:
                target = arg
                i += 1
        if target is None or "," not in target:
            return 1, "", "fatal: no change,patchset given\n"
        change_s, ps_s = target.split(",", 1)
        record = self.changes.get(int(change_s)) if change_s.isdigit() else None
        if record is None or not ps_s.isdigit() or not 1 <= int(ps_s) <= len(record.patch_sets):
            return 1, "", f'fatal: "{target}" no such change\n'
        if options.get("p") and options["p"][-1] != record.project:
            return 1, "", f'fatal: "{target}" no such change in project {options["p"][-1]}\n'
        if record.status != "NEW" and options.get("l"):
            return 1, "", "fatal: one or more approvals failed; review output above\n" \
                          f"error: change {record.number} is closed\n"
        if self.refuse_reviews:
            return 1, "", f"fatal: {self.refuse_reviews}\n"
        approvals = []
        for label in options.get("l", []):
            name, _, value = label.partition("=")
            approvals.append({"type": name, "description": name, "value": str(int(value))})
        account = {"name": username, "email": f"{username}@example.org", "username": username}
        self.add_comment(record.number, int(ps_s), account,
                         (options.get("m") or [""])[-1], approvals)
        return 0, "", ""

    def _query(self, args: list[str]) -> tuple[int, str, str]:
        args = _format_as_one_option(args)
        flags = {a for a in args if a.startswith("--")}
        terms = [a for a in args if not a.startswith("--")]
        if "--format=JSON" not in flags:
            return 1, "", "fatal: only --format=JSON is emulated\n"
        predicates = _parse_query(" ".join(terms))
        rows = []
        for record in sorted(self.changes.values(), key=lambda r: -r.number):
            if not _matches(record, predicates):
                continue
            row = record.row(self.web_url)
            if "--patch-sets" in flags or "--all-approvals" in flags:
                row["patchSets"] = [_public(p, "--files" in flags) for p in record.patch_sets]
            if "--current-patch-set" in flags and record.patch_sets:
                row["currentPatchSet"] = _public(record.patch_sets[-1], "--files" in flags)
            if "--comments" in flags:
                row["comments"] = list(record.comments)
            row.update(_submit_records(record, flags))
            rows.append(json.dumps(row))
        rows.append(json.dumps({"type": "stats", "rowCount": len(rows),
                                "runTimeMilliseconds": 1, "moreChanges": False}))
        return 0, "\n".join(rows) + "\n", ""


def _public(patch_set: dict[str, Any], files: bool = False) -> dict[str, Any]:
    """A patch set as Gerrit shows it (files only with --files)."""
    shown = {k: v for k, v in patch_set.items() if k != "files"}
    if files:
        shown["files"] = patch_set["files"]
    return shown


def _parse_query(text: str) -> list[tuple[str, str]]:
    predicates = []
    for token in gerrit_split(text):
        key, _, value = token.partition(":")
        predicates.append((key, value))
    return predicates


def _matches(record: ChangeRecord, predicates: list[tuple[str, str]]) -> bool:
    for key, value in predicates:
        if key == "change" and str(record.number) != value:
            return False
        if key == "project" and record.project != value:
            return False
        if key == "message" and value.strip("{}") not in record.message:
            return False
        if key == "status" and value == "open" and record.status != "NEW":
            return False
        if key == "status" and value in ("abandoned", "closed") and record.status != "ABANDONED":
            return False
        if key in ("after", "since"):
            stamp, _, zone = value.strip().rpartition(" ") if value.count(" ") == 2 else \
                (value.strip(), "", "")
            when = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
            offset = datetime.timedelta(hours=int(zone[:3]), minutes=int(zone[0] + zone[3:])) \
                if zone else datetime.timedelta()
            epoch = int((when - offset).replace(tzinfo=datetime.timezone.utc).timestamp())
            if record.row("")["lastUpdated"] < epoch:
                return False
    return True


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


# -- What real Zuul needs (issue 23): git over SSH, `--format json`, submit records, version ------
GERRIT_VERSION = "3.10.0"


def _format_as_one_option(args: list[str]) -> list[str]:
    """`--format json` (Zuul's spelling: two words, lower case) as `--format=JSON`; Gerrit's
    args4j accepts either form and any case for the enum."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "--format" and i + 1 < len(args):
            out.append(f"--format={args[i + 1].upper()}")
            i += 2
            continue
        if args[i].lower().startswith("--format="):
            out.append("--format=" + args[i].split("=", 1)[1].upper())
        else:
            out.append(args[i])
        i += 1
    return out


def _submit_records(record: ChangeRecord, flags: set[str]) -> dict[str, Any]:
    """`submitRecords` with --submit-records (cmd-query, json.html#submitRecord). No label rules
    are emulated: an open change is NOT_READY with Verified and Code-Review NEED, a merged one
    CLOSED; Zuul reads only the labels still missing (for pipeline requirements)."""
    if "--submit-records" not in flags:
        return {}
    if record.status != "NEW":
        return {"submitRecords": [{"status": "CLOSED"}]}
    labels = [{"label": name, "status": "NEED"} for name in ("Verified", "Code-Review")]
    return {"submitRecords": [{"status": "NOT_READY", "labels": labels}]}


def _git_upload_pack(git_root: Path, args: list[str], channel: paramiko.Channel) -> tuple[int, str, str]:
    """`git-upload-pack '/project'` over SSH: the real `git upload-pack` on the bare repository
    under git_root, with the channel as its stdin and stdout (what `git fetch ssh://...` runs)."""
    if len(args) != 1:
        return 1, "", "fatal: git-upload-pack takes one repository\n"
    name = args[0].strip("/").removesuffix(".git")
    repo = (git_root / name).resolve()
    if not name or git_root.resolve() not in repo.parents or not (repo / "HEAD").is_file():
        return 1, "", f"fatal: '{args[0]}': not a Gerrit project\n"
    proc = subprocess.Popen(["git", "upload-pack", "--strict", str(repo)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def feed() -> None:
        try:
            while True:
                data = channel.recv(65536)
                if not data:
                    break
                proc.stdin.write(data)
                proc.stdin.flush()
        except (OSError, EOFError, paramiko.SSHException, ValueError):
            pass
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        for chunk in iter(lambda: proc.stdout.read1(65536), b""):
            channel.sendall(chunk)
    except (OSError, EOFError, paramiko.SSHException):
        proc.kill()
    status = proc.wait()
    return status, "", proc.stderr.read().decode(errors="replace")
