"""The Manila the API suite talks to: the lab's (from its state), or any cloud named by the
standard OS_* variables of an openrc file (a vendor's devstack or production-like cloud)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from certkit.errors import CertkitError
from certkit.livestack.state import lab_dir, load_state
from certkit.profile import Profile


@dataclass(frozen=True)
class Target:
    """Admin credentials of a Keystone, and where the profile's back end runs."""

    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain: str = "Default"
    project_domain: str = "Default"
    region: str = "RegionOne"
    backend: str = ""
    lab_root: Path | None = None
    """The lab's directory when the target is `certkit lab up manila` (restart checks need it)."""

    def session(self) -> Any:
        """A keystoneauth session as the admin."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth = v3.Password(auth_url=self.auth_url, username=self.username,
                           password=self.password, project_name=self.project_name,
                           user_domain_name=self.user_domain,
                           project_domain_name=self.project_domain)
        return session.Session(auth=auth, timeout=60)

    def manila_url(self) -> str:
        """The shared-file-system v2 endpoint from the catalog."""
        sess = self.session()
        url = sess.get_endpoint(service_type="sharev2", interface="public",
                                region_name=self.region)
        if not url:
            raise CertkitError(f"{self.auth_url}: the catalog has no sharev2 endpoint")
        return str(url)


def resolve_target(profile: Profile, environ: Mapping[str, str] | None = None) -> Target:
    """OS_AUTH_URL set: that cloud; else the manila lab, which must run this profile."""
    env = os.environ if environ is None else environ
    backend_default = str(profile.config.get("share_backend_name") or profile.name)
    if env.get("OS_AUTH_URL"):
        missing = [k for k in ("OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME") if not env.get(k)]
        if missing:
            raise CertkitError(f"OS_AUTH_URL is set but {', '.join(missing)} is not "
                               "(source an admin openrc)")
        return Target(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                      env["OS_PROJECT_NAME"], env.get("OS_USER_DOMAIN_NAME", "Default"),
                      env.get("OS_PROJECT_DOMAIN_NAME", "Default"),
                      env.get("OS_REGION_NAME", "RegionOne"),
                      env.get("CERTKIT_BACKEND_NAME", backend_default))
    root = lab_dir()
    state = load_state(root)
    if state is None:
        raise CertkitError(f"no Manila to test: run `certkit lab up manila --profile {profile.path}` "
                           "or set OS_AUTH_URL/OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME")
    if state.profile_name != profile.name:
        raise CertkitError(f"the manila lab in {root} runs profile {state.profile_name}, not "
                           f"{profile.name}: `certkit lab down manila` and bring it up for this one")
    return Target(state.auth_url, "admin", state.passwords["admin"], "admin",
                  backend=state.backend, lab_root=root)
