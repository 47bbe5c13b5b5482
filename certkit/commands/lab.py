"""`certkit lab up|down|status|env [KIND]`: a real back end and a client host on this machine."""

from __future__ import annotations

import argparse

from certkit.lab.base import Lab, failure_line
from certkit.lab.cephfs import CephFSLab
from certkit.lab.glusterfs import GlusterFSLab
from certkit.lab.interrupt import guarded_up
from certkit.lab.processes import LabError

#: Lab kinds by name; a new kind subclasses certkit.lab.base.Lab and adds one entry here.
LABS: dict[str, type[Lab]] = {
    "cephfs": CephFSLab,
    "glusterfs": GlusterFSLab,
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lab", help="bring a back-end lab (Ceph or Gluster, + client host) up or down")
    parser.add_argument("action", choices=("up", "down", "status", "env"))
    parser.add_argument("lab", nargs="?", default="cephfs", choices=sorted([*LABS, "manila", "zuul"]))
    parser.add_argument("--profile", help="manila lab: the driver profile to run Manila for")
    parser.add_argument("--dhss", metavar="true|false",
                        help="manila lab: driver_handles_share_servers mode to run (one the "
                             "profile lists; default its first)")
    parser.add_argument("--gerrit", metavar="ssh://USER@HOST:PORT",
                        help="zuul lab: the Gerrit Zuul connects to (SSH)")
    parser.add_argument("--gerrit-key", metavar="FILE", help="zuul lab: the Gerrit account's SSH key")
    parser.add_argument("--db", metavar="mariadb|postgresql",
                        help="manila lab: the database server (default mariadb, as in Manila's "
                             "gate; kept until `down`)")
    parser.set_defaults(func=lab_command)


def lab_command(args: argparse.Namespace) -> int:
    """Exit 0 on success; status exits 1 when the lab is not healthy."""
    if args.lab == "manila":  # the live Manila tier (certkit.livestack)
        from certkit.livestack.command import lab_manila

        return lab_manila(args)
    if args.lab == "zuul":  # a real Zuul (certkit.zuullab), pointed at the Gerrit given
        from certkit.zuullab.command import gerrit_target
        from certkit.zuullab.lab import ZuulLab

        lab: Lab = ZuulLab(gerrit=gerrit_target(args.gerrit, args.gerrit_key))
    else:
        lab = LABS[args.lab]()
    if args.action in ("up", "down"):
        reason = lab.can_run()
        if reason:
            raise LabError(reason)
    if args.action == "up":
        try:
            return guarded_up(args.lab, lab.dir, lab.up, lab.down) or 0
        except LabError as exc:
            raise LabError(failure_line(args.lab, exc, lab.recovers)) from None
    elif args.action == "down":
        lab.down()
    elif args.action == "env":
        for key, value in lab.env().items():
            print(f"{key}={value}")
    else:
        return 0 if lab.status() else 1
    return 0
