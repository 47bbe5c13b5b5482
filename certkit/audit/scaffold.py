"""`certkit profile init`: a starting profile written from the static audit of a driver class."""

from __future__ import annotations

import inspect
import re
from typing import Any

import yaml

from certkit.audit.backends import Backend, backends_of
from certkit.audit.class_audit import NO_IMPORT, NOT_IMPLEMENTED, audit_backend
from certkit.audit.discover import class_path
from certkit.audit.factory import FactoryChoice
from certkit.audit.static_source import registered_options
from certkit.text import one_line
from certkit.catalogue import FEATURES

PROTOCOLS = ("NFS", "CIFS", "GLUSTERFS", "HDFS", "CEPHFS", "MAPRFS", "LUSTRE", "WEKAFS")
# The access type each protocol usually takes in Manila (a guess for the vendor to confirm).
USUAL_ACCESS = {"NFS": "ip", "CIFS": "user", "GLUSTERFS": "cert", "HDFS": "user",
                "CEPHFS": "cephx", "MAPRFS": "user", "LUSTRE": "ip", "WEKAFS": "ip"}
_GENERIC_PARTS = {"manila", "share", "drivers", "driver"}
# Vendor names of the in-tree driver packages (manila.share.drivers.<package>).
VENDORS = {
    "cephfs": "Ceph", "container": "OpenStack Manila (container reference driver)",
    "dell_emc": "Dell EMC", "generic": "OpenStack Manila (generic reference driver)",
    "glusterfs": "Gluster", "hdfs": "Apache Hadoop", "hitachi": "Hitachi Vantara", "hpe": "HPE",
    "huawei": "Huawei", "ibm": "IBM", "infinidat": "Infinidat", "infortrend": "Infortrend",
    "inspur": "Inspur", "lustre": "Lustre (DDN)", "lvm": "OpenStack Manila (LVM reference driver)",
    "macrosan": "MacroSAN", "maprfs": "MapR (HPE)", "netapp": "NetApp", "nexenta": "Nexenta",
    "purestorage": "Pure Storage", "qnap": "QNAP", "quobyte": "Quobyte", "tegile": "Tegile",
    "vastdata": "VAST Data", "veritas": "Veritas", "weka": "WEKA",
    "windows": "Microsoft (Windows SMB)", "zadara": "Zadara",
    "zfsonlinux": "OpenZFS (ZFS on Linux reference driver)", "zfssa": "Oracle (ZFS Storage Appliance)",
}


def profile_name(cls: type, backend: Backend | None = None) -> str:
    """A name from the module path, e.g. manila.share.drivers.zfsonlinux.driver -> zfsonlinux;
    a delegating driver's back end adds its choice (dell-emc-unity)."""
    parts = [p for p in cls.__module__.split(".") if p not in _GENERIC_PARTS]
    if backend is not None and backend.config:
        choice = str(next(iter(backend.config.values()))).rsplit(".", 1)[-1]
        parts.append(re.sub(r"(?<!^)(?=[A-Z])", "-", choice.removeprefix("Glusterfs")).lower())
    name = "-".join(dict.fromkeys(p.replace("_", "-") for p in parts)) or cls.__name__.lower()
    return re.sub(r"[^A-Za-z0-9._-]", "-", name)[:64]


def guess_protocols(cls: type, stats: dict[str, Any]) -> tuple[list[str], bool]:
    """(protocols, certain): from a hard-coded storage_protocol, else from the source text."""
    reported = stats.get("storage_protocol")
    if isinstance(reported, str):
        found = [p for p in reported.upper().split("_") if p in PROTOCOLS]
        if found:
            return found, True
    try:
        source = inspect.getsource(inspect.getmodule(cls))
    except (OSError, TypeError):
        source = ""
    found = [p for p in PROTOCOLS if re.search(rf"['\"]{p}['\"]", source, re.IGNORECASE)]
    return (found or ["NFS"]), False


def _comment_block(text: str, indent: str = "  # ") -> str:
    return "\n".join(indent + line if line else indent.rstrip() for line in text.splitlines())


def render_profile(cls: type, name: str | None = None, backend: Backend | None = None,
                   factory: FactoryChoice | None = None) -> str:
    """YAML text of a starting profile for one back end of the class (its first, unless given);
    every inference is marked for the vendor to confirm. When a driver factory built `cls`, the
    options it chose by go into `config` and the notes say so."""
    rows = [b for b in backends_of(cls) if isinstance(b, Backend)]
    backend = backend or (rows[0] if rows else Backend(cls))
    audit = audit_backend(backend)
    name = name or profile_name(cls, backend)
    protocols, certain = guess_protocols(cls, audit.stats_claims)
    modes = audit.dhss_modes
    if factory is not None and isinstance(factory.options.get("driver_handles_share_servers"), bool):
        modes = (factory.options["driver_handles_share_servers"],)  # the mode the factory built
    features = [f.id for f in FEATURES
                if not f.derived and f.methods and audit.features[f.id] not in (NOT_IMPLEMENTED, NO_IMPORT)
                and (f.dhss is not True or (modes and True in modes))]
    replication = audit.stats_claims.get("replication_type")
    if isinstance(replication, (str, list)):
        kinds = {replication} if isinstance(replication, str) else set(replication)
        features = [f for f in features
                    if not f.startswith("replication_") or f.removeprefix("replication_") in kinds]
    package = cls.__module__.split(".")[3] if cls.__module__.startswith("manila.share.drivers.") \
        else cls.__module__.split(".")[0]
    vendor = VENDORS.get(package, package)
    data = {
        "name": name,
        "description": f"Starting profile for {backend.path}, written by `certkit profile init`.",
        "vendor": vendor,
        "driver": class_path(cls),
        "driver_handles_share_servers": (list(modes) if modes and len(modes) > 1 else
                                         (modes[0] if modes else False)),
        "protocols": protocols,
        "access_types": {p: [USUAL_ACCESS[p]] for p in protocols},
        "access_levels": ["rw", "ro"],
        "config": {"share_backend_name": name,
                   **{k: v for k, v in backend.config.items() if "/" not in k},
                   **({k: str(v) for k, v in factory.options.items()
                       if v is not None and k != "driver_handles_share_servers"}
                      if factory else {})},
        "features": features,
        "maintainers": [],
        "ci": {},
    }
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
    notes = [
        f"# certkit profile for {backend.path}.",
        *([f"# manila.conf names the factory {factory.factory} (share_driver); with these options",
           f"# it builds {factory.resolved_path}: certkit audits and runs that class."]
          if factory else []),
        "# Written by `certkit profile init` from a static audit: CONFIRM every inferred value.",
        f"# - driver_handles_share_servers: {'declared by the constructor' if modes else 'NOT declared literally; check the driver'}",
        f"# - protocols/access_types: {'from the stats it reports' if certain else 'GUESSED from the source text'}",
        "# - features: the methods the class redefines; claim only what your back end really does",
        "# - access_levels: rw and ro assumed",
        "# Secrets: write `${ENV_VAR}` in config, never the value (certkit redacts them in reports).",
        "",
    ]
    return "\n".join(notes) + text + _options_comment(cls)


def _options_comment(cls: type) -> str:
    """The driver's oslo.config options as commented `config:` entries (help text and default)."""
    options = registered_options(cls)
    if not options:
        return ("# The driver registers no module-level options certkit could find; see its docs\n"
                "# for the manila.conf options to put under `config:`.\n")
    lines = ["# Options this driver registers (put the ones you need under `config:`):"]
    for opt in sorted(options, key=lambda o: o.dest):
        help_text = one_line(opt.help or "", 150)
        value = f"${{{opt.dest.upper()}}}" if getattr(opt, "secret", False) else _default(opt.default)
        lines.append(f"#   {opt.dest}: {value}")
        if help_text:
            lines.append(f"#     {help_text}")
    return "\n".join(lines) + "\n"


def _default(value: Any) -> str:
    if value is None:
        return "(no default)"
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
