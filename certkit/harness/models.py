"""Share, snapshot, access-rule and share-server models shaped like the share manager's.

Drivers read them both as `m['key']` and as `m.key`; every id carries the run id as its first
UUID group, so every back-end object a run creates is recognisable as the run's own.
"""

from __future__ import annotations

import copy
import random
import secrets
import uuid
from typing import Any


class Model(dict):
    """A dict that also answers attribute access, like Manila's ORM objects and dicts."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def to_dict(self) -> dict[str, Any]:
        """A plain copy, as `ShareInstance.to_dict()` gives."""
        return {k: (v.to_dict() if isinstance(v, Model) else copy.copy(v)) for k, v in self.items()}

    def __deepcopy__(self, memo: dict[int, Any]) -> "Model":
        return Model({k: copy.deepcopy(v, memo) for k, v in self.items()})


_ids = random.Random(secrets.randbits(128))


def new_run_id() -> str:
    """Eight hex digits naming one run."""
    return secrets.token_hex(4)


class ModelFactory:
    """Builds models for one run; every id starts with the run id."""

    def __init__(self, run_id: str, backend: str, pool: str | None = None,
                 project_id: str = "certkit-project") -> None:
        self.run_id = run_id
        self.backend = backend
        self.pool = pool
        self.project_id = project_id
        self._counter = 0

    def new_id(self) -> str:
        """A UUID whose first group is the run id.

        Random bits from a generator seeded once, not a system call per id: ids must be
        unique, not secret, and thousands of shares need thousands of them.
        """
        return self.run_id + str(uuid.UUID(int=_ids.getrandbits(128), version=4))[8:]

    def display_name(self, kind: str) -> str:
        """`certkit-<run id>-<kind>-<n>`."""
        self._counter += 1
        return f"certkit-{self.run_id}-{kind}-{self._counter}"

    @property
    def host(self) -> str:
        """`host@backend#pool`, as the scheduler sets it."""
        pool = f"#{self.pool}" if self.pool else ""
        return f"certkit@{self.backend}{pool}"

    def share(self, proto: str, size: int = 1, share_server: Model | None = None,
              **extra: Any) -> Model:
        """A share instance (the manager never passes the parent Share)."""
        instance_id, share_id = self.new_id(), self.new_id()
        share = Model(
            id=instance_id, share_id=share_id, name=f"share-{instance_id}",
            display_name=self.display_name("share"), display_description="created by certkit",
            size=size, share_proto=proto, host=self.host, status="creating",
            project_id=self.project_id, user_id="certkit-user", share_type_id=self.new_id(),
            share_type_name="certkit", availability_zone="nova", export_locations=[],
            export_location=None, share_server_id=share_server["id"] if share_server else None,
            share_server=share_server, share_network_id=None, share_group_id=None,
            snapshot_id=None, replica_state=None, mount_point_name=None, metadata={},
            encryption_key_ref=None, is_public=False, access_rules_status="active",
            source_share_group_snapshot_member_id=None,
        )
        share.update(extra)
        return share

    def snapshot(self, share: Model, **extra: Any) -> Model:
        """A snapshot instance; `share_id` is the share *instance* id, as in Manila."""
        instance_id, snapshot_id = self.new_id(), self.new_id()
        snap = Model(
            id=instance_id, snapshot_id=snapshot_id, name=f"share-snapshot-{instance_id}",
            display_name=self.display_name("snapshot"), share=share, share_id=share["id"],
            share_instance_id=share["id"], share_name=share["name"], share_proto=share["share_proto"],
            size=share["size"], share_size=share["size"], status="creating", progress="0%",
            provider_location=None, export_locations=[], project_id=self.project_id,
            user_id="certkit-user", share_instance=share,
        )
        snap.update(extra)
        return snap

    def access_rule(self, share: Model, access_type: str, access_to: str,
                    access_level: str = "rw") -> Model:
        """An access rule mapping (`id` of the mapping, `access_id` of the rule)."""
        return Model(
            id=self.new_id(), access_id=self.new_id(), share_instance_id=share["id"],
            access_type=access_type, access_to=access_to, access_level=access_level,
            access_key=None, state="queued_to_apply", created_at=None, updated_at=None,
        )

    def share_server(self, **extra: Any) -> Model:
        """A share server, before set-up (no backend details yet)."""
        server = Model(
            id=self.new_id(), host=self.host.split("#")[0], status="creating",
            identifier=None, backend_details={}, share_network_subnet_ids=[],
            network_allocations=[], is_auto_deletable=True, project_id=self.project_id,
            security_service_update_support=False, network_allocation_update_support=False,
            share_replicas_migration_support=False, encryption_key_ref=None,
        )
        server["identifier"] = server["id"]
        server.update(extra)
        return server
