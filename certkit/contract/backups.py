"""Driver-assisted share backups: created, restored and deleted through the driver, recorded in
the ledger first; progress is polled until the STRING '100' the share manager waits for."""

from __future__ import annotations

from typing import Any, Callable

from certkit.contract.checks import ContractViolation, expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model
from certkit.waiting import poll_until


class Backups:
    """Backups of one check's shares."""

    def __init__(self, res: Resources) -> None:
        self.res = res

    def _until_complete(self, call: Callable[[], Any], what: str) -> None:
        def probe() -> Any:
            result = call()
            expect_schema(result, "backup_progress.schema.json", what)
            return result

        poll_until(probe, lambda r: (r or {}).get("total_progress") == "100",
                   timeout=self.res.poll_timeout, what=f"{what} to report total_progress '100'",
                   interval=0.05, max_interval=0.5, error=ContractViolation)

    def create(self, share: Model) -> Model:
        """create_backup, then create_backup_continue until '100'."""
        res = self.res
        backup_id = res.models.new_id()
        backup = Model(id=backup_id, share_id=share["share_id"], share_instance_id=share["id"],
                       name=f"backup-{backup_id}", display_name=res.models.display_name("backup"),
                       status="creating", size=share["size"], host=share["host"],
                       availability_zone="nova", project_id=res.models.project_id,
                       backup_options={}, backup_type=None, restore_progress="0", progress="0")
        server = res.share_server
        res.track("backup", backup_id, backup["name"],
                  lambda: res.driver.delete_backup(res.context, backup, share, share_server=server))
        res.driver.create_backup(res.context, share, backup, share_server=server)
        self._until_complete(lambda: res.driver.create_backup_continue(
            res.context, share, backup, share_server=server), "create_backup_continue()")
        return backup

    def restore(self, backup: Model, share: Model) -> None:
        """restore_backup, then restore_backup_continue until '100'."""
        res = self.res
        server = res.share_server
        res.driver.restore_backup(res.context, backup, share, share_server=server)
        self._until_complete(lambda: res.driver.restore_backup_continue(
            res.context, backup, share, share_server=server), "restore_backup_continue()")

    def delete(self, backup: Model, share: Model) -> None:
        """delete_backup."""
        res = self.res
        res.driver.delete_backup(res.context, backup, share, share_server=res.share_server)
        res.release(backup["id"])
