"""Where the lab keeps its files, and its state (ports, credentials) in one 0600 JSON file."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from certkit.files import atomic_write
from certkit.lab.base import NeedsDown

ENV_DIR = "CERTKIT_MANILA_LAB_DIR"


def lab_dir() -> Path:
    """The lab's private directory: $CERTKIT_MANILA_LAB_DIR, else ./lab/manila."""
    return Path(os.environ.get(ENV_DIR) or Path.cwd() / "lab" / "manila").resolve()


@dataclass
class LabState:
    """What `up` chose: ports, names and credentials (generated once, kept until `down`)."""

    profile_path: str
    profile_name: str
    backend: str
    dhss: bool
    ports: dict[str, int] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    rabbit_node: str = ""
    db: str = "mariadb"
    """The database server: mariadb (default) or postgresql (`--db`, kept until `down`)."""
    db_dir: str = ""
    """The database's data directory (under /tmp: the server's own user must reach it)."""
    replica_backend: str = ""
    """The second back end of the same driver when the profile claims replication."""

    @property
    def backends(self) -> list[str]:
        """Every share_backend_name the lab runs."""
        return [self.backend] + ([self.replica_backend] if self.replica_backend else [])

    @classmethod
    def new(cls, profile_path: str, profile_name: str, backend: str, dhss: bool,
            db: str = "mariadb") -> "LabState":
        """Fresh credentials: random hex (they go into transport and database URLs and SQL)."""
        return cls(profile_path, profile_name, backend, dhss, db=db,
                   passwords={k: secrets.token_hex(16) for k in ("admin", "manila", "rabbit", "db")},
                   rabbit_node=f"certkit-{secrets.token_hex(4)}@localhost")

    @property
    def auth_url(self) -> str:
        """Keystone's v3 endpoint."""
        return f"http://127.0.0.1:{self.ports['keystone']}/v3"

    @property
    def manila_url(self) -> str:
        """Manila's v2 endpoint base (without the project id)."""
        return f"http://127.0.0.1:{self.ports['manila_api']}/v2"


def state_file(root: Path) -> Path:
    """The state file inside the lab directory."""
    return root / "state.json"


def load_state(root: Path) -> LabState | None:
    """The lab's state, or None when no lab was brought up here."""
    path = state_file(root)
    try:
        data = json.loads(path.read_text())
        return LabState(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise NeedsDown(f"{path}: unreadable lab state ({exc}); run `certkit lab down manila`") from None


def save_state(root: Path, state: LabState) -> None:
    """Write the state with mode 0600 (it holds passwords)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(state_file(root), json.dumps(asdict(state), indent=2) + "\n")

