"""A Manila v2 client on tempest.lib's RestClient: every response is validated against a
schema kept as data (api_schemas.json), waits use tempest.lib's waiters, and every object the
client creates is tracked so the suite can delete it, also after a failure or Ctrl-C."""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from tempest.lib import exceptions as lib_exc
from tempest.lib.common import rest_client
from tempest.lib.common.utils import test_utils

from certkit.apitier.target import ApiTarget

MICROVERSION = "2.65"
PATHS = {"share": "shares", "snapshot": "snapshots", "share_type": "types", "replica": "share-replicas",
         "share_network": "share-networks"}
"""The API collection of each kind of object the client creates."""
SHOW = {"share": "show_share", "snapshot": "show_snapshot", "replica": "show_replica"}
"""The client's method showing one object of a kind that has a status."""
WRAPPERS = {"replica": "share_replica"}
"""The JSON wrapper key of a kind, where it is not the kind's own name."""
_SCHEMAS = Path(__file__).with_name("api_schemas.json")


@lru_cache(maxsize=None)
def schema(name: str) -> dict[str, Any]:
    """A response schema by name."""
    return json.loads(_SCHEMAS.read_text())[name]


def auth_provider(target: ApiTarget) -> Any:
    """tempest.lib's Keystone v3 auth provider for the target's admin."""
    from tempest.lib import auth

    creds = auth.get_credentials(target.auth_url, identity_version="v3",
                                 username=target.username, password=target.password,
                                 project_name=target.project_name,
                                 user_domain_name=target.user_domain,
                                 project_domain_name=target.project_domain)
    return auth.KeystoneV3AuthProvider(creds, target.auth_url)


class WaitTimeout(AssertionError):
    """A resource did not reach the awaited state in time (a check failure, with the state seen)."""


class ManilaClient(rest_client.RestClient):
    """The Manila calls the live checks make."""

    def __init__(self, target: ApiTarget, *, build_timeout: float = 120, build_interval: float = 1) -> None:
        super().__init__(auth_provider(target), "sharev2", target.region,
                         build_timeout=build_timeout, build_interval=build_interval)
        self.created: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.undeleted: list[tuple[str, str, str]] = []
        """(kind, id, error) of what cleanup() could not delete."""
        self.share_network_id: str | None = None
        """The share network `create_share` uses when given none (a DHSS=True back end)."""

    def get_headers(self, accept_type: str | None = None, send_type: str | None = None) -> dict[str, str]:
        headers = super().get_headers(accept_type, send_type)
        headers["X-OpenStack-Manila-API-Version"] = MICROVERSION
        return headers

    def _json(self, name: str, resp: Any, body: Any) -> Any:
        data = json.loads(body) if body else {}
        self.validate_response(schema(name), resp, data)
        return data

    def _create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a new object of `kind` to its collection; the validated object, tracked for
        clean-up (its JSON wrapper key is also its schema's name)."""
        key = WRAPPERS.get(kind, kind)
        resp, raw = self.post(PATHS[kind], json.dumps({key: body}))
        obj = self._json(key, resp, raw)[key]
        with self._lock:
            self.created.append((kind, obj["id"]))
        return obj

    # -- share types ---------------------------------------------------------------------------
    def create_share_type(self, name: str, extra_specs: dict[str, str]) -> dict[str, Any]:
        return self._create("share_type", {"name": name, "extra_specs": extra_specs,
                                           "share_type_access:is_public": True})

    # -- share networks and servers (DHSS=True) -----------------------------------------------
    def create_share_network(self, name: str) -> dict[str, Any]:
        """A share network without Neutron ids (the back end's network plugin allocates)."""
        return self._create("share_network", {"name": name})

    def share_servers(self, **filters: str) -> list[dict[str, Any]]:
        """Share servers (admin), e.g. `share_network_id=...`."""
        query = "&".join(f"{k}={v}" for k, v in sorted(filters.items()))
        resp, raw = self.get("share-servers" + (f"?{query}" if query else ""))
        return self._json("share_servers", resp, raw)["share_servers"]

    def show_share_server(self, server_id: str) -> dict[str, Any]:
        resp, raw = self.get(f"share-servers/{server_id}")
        return self._json("share_server", resp, raw)["share_server"]

    def delete_share_network(self, network_id: str) -> None:
        """Delete the network and wait until Manila removed its share servers (it deletes
        them asynchronously; a server left behind would be a leak on the back end)."""
        servers = {s["id"] for s in self.share_servers(share_network_id=network_id)}
        resp, raw = self.delete(f"share-networks/{network_id}")
        self.validate_response(schema("no_body"), resp, raw)
        if servers:
            self.wait_for(f"share servers {', '.join(sorted(servers))} of share network "
                          f"{network_id} -> deleted", self.share_servers,
                          lambda now: not servers & {s["id"] for s in now},
                          lambda now: any(s["id"] in servers and s["status"] == "error_deleting"
                                          for s in now))

    # -- shares --------------------------------------------------------------------------------
    def create_share(self, proto: str, size: int, share_type: str | None = None,
                     name: str | None = None, share_network: str | None = None) -> dict[str, Any]:
        """A share, on `share_network` or the client's `share_network_id` when one is set."""
        body: dict[str, Any] = {"share_proto": proto, "size": size}
        if share_network or self.share_network_id:
            body["share_network_id"] = share_network or self.share_network_id
        if share_type:
            body["share_type"] = share_type
        if name:
            body["name"] = name
        return self._create("share", body)

    def show_share(self, share_id: str) -> dict[str, Any]:
        resp, raw = self.get(f"shares/{share_id}")
        return self._json("share", resp, raw)["share"]

    def delete_share(self, share_id: str) -> None:
        resp, raw = self.delete(f"shares/{share_id}")
        self.validate_response(schema("no_body"), resp, raw)

    def export_locations(self, share_id: str) -> list[dict[str, Any]]:
        resp, raw = self.get(f"shares/{share_id}/export_locations")
        return self._json("export_locations", resp, raw)["export_locations"]

    def export_location(self, share_id: str, location_id: str) -> dict[str, Any]:
        resp, raw = self.get(f"shares/{share_id}/export_locations/{location_id}")
        return self._json("export_location", resp, raw)["export_location"]

    def extend(self, share_id: str, new_size: int) -> None:
        resp, raw = self.post(f"shares/{share_id}/action", json.dumps({"extend": {"new_size": new_size}}))
        self.validate_response(schema("action"), resp, raw)

    # -- access --------------------------------------------------------------------------------
    def grant(self, share_id: str, access_type: str, access_to: str, level: str) -> dict[str, Any]:
        body = {"allow_access": {"access_type": access_type, "access_to": access_to,
                                 "access_level": level}}
        resp, raw = self.post(f"shares/{share_id}/action", json.dumps(body))
        return self._json("access", resp, raw)["access"]

    def deny(self, share_id: str, access_id: str) -> None:
        body = {"deny_access": {"access_id": access_id}}
        resp, raw = self.post(f"shares/{share_id}/action", json.dumps(body))
        self.validate_response(schema("action"), resp, raw)

    def access_rules(self, share_id: str) -> list[dict[str, Any]]:
        """The share's rules, without their access keys (rules end up in messages)."""
        return [{k: v for k, v in rule.items() if k != "access_key"}
                for rule in self._access_list(share_id)]

    def access_key(self, share_id: str, access_id: str) -> str | None:
        """The key Manila returns for a rule (a cephx secret: never put it in a message)."""
        return next((r.get("access_key") for r in self._access_list(share_id) if r["id"] == access_id),
                    None)

    def _access_list(self, share_id: str) -> list[dict[str, Any]]:
        resp, raw = self.get(f"share-access-rules?share_id={share_id}")
        return self._json("access_list", resp, raw)["access_list"]

    # -- snapshots -----------------------------------------------------------------------------
    def create_snapshot(self, share_id: str) -> dict[str, Any]:
        return self._create("snapshot", {"share_id": share_id})

    def show_snapshot(self, snap_id: str) -> dict[str, Any]:
        resp, raw = self.get(f"snapshots/{snap_id}")
        return self._json("snapshot", resp, raw)["snapshot"]

    # -- replicas ------------------------------------------------------------------------------
    def create_replica(self, share_id: str) -> dict[str, Any]:
        return self._create("replica", {"share_id": share_id})

    def show_replica(self, replica_id: str) -> dict[str, Any]:
        resp, raw = self.get(f"share-replicas/{replica_id}")
        return self._json("share_replica", resp, raw)["share_replica"]

    def replicas(self, share_id: str) -> list[dict[str, Any]]:
        """Every replica of the share, the active one included."""
        resp, raw = self.get(f"share-replicas/detail?share_id={share_id}")
        return self._json("share_replicas", resp, raw)["share_replicas"]

    def promote_replica(self, replica_id: str) -> dict[str, Any]:
        resp, raw = self.post(f"share-replicas/{replica_id}/action", json.dumps({"promote": None}))
        return self._json("share_replica", resp, raw)["share_replica"]

    def resync_replica(self, replica_id: str) -> None:
        resp, raw = self.post(f"share-replicas/{replica_id}/action", json.dumps({"resync": None}))
        self.validate_response(schema("action"), resp, raw)

    def delete_replica(self, replica_id: str) -> None:
        resp, raw = self.delete(f"share-replicas/{replica_id}")
        self.validate_response(schema("action"), resp, raw)

    def replica_export_locations(self, replica_id: str) -> list[dict[str, Any]]:
        resp, raw = self.get(f"share-replicas/{replica_id}/export-locations")
        return self._json("export_locations", resp, raw)["export_locations"]

    # -- services ------------------------------------------------------------------------------
    def services(self) -> list[dict[str, Any]]:
        resp, raw = self.get("services")
        return self._json("services", resp, raw)["services"]

    def pools(self, backend: str | None = None) -> list[str]:
        """Pool names (`host@group#pool`) the scheduler knows, or only the back end's
        (by the share_backend_name it reports)."""
        resp, raw = self.get("scheduler-stats/pools/detail")
        return [p["name"] for p in self._json("pools", resp, raw)["pools"]
                if backend is None or (p.get("capabilities") or {}).get("share_backend_name") == backend]

    # -- waiters -------------------------------------------------------------------------------
    def wait_for(self, what: str, read: Callable[[], Any], done: Callable[[Any], bool],
                 failed: Callable[[Any], bool] = lambda v: False,
                 timeout: float | None = None) -> Any:
        """Poll `read()` (tempest.lib's call_until_true) until done; fail early when `failed`."""
        seen: dict[str, Any] = {}

        def settled() -> bool:
            seen["value"] = read()
            return done(seen["value"]) or failed(seen["value"])

        if not test_utils.call_until_true(settled, timeout or self.build_timeout, self.build_interval):
            raise WaitTimeout(f"{what}: not reached within {timeout or self.build_timeout:.0f} s "
                              f"(last seen: {_brief(seen.get('value'))})")
        if failed(seen["value"]):
            raise WaitTimeout(f"{what}: ended in {_brief(seen['value'])}")
        return seen["value"]

    def wait_share(self, share_id: str, status: str = "available") -> dict[str, Any]:
        return self.wait_for(f"share {share_id} -> {status}", lambda: self.show_share(share_id),
                             lambda s: s["status"] == status,
                             lambda s: s["status"].startswith("error"))

    def wait_snapshot(self, snap_id: str) -> dict[str, Any]:
        """The snapshot once `available`; fails early on an error status."""
        return self.wait_for(f"snapshot {snap_id} -> available", lambda: self.show_snapshot(snap_id),
                             lambda s: s["status"] == "available",
                             lambda s: s["status"].startswith("error"))

    def extend_and_wait(self, share_id: str, new_size: int) -> dict[str, Any]:
        """Extend the share and return it once `available` at `new_size` (fails early on any
        error status, e.g. extending_error)."""
        self.extend(share_id, new_size)
        return self.wait_for(f"share {share_id} extend to {new_size} GiB -> available",
                             lambda: self.show_share(share_id),
                             lambda s: s["status"] == "available" and s["size"] == new_size,
                             lambda s: "error" in s["status"])

    def is_resource_deleted(self, id: str) -> bool:
        kind, obj_id = id.split(":", 1)
        try:
            self.get(f"{PATHS[kind]}/{obj_id}")
        except lib_exc.NotFound:
            return True
        except lib_exc.BadRequest:
            # Manila 23 answers 400 (TypeError in the API) to a GET that races the row's deletion.
            return False
        return False

    @property
    def resource_type(self) -> str:
        return "manila resource"

    def cleanup(self) -> list[str]:
        """Delete everything this client created, newest first (shares before the share network
        they are on, whose share servers Manila then removes); returns what could not be."""
        problems = []
        with self._lock:
            created, self.created = list(reversed(self.created)), []
        for kind, obj_id in created:
            try:
                if kind == "share_network":
                    self.delete_share_network(obj_id)
                    continue
                if kind == "share":
                    # Manila deletes a share only without replicas, and never its last active
                    # one: keep one active replica (a broken driver may have left several).
                    replicas = self.replicas(obj_id)
                    keep = next((r["id"] for r in replicas if r["replica_state"] == "active"), None)
                    for replica in replicas:
                        if replica["id"] != keep:
                            self._delete("replica", replica["id"])
                elif kind == "replica" and self.show_replica(obj_id)["replica_state"] == "active":
                    continue  # promoted: its share's clean-up removes it
                self._delete(kind, obj_id)
            except lib_exc.NotFound:
                continue
            except Exception as exc:  # noqa: BLE001 - collect every failure, keep deleting
                problems.append(f"{kind} {obj_id}: {type(exc).__name__}: {exc}")
                self.undeleted.append((kind, obj_id, f"{type(exc).__name__}: {exc}"))
        return problems

    def _delete(self, kind: str, obj_id: str) -> None:
        """Delete and wait until it is gone; a share, snapshot or replica that ends in
        `error_deleting` (the driver failed to delete it; Manila keeps it so until an admin's
        force-delete) fails at once instead of after the whole build timeout."""
        self.delete(f"{PATHS[kind]}/{obj_id}")
        if kind in SHOW:
            self.wait_for(f"{kind} {obj_id} -> deleted", lambda: self._status_or_gone(kind, obj_id),
                          lambda status: status is None, lambda status: status == "error_deleting")
        elif kind != "share_type":
            self.wait_for_resource_deletion(f"{kind}:{obj_id}")

    def _status_or_gone(self, kind: str, obj_id: str) -> str | None:
        """The object's status, None once Manila answers 404."""
        try:
            return getattr(self, SHOW[kind])(obj_id)["status"]
        except lib_exc.NotFound:
            return None
        except lib_exc.BadRequest:  # Manila 23's 400 to a GET racing the row's deletion
            return "deleting"


def _brief(value: Any, limit: int = 200) -> str:
    if isinstance(value, dict):
        keys = ("status", "state", "access_rules_status", "host")
        value = {k: value[k] for k in keys if k in value} or value
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
