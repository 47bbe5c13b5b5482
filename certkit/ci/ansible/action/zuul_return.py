"""zuul_return for certkit's local executor: Zuul's action of the same name, same arguments.

Merges `data` (or the JSON/YAML `file`) into $ZUUL_JOBDIR/work/results.json, as Zuul's
executor-side action does; certkit's executor reads it after the job.
"""

from __future__ import annotations

import fcntl
import json
import os

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase


def _merge(base, override):
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class ActionModule(ActionBase):
    """Return data to Zuul (here: to certkit's executor)."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        data = self._task.args.get("data")
        source = self._task.args.get("file")
        if source:
            import yaml

            with open(source, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        if not isinstance(data, dict):
            raise AnsibleError("zuul_return: 'data' (or the file) must be a mapping")
        jobdir = os.environ.get("ZUUL_JOBDIR")
        if not jobdir:
            raise AnsibleError("zuul_return: ZUUL_JOBDIR is not set (not run by an executor)")
        path = os.path.join(jobdir, "work", "results.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            text = handle.read()
            current = json.loads(text) if text.strip() else {}
            merged = _merge(current.get("data", {}), data)
            handle.seek(0)
            handle.truncate()
            json.dump({"data": merged}, handle)
        result["changed"] = False
        result["data"] = data
        return result
