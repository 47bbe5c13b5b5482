"""Driver-assisted share backups."""

from __future__ import annotations

import time

from certkit.contract.checks import ContractViolation, check, expect_schema
from certkit.harness.models import Model


def _poll(call, what: str, timeout: float) -> None:
    """Poll a *_continue call until it reports the STRING '100' (what the manager waits for)."""
    deadline = time.monotonic() + timeout
    while True:
        result = call()
        expect_schema(result, "backup_progress.schema.json", what)
        if (result or {}).get("total_progress") == "100":
            return
        if time.monotonic() > deadline:
            raise ContractViolation(f"{what} did not reach total_progress '100' in {timeout:g} s "
                                    f"(last: {result!r})")
        time.sleep(0.05)


@check("f28e57a5-30bd-4611-9ba3-1969e94b521b", "backup")
def test_backup_create_restore_delete(resources, profile):
    """create_backup + create_backup_continue to '100', restore_backup + restore_backup_continue
    to '100', delete_backup."""
    res = resources
    share = res.create_share(profile.protocols[0])
    backup_id = res.models.new_id()
    backup = Model(id=backup_id, share_id=share["share_id"], share_instance_id=share["id"],
                   name=f"backup-{backup_id}", display_name=res.models.display_name("backup"),
                   status="creating", size=share["size"], host=share["host"],
                   availability_zone="nova", project_id=res.models.project_id,
                   backup_options={}, backup_type=None, restore_progress="0", progress="0")
    server = res.share_server
    entry = res.ledger.track("backup", backup_id, backup["name"],
                             lambda: res.driver.delete_backup(res.context, backup, share,
                                                              share_server=server))
    res.entries.append(entry)
    res.driver.create_backup(res.context, share, backup, share_server=server)
    _poll(lambda: res.driver.create_backup_continue(res.context, share, backup, share_server=server),
          "create_backup_continue()", res.poll_timeout)
    res.driver.restore_backup(res.context, backup, share, share_server=server)
    _poll(lambda: res.driver.restore_backup_continue(res.context, backup, share, share_server=server),
          "restore_backup_continue()", res.poll_timeout)
    res.driver.delete_backup(res.context, backup, share, share_server=server)
    res.release(backup_id)
