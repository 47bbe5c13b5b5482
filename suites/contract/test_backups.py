"""Driver-assisted share backups."""

from __future__ import annotations

from certkit.contract.backups import Backups
from certkit.contract.checks import check


@check("1a2b3c4d-5e6f-4a7b-8c8d-9e0f1a2b3c21", "backup")
def test_backup_create_restore_delete(resources, profile):
    """create_backup + create_backup_continue to '100', restore_backup + restore_backup_continue
    to '100', delete_backup."""
    backups = Backups(resources)
    share = resources.create_share(profile.protocols[0])
    backup = backups.create(share)
    backups.restore(backup, share)
    backups.delete(backup, share)
