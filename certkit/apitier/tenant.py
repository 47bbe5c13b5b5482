"""Another project's user: a Keystone project and a `member` user in it, made through the target's
admin credentials for a check that needs a caller who does not own what it asks for, and
removed afterwards (also when the check fails)."""

from __future__ import annotations

import dataclasses
import secrets
from contextlib import contextmanager
from typing import Iterator

from certkit.apitier.target import ApiTarget
from certkit.errors import CertkitError

MEMBER_ROLE = "member"
"""Keystone's default member role (Manila's default policies read it as a project member)."""


@contextmanager
def other_project_user(target: ApiTarget) -> Iterator[ApiTarget]:
    """A target for a fresh user holding `member` in a fresh project of the admin's domain; the
    user and project are deleted on exit. Its password is random and never leaves the target."""
    from keystoneclient.v3 import client

    keystone = client.Client(session=target.session())
    name = f"certkit-other-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    roles = {r.name: r for r in keystone.roles.list()}
    if MEMBER_ROLE not in roles:
        raise CertkitError(f"{target.auth_url}: Keystone has no {MEMBER_ROLE!r} role to give "
                           "another project's user")
    domain = next((d for d in keystone.domains.list() if d.name == target.project_domain), None)
    if domain is None:
        raise CertkitError(f"{target.auth_url}: no Keystone domain named {target.project_domain!r}")
    project = keystone.projects.create(name, domain)
    user = None
    try:
        user = keystone.users.create(name, domain=domain, password=password, default_project=project)
        keystone.roles.grant(roles[MEMBER_ROLE], user=user, project=project)
        yield dataclasses.replace(target, username=name, password=password, project_name=name,
                                  user_domain=target.project_domain)
    finally:
        if user is not None:
            keystone.users.delete(user)
        keystone.projects.delete(project)
