"""Write Zuul's job-output.json entry for one playbook (zuul/ansible/base/callback/zuul_json.py).

One ansible-playbook run writes {playbook, phase, trusted, plays: [{play: {name, id, duration},
tasks: [{task: {name, id, duration}, hosts: {host: result}}]}], stats} to
$CERTKIT_ZUUL_JSON; the executor joins the entries into job-output.json.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: zuul_json
    type: notification
    short_description: Zuul's job-output.json for certkit's executor
    description: Records plays, tasks and per-host results like Zuul's zuul_json callback.
"""


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "zuul_json"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display)
        self.plays = []
        self.playbook = None

    def v2_playbook_on_start(self, playbook):
        self.playbook = playbook._file_name

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name(), "id": str(play._uuid),
                                    "duration": {"start": _now()}}, "tasks": []})

    def _task_start(self, task):
        if not self.plays:
            return
        self.plays[-1]["tasks"].append({"task": {"name": task.get_name(), "id": str(task._uuid),
                                                 "duration": {"start": _now()}}, "hosts": {}})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _result(self, result, **extra):
        if not self.plays or not self.plays[-1]["tasks"]:
            return
        entry = self.plays[-1]["tasks"][-1]
        data = dict(result._result)
        data.pop("invocation", None)
        data.update(extra)
        entry["hosts"][result._host.get_name()] = data
        entry["task"]["duration"]["end"] = _now()

    def v2_runner_on_ok(self, result, **kwargs):
        self._result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, failed=True, ignore_errors=ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._result(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        self._result(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        for play in self.plays:
            play["play"]["duration"]["end"] = _now()
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        target = os.environ.get("CERTKIT_ZUUL_JSON")
        if not target:
            return
        entry = {"playbook": self.playbook, "plays": self.plays,
                 "stats": {h: {"ok": s["ok"], "changed": s["changed"], "failures": s["failures"],
                               "skipped": s["skipped"], "unreachable": s["unreachable"]}
                           for h, s in summary.items()}}
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(entry, handle, default=str)
