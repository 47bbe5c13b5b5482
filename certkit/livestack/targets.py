"""Which Manila `certkit run --suite api` talks to: an OS_* cloud when OS_AUTH_URL is set, else
the manila lab, which must be running this profile (the lab's target carries the DHSS mode it
runs and can restart services)."""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Mapping

from certkit.apitier.target import ApiTarget, from_environment
from certkit.errors import CertkitError
from certkit.livestack.stack import restart_services
from certkit.livestack.state import lab_dir, load_state
from certkit.profile import Profile


def resolve_api_target(profile: Profile, env: Mapping[str, str]) -> ApiTarget:
    """The OS_* cloud, else the lab's Manila; a one-line error naming the fix otherwise."""
    cloud = from_environment(profile, env)
    if cloud is not None:
        return cloud
    root = lab_dir()
    state = load_state(root)
    if state is None:
        raise CertkitError(f"no Manila to test: run `certkit lab up manila --profile {profile.path}` "
                           "or set OS_AUTH_URL/OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME")
    if state.profile_name != profile.name:
        raise CertkitError(f"the manila lab in {root} runs profile {state.profile_name}, not "
                           f"{profile.name}: `certkit lab down manila` and bring it up for this one")
    return ApiTarget(state.auth_url, "admin", state.passwords["admin"], "admin",
                     backend=state.backend, dhss=state.dhss, restarter=functools.partial(restart_services, root),
                     origin=f"the manila lab in {root} (DHSS={state.dhss}, {state.db})",
                     database=state.db, manila_version=metadata.version("manila"))
