"""Keystone sessions for the lab, and Manila's service user and endpoints registered once."""

from __future__ import annotations

from typing import Any

from certkit.livestack.state import LabState


def admin_session(state: LabState) -> Any:
    """A keystoneauth session as the lab's admin (project admin, domain Default)."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    auth = v3.Password(auth_url=state.auth_url, username="admin", password=state.passwords["admin"],
                       project_name="admin", user_domain_id="default", project_domain_id="default")
    return session.Session(auth=auth, timeout=60)


def register_manila(state: LabState) -> None:
    """Project `service`, user `manila` (admin there), services and endpoints (idempotent)."""
    from keystoneclient.v3 import client

    ks = client.Client(session=admin_session(state))
    projects = {p.name: p for p in ks.projects.list()}
    service_project = projects.get("service") or ks.projects.create("service", "default")
    users = {u.name: u for u in ks.users.list()}
    manila = users.get("manila")
    if manila is None:
        manila = ks.users.create("manila", domain="default", password=state.passwords["manila"],
                                 default_project=service_project)
    else:
        ks.users.update(manila, password=state.passwords["manila"])
    roles = {r.name: r for r in ks.roles.list()}
    ks.roles.grant(roles["admin"], user=manila, project=service_project)
    for role in ("member", "reader"):
        if role not in roles:
            ks.roles.create(role)
    services = {s.type: s for s in ks.services.list()}
    base = f"http://127.0.0.1:{state.ports['manila_api']}"
    wanted = {"share": ("manila", f"{base}/v1/%(project_id)s"),
              "sharev2": ("manilav2", f"{base}/v2"),
              "shared-file-system": ("manilav2", f"{base}/v2")}
    # Older plugins look for `share`/`sharev2`; newer catalogs use `shared-file-system`.
    for stype, (name, url) in wanted.items():
        service = services.get(stype) or ks.services.create(name=name, type=stype)
        existing = {e.interface: e for e in ks.endpoints.list(service=service)}
        for interface in ("public", "internal", "admin"):
            if interface in existing:
                if existing[interface].url != url:
                    ks.endpoints.update(existing[interface], url=url)
            else:
                ks.endpoints.create(service, url, interface=interface, region="RegionOne")
