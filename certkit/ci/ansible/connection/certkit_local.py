"""A local connection whose commands run in the node's work directory, as on a Zuul node.

On a Zuul node, tasks run in the login directory, which is the job's work directory, so
playbooks use relative paths like `chdir: "{{ zuul.project.src_dir }}"`. Ansible's own local
connection runs commands in the playbook's directory instead (ActionBase sets connection.cwd
when transport == 'local'); this one keeps the ansible-playbook process's directory, which
certkit's executor sets to the work root.
"""

from __future__ import annotations

from ansible.plugins.connection import local

DOCUMENTATION = local.DOCUMENTATION.replace("name: local", "name: certkit_local", 1)


class Connection(local.Connection):
    """ansible's local connection, with the work root as the working directory."""

    transport = "certkit_local"
