"""Driver-assisted share backups."""

from __future__ import annotations

from certkit.contract.backups import Backups
from certkit.contract.checks import check


@check("f28e57a5-30bd-4611-9ba3-1969e94b521b", "backup")
def test_backup_create_restore_delete(resources, profile):
    """create_backup + create_backup_continue to '100', restore_backup + restore_backup_continue
    to '100', delete_backup."""
    backups = Backups(resources)
    share = resources.create_share(profile.protocols[0])
    backup = backups.create(share)
    backups.restore(backup, share)
    backups.delete(backup, share)
