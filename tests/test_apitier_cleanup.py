"""The live tier's clean-up without a lab: a share the driver cannot delete (`error_deleting`,
e.g. GlusterFS's update_access TypeError) is reported at once, the rest still deleted."""

from __future__ import annotations

from tempest.lib import exceptions as lib_exc

from certkit.apitier.client import ManilaClient


class _Manila(ManilaClient):
    """A client whose Manila is a dict of share statuses: a DELETE moves a share to `deleting`,
    and a share listed in `stuck` then ends in `error_deleting`, the others vanish."""

    def __init__(self, stuck: set[str]) -> None:  # no Keystone: nothing of RestClient is used
        self.build_timeout, self.build_interval = 30, 0.01
        self.stuck, self.statuses, self.reads = stuck, {}, 0
        self.created, self.undeleted = [], []
        import threading
        self._lock = threading.Lock()

    def delete(self, url, *args, **kwargs):
        share_id = url.rsplit("/", 1)[1]
        self.statuses[share_id] = "error_deleting" if share_id in self.stuck else None
        return None, b""

    def replicas(self, share_id):
        return []

    def show_share(self, share_id):
        self.reads += 1
        status = self.statuses.get(share_id, "available")
        if status is None:
            raise lib_exc.NotFound(share_id)
        return {"id": share_id, "status": status}


def test_a_share_stuck_in_error_deleting_is_reported_at_once_and_the_rest_deleted():
    client = _Manila({"s2"})
    client.created = [("share", "s1"), ("share", "s2"), ("share", "s3")]
    problems = client.cleanup()
    assert problems == ["share s2: WaitTimeout: share s2 -> deleted: ended in error_deleting"]
    assert client.undeleted == [("share", "s2", "WaitTimeout: share s2 -> deleted: ended in error_deleting")]
    assert client.statuses == {"s1": None, "s2": "error_deleting", "s3": None}
    assert client.reads <= 3, "it polled a share that can no longer go away"
