"""The files Zuul reads: zuul.conf (0600: the keystore password), the tenant (main.yaml), the
config project and certkit's mirror as git repositories, the site variables, the static node.

Only zuul.conf, the node list and the site variables are the lab's own; the tenant and the
config project's pipelines, base job and project stanza are the vendor recipe's blocks."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import yaml

from certkit.lab.commands import run
from certkit.lab.processes import LabError
from certkit.zuullab.state import ZuulLabState
from certkit.zuullab.tls import TLSFiles

GIT_CONNECTION = "git"
NODE_LABEL = "debian-bookworm"


def zuul_conf(lab: Path, state: ZuulLabState, tls: TLSFiles, node_key: Path, venv: Path) -> str:
    """zuul.conf for every component of the lab."""
    g = state.gerrit
    run_dir = lab / "run"
    sections = {
        "zookeeper": {"hosts": f"127.0.0.1:{state.ports['zookeeper']}", "tls_cert": tls.client_cert,
                      "tls_key": tls.client_key, "tls_ca": tls.ca, "session_timeout": 40},
        "keystore": {"password": state.keystore_password},
        "database": {"dburi": f"sqlite:///{lab / 'zuul.sqlite'}"},
        "scheduler": {"tenant_config": lab / "etc" / "main.yaml",
                      "command_socket": run_dir / "scheduler.socket"},
        "web": {"listen_address": "127.0.0.1", "port": state.ports["web"],
                "root": state.web_url + "/", "command_socket": run_dir / "web.socket"},
        "executor": {
            # git_dir: Zuul's default is /var/lib/zuul/executor-git, outside the lab: `down`
            # left it behind, and two labs side by side shared it, each rewriting the other's
            # `origin` to its own Gerrit ("Host key verification failed" on the next fetch).
            "state_dir": lab / "executor", "git_dir": lab / "executor-git", "job_dir": state.job_dir,
            "private_key_file": node_key, "default_username": "root",
            "finger_port": state.ports["finger"], "command_socket": run_dir / "executor.socket",
            "variables": lab / "etc" / "site-variables.yaml",
            "trusted_rw_paths": lab / "build-logs",
            # A shared 2-core machine: Zuul's governors would refuse every build under load.
            "load_multiplier": 100, "min_avail_mem": 0, "min_avail_hdd": 0,
            "manage_ansible": "false", "ansible_root": venv / "ansible",
            **interpreter_paths(venv)},
        "merger": {"git_dir": lab / "merger-git", "git_user_email": "zuul@certkit.lab",
                   "git_user_name": "Zuul", "command_socket": run_dir / "merger.socket"},
        "launcher": {"command_socket": run_dir / "launcher.socket", "temp_dir": lab / "launcher"},
        "connection gerrit": {"driver": "gerrit", "server": g.host, "port": g.port, "user": g.user,
                              "sshkey": g.key_file, "canonical_hostname": g.canonical_hostname,
                              "baseurl": f"https://{g.canonical_hostname}"},
        f"connection {GIT_CONNECTION}": {"driver": "git", "baseurl": f"file://{lab / 'git'}",
                                         "canonical_hostname": "git.certkit.lab"},
        "connection static": {"driver": "static"},
    }
    lines = [f"# certkit lab: Zuul (venv {venv}); written by `certkit lab up zuul`."]
    for name, values in sections.items():
        lines.append(f"\n[{name}]")
        lines.extend(f"{key}={value}" for key, value in values.items())
    return "\n".join(lines) + "\n"


def interpreter_paths(venv: Path) -> dict[str, str]:
    """Bubblewrap shows a build only /usr, /lib, /bin, /sbin and Zuul's own directories: when
    the venvs' base Python lives elsewhere (pyenv under /root here), Ansible's interpreter must
    be bound in read-only for trusted and untrusted playbooks alike."""
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.base_prefix)"],
                          capture_output=True, text=True, timeout=60)
    prefix = proc.stdout.strip()
    if proc.returncode != 0 or not prefix or prefix.startswith("/usr"):
        return {}
    return {"trusted_ro_paths": prefix, "untrusted_ro_paths": prefix}


def nodes_yaml(node_ip: str, host_key: str, ports: Sequence[int] = (22,)) -> str:
    """The lab's static provider (the recipe's last block, with the node's address and key):
    one node for each sshd port of the address (Zuul tells registrations of one host apart by
    name, port and user)."""
    return yaml.safe_dump([
        {"image": {"name": NODE_LABEL, "type": "cloud"}},
        {"flavor": {"name": "static"}},
        {"label": {"name": NODE_LABEL, "image": NODE_LABEL, "flavor": "static"}},
        {"section": {"name": "static-nodes", "connection": "static", "images": [NODE_LABEL],
                     "flavors": ["static"]}},
        {"provider": {"name": "certkit-lab", "section": "static-nodes",
                      "images": [{"name": NODE_LABEL}], "labels": [{"name": NODE_LABEL}],
                      "nodes": [{"name": node_ip, "label": NODE_LABEL, "username": "root",
                                 **({"connection-port": port} if port != 22 else {}),
                                 "host-key": host_key} for port in ports]}},
    ], sort_keys=False)


def site_variables(lab: Path, logs_url: str, pypi_mirror: str) -> str:
    """Site variables every job sees: where the base job publishes logs and the package mirror
    it points the node's pip at (OpenDev's `zuul_site_mirror_fqdn`, as a whole URL)."""
    return yaml.safe_dump({"site_logs": {"path": str(lab / "build-logs"), "url": logs_url},
                           "site_mirror": {"pypi": pypi_mirror}})


def write_repo(bare: Path, files: dict[str, str], message: str) -> str:
    """A bare repository whose master holds exactly `files` (one new commit); its sha."""
    work = bare.with_name(bare.name + ".work")
    if not (bare / "HEAD").exists():
        run(["git", "init", "-q", "--bare", "-b", "master", str(bare)], f"create {bare.name}")
    if work.exists():
        subprocess.run(["rm", "-rf", str(work)], check=True)
    run(["git", "init", "-q", "-b", "master", str(work)], f"create {work.name}")
    for rel, text in files.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(work, "add", "-A")
    _git(work, "-c", "user.name=certkit lab", "-c", "user.email=lab@certkit.lab", "commit", "-q",
         "-m", message)
    _git(work, "push", "-q", "-f", str(bare), "HEAD:refs/heads/master")
    sha = _git(work, "rev-parse", "HEAD").strip()
    subprocess.run(["rm", "-rf", str(work)], check=True)
    return sha


def mirror_source_tree(source: Path, bare: Path) -> str:
    """certkit's source tree as the lab's `certkit` repository: its working tree (uncommitted
    edits of tracked files included, via `git stash create`) pushed to master; the sha."""
    if not (bare / "HEAD").exists():
        run(["git", "init", "-q", "--bare", "-b", "master", str(bare)], "create the certkit mirror")
    snapshot = _git(source, "stash", "create").strip() or _git(source, "rev-parse", "HEAD").strip()
    _git(source, "push", "-q", "-f", str(bare), f"{snapshot}:refs/heads/master")
    return snapshot


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise LabError(f"git {args[0]} in {cwd}: {detail}")
    return proc.stdout
