"""`certkit replay FILE --profile P`: re-run an exploration's counterexample, step by step,
against a profile's driver (a vendor's fix is proven by the same file)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from certkit.commands.explore_options import TIERS
from certkit.errors import CertkitError
from certkit.profile import load_profile

EXIT_PASSED, EXIT_REPRODUCED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay", help="re-run an exploration counterexample (a replay file) against a driver",
        description="Apply the steps of a replay file (written by `certkit run --suite explore` "
                    "when it finds a divergence) to the profile's driver, observing after each "
                    "step as the exploration did. Everything created is deleted afterwards. "
                    "Exit status: 0 every step matched the model, 1 the divergence is reproduced, "
                    "2 unusable input or a harness error, 130 interrupted.")
    parser.add_argument("file", help="replay file (JSON), e.g. reports/explore-counterexample.json")
    parser.add_argument("--profile", required=True, help="driver profile (YAML)")
    parser.add_argument("--explore-tier", choices=TIERS, default="driver", metavar="{driver,api}",
                        help="driver: the driver in-process (default); api: through the Manila "
                             "API target (`certkit lab up manila`, or an OS_* cloud), as "
                             "`certkit run --suite explore --explore-tier api` explored it")
    parser.set_defaults(func=replay_command)


def replay_command(args: argparse.Namespace) -> int:
    """Replay; the exit status says whether the divergence is still there."""
    from certkit.explore.steps import read_replay, step_list

    steps, data = read_replay(args.file)
    profile = load_profile(args.profile)
    target = None
    if args.explore_tier == "api":  # which Manila, or a one-line error, before anything runs
        from certkit.livestack.targets import resolve_api_target

        from certkit.apitier.target import check_reachable

        target = resolve_api_target(profile, os.environ)
        check_reachable(target)
    print(f"certkit: replaying {len(steps)} step(s) of {args.file} against {profile.name} "
          f"({profile.driver})", file=sys.stderr)
    if data.get("failure"):
        print(f"recorded divergence: {data['failure']}", file=sys.stderr)
    try:
        outcome, leaks = _replay_live(profile, steps, target) if target else _replay(profile, steps)
    except CertkitError as exc:
        raise CertkitError(profile.redact(str(exc))) from None
    for leak in leaks:
        print(f"LEAKED: {profile.redact(leak)}")
    if outcome == "interrupted":
        done = (f"{len(leaks)} object(s) it created could not be deleted (LEAKED above)" if leaks
                else "what the replay created was deleted")
        print(f"certkit: interrupted ({done})", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome is None:
        print(f"passed: all {len(steps)} step(s) matched the model")
        return EXIT_ERROR if leaks else EXIT_PASSED
    number, error = outcome
    from certkit.explore.executor import describe

    print(step_list(steps[:number]))
    print(f"reproduced: step {number} ({steps[number - 1]}) diverged: {profile.redact(describe(error))}")
    return EXIT_REPRODUCED


def _replay(profile: Any, steps: list) -> tuple[Any, list]:
    """(None | (step number, error) | 'interrupted', leaks)."""
    from manila import context as manila_context

    from certkit.clienthost import ClientHost
    from certkit.datapath import Mounter
    from certkit.explore.binding import can_observe_data, executor_factory, explored_access, pool_of
    from certkit.explore.exploration import replay
    from certkit.runner import interrupts
    from certkit.session import CertificationRun, DriverUnavailable

    if explored_access(profile) is None:
        raise CertkitError(f"{profile.path}: protocols/access_types: the profile claims no access "
                           "type: nothing to replay")
    run = CertificationRun(profile, progress=lambda line: print(line, file=sys.stderr, flush=True))
    mounter = host = None
    outcome: Any = None
    with interrupts(run):
        try:
            try:
                dut = run.driver()
            except DriverUnavailable as exc:
                raise CertkitError(str(exc)) from None
            context = manila_context.get_admin_context()
            models = run.model_factory(pool_of(profile, dut.driver))
            if can_observe_data(profile):
                host = ClientHost.from_profile(profile.client_hosts[0]).connect()
                mounter = Mounter(host, None, run.run_id)
            executor = executor_factory(run, dut, context, models, mounter)()
            try:
                outcome = replay(steps, executor, progress=run.progress)
            finally:
                executor.cleanup()
        except KeyboardInterrupt:
            run.interrupted = True
            outcome = "interrupted"
        finally:
            run.finish_cleanup()
            if mounter is not None:
                mounter.close()
            if host is not None:
                host.close()
    return outcome, [f"{leak.kind} {leak.name}: {leak.error}" for leak in run.ledger.leaks]


def _replay_live(profile: Any, steps: list, target: Any) -> tuple[Any, list]:
    """The replay through Manila's API (the live tier): (outcome, what could not be deleted)."""
    from certkit.explore.exploration import replay
    from certkit.explore.live import LiveSession
    from certkit.runner import interrupts
    from certkit.session import CertificationRun

    run = CertificationRun(profile, progress=lambda line: print(line, file=sys.stderr, flush=True))
    session = LiveSession(profile, target, run.run_id)
    outcome: Any = None
    with interrupts(run):
        try:
            with session:
                outcome = replay(steps, session.new_executor(), progress=run.progress)
        except KeyboardInterrupt:
            outcome = "interrupted"
    return outcome, [left.line() for left in session.leftovers]
