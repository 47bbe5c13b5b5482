"""The `manila` entry of `certkit lab`: up (needs --profile), down, status, env."""

from __future__ import annotations

import argparse
import os

from certkit.errors import CertkitError


def parse_dhss(value: str | None) -> bool | None:
    """`--dhss true|false` (None: the profile's first mode); a one-line error otherwise."""
    if value is None:
        return None
    word = value.strip().lower()
    if word not in ("true", "false"):
        raise CertkitError(f"lab up manila: --dhss: {value!r} is not true or false")
    return word == "true"


def lab_manila(args: argparse.Namespace) -> int:
    """Dispatch `certkit lab ACTION manila`."""
    from certkit.livestack import stack
    from certkit.livestack.state import lab_dir, load_state

    for option in ("dhss", "db"):
        if args.action != "up" and getattr(args, option, None) is not None:
            raise CertkitError(f"lab {args.action} manila: --{option} goes with `up` only")
    if args.action == "up":
        if not args.profile:
            raise CertkitError("lab up manila: --profile PROFILE is required")
        from certkit.lab.base import failure_line
        from certkit.lab.interrupt import guarded_up
        from certkit.lab.processes import TAG_ENV
        from certkit.livestack.database import check_kind
        from certkit.profile import load_profile

        dhss = parse_dhss(getattr(args, "dhss", None))
        db = check_kind(args.db) if getattr(args, "db", None) else None
        profile = load_profile(args.profile)
        stack.lab_mode(profile, dhss)  # a mode the profile does not list: before anything starts
        # Every command `up` runs carries the lab's tag: one left running by a killed `up` is
        # found and stopped by the next `up` or `down`.
        os.environ[TAG_ENV] = str(lab_dir())
        try:
            return guarded_up("manila", lab_dir(), lambda: stack.up(profile, dhss=dhss, db=db),
                              stack.down) or 0
        except CertkitError as exc:
            raise CertkitError(failure_line("manila", exc, recovers=True)) from None
    if args.action == "down":
        stack.down()
        return 0
    if args.action == "env":
        state = load_state(lab_dir())
        if state is None:
            raise CertkitError("lab manila is not up")
        print(f"CERTKIT_MANILA_LAB_DIR={lab_dir()}")
        print(f"OS_AUTH_URL={state.auth_url}")
        print(f"CERTKIT_MANILA_URL={state.manila_url}")
        return 0
    return 0 if stack.status() else 1
