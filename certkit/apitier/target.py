"""The Manila the API suite talks to: admin credentials of its Keystone, the back end under test,
and (for a Manila whose services certkit runs) a way to restart them.

Where a target comes from is decided above this layer: `certkit lab up manila` (certkit.livestack
builds a target with a restart hook), or any cloud named by the standard OS_* variables of an
openrc file (`from_environment`; a vendor's devstack or production-like cloud, never restarted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from certkit.apitier.specs import backend_name
from certkit.errors import CertkitError
from certkit.profile import Profile

Restarter = Callable[[Sequence[str]], None]
"""Restarts Manila services by name (manila-api, manila-scheduler, manila-share, manila-data)."""

OPENRC_REQUIRED = ("OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME")


@dataclass(frozen=True)
class ApiTarget:
    """Admin credentials of a Keystone, and where the profile's back end runs."""

    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain: str = "Default"
    project_domain: str = "Default"
    region: str = "RegionOne"
    backend: str = ""
    dhss: bool = False
    """The back end's driver_handles_share_servers mode (shares need a share network when True)."""
    restarter: Restarter | None = None
    """Set when certkit runs the services (the lab); an OS_* cloud's are not ours to restart."""
    origin: str = "an OS_* cloud"
    """Where the target came from, for messages."""
    database: str = ""
    """The database server Manila runs on (mariadb, postgresql) when known (the lab)."""
    manila_version: str = ""
    """The Manila release the services run when known (the lab runs certkit's own Manila)."""

    def __repr__(self) -> str:  # never the password
        return (f"ApiTarget({self.auth_url!r}, backend={self.backend!r}, dhss={self.dhss}, "
                f"origin={self.origin!r})")

    def facts(self) -> dict[str, str]:
        """What known_failures.yaml entries may be conditioned on: the database, the Manila
        release and the installed manila-tempest-plugin release ('' when unknown)."""
        from importlib import metadata

        try:
            plugin = metadata.version("manila-tempest-plugin")
        except metadata.PackageNotFoundError:
            plugin = ""
        return {"database": self.database, "manila": self.manila_version, "plugin": plugin}

    @property
    def can_restart(self) -> bool:
        return self.restarter is not None

    def restart(self, services: Sequence[str]) -> None:
        """Restart these Manila services and return when their processes run again."""
        if self.restarter is None:
            raise CertkitError(f"cannot restart {', '.join(services)}: {self.origin}'s services "
                               "are not run by certkit")
        self.restarter(list(services))

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
        url = self.session().get_endpoint(service_type="sharev2", interface="public",
                                          region_name=self.region)
        if not url:
            raise CertkitError(f"{self.auth_url}: the catalog has no sharev2 endpoint")
        return str(url)


def check_reachable(target: ApiTarget, timeout: float = 30.0) -> None:
    """Authenticate and find Manila's endpoint before anything runs: a target that is down, a
    wrong URL or wrong credentials is one line naming where it came from (never the password,
    never a traceback), not one error per check."""
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    auth = v3.Password(auth_url=target.auth_url, username=target.username,
                       password=target.password, project_name=target.project_name,
                       user_domain_name=target.user_domain, project_domain_name=target.project_domain)
    try:
        url = session.Session(auth=auth, timeout=timeout).get_endpoint(
            service_type="sharev2", interface="public", region_name=target.region)
    except ks_exc.Unauthorized:
        raise CertkitError(f"{target.origin}: Keystone at {target.auth_url} refused the "
                           f"credentials of user {target.username!r}") from None
    except (ks_exc.ClientException, OSError, ValueError) as exc:
        reason = " ".join(str(exc).replace(target.password, "***").split())[:200]
        raise CertkitError(f"{target.origin}: cannot reach Keystone at {target.auth_url} "
                           f"({type(exc).__name__}: {reason})") from None
    if not url:
        raise CertkitError(f"{target.origin}: Keystone at {target.auth_url} lists no sharev2 "
                           f"endpoint in region {target.region!r}")


def from_environment(profile: Profile, env: Mapping[str, str]) -> ApiTarget | None:
    """The cloud of an admin openrc (OS_AUTH_URL set), or None when OS_AUTH_URL is not set.

    CERTKIT_BACKEND_NAME names the back end when its share_backend_name differs from the
    profile's; the back end runs the profile's first DHSS mode."""
    if not env.get("OS_AUTH_URL"):
        return None
    missing = [k for k in OPENRC_REQUIRED if not env.get(k)]
    if missing:
        raise CertkitError(f"OS_AUTH_URL is set but {', '.join(missing)} is not (source an admin "
                           "openrc)")
    return ApiTarget(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                     env["OS_PROJECT_NAME"], env.get("OS_USER_DOMAIN_NAME", "Default"),
                     env.get("OS_PROJECT_DOMAIN_NAME", "Default"),
                     env.get("OS_REGION_NAME", "RegionOne"),
                     env.get("CERTKIT_BACKEND_NAME") or backend_name(profile),
                     dhss=profile.dhss, origin=f"the cloud at {env['OS_AUTH_URL']}")
