"""The data path of shares made through the real Manila API, from the lab's client host.

manila-tempest-plugin's scenario tests boot Nova instances to mount shares; without Nova these
checks do the same from a client host: create through the API, grant, wait for `active`, mount
with the export location and key the API returned, and do I/O (every write read back). A rule
`active` in the API proves nothing about the client; these checks do.
"""

from __future__ import annotations

from certkit.contract.checks import check, expect

from ..datapath.helpers import GIB, can_access, mount, payload, put, write_via
from .helpers import new_share
from .mounting import as_mounted, denied, first_mountable, granted, identity, mountable


@check("7561b86f-b8f1-418e-ab15-5861b8a93846", "access_{access_type}")
def test_api_rules_let_the_client_in_and_keep_shares_apart(api_mounter, api, profile, proto,
                                                          access_type):
    """Two shares, each with its own rw rule through the API: the client mounts each with what
    the API returned, writes and reads back; neither share shows the other's file, and one
    share's cephx identity cannot mount the other share."""
    mountable(proto)
    shares, rules, mounts, data = [], [], [], []
    for n in (1, 2):
        share = as_mounted(api, new_share(api, profile, proto))
        rule, key = granted(api, share["id"], access_type, identity(api_mounter, access_type, n))
        mnt = mount(api_mounter, share, rule, key)
        data.append(payload(f"share-{n}"))
        put(api_mounter, f"{mnt}/file-{n}", data[-1], f"share {n} of 2 (rule active in the API)")
        shares.append(share), rules.append((rule, key)), mounts.append(mnt)
    expect(api_mounter.read(f"{mounts[1]}/file-1") is None,
           "the first share's file is visible in the second share")
    expect(api_mounter.read(f"{mounts[0]}/file-1") == data[0],
           "the first share's file changed after the second share was written")
    for mnt in reversed(mounts):
        api_mounter.unmount(mnt)
    if access_type == "cephx":
        expect(not can_access(api_mounter, shares[1], *rules[0]),
               "the first share's cephx identity could mount and write the second share")


@check("9ff1e11d-82f9-445d-976a-4840285ab086", "access_ro")
def test_api_ro_rule_reads_and_cannot_write(api_mounter, api, profile, proto, access_type):
    """A ro rule through the API: the client reads what a rw rule wrote, and its writes fail."""
    mountable(proto)
    share = as_mounted(api, new_share(api, profile, proto))
    writer, writer_key = granted(api, share["id"], access_type, identity(api_mounter, access_type, 3))
    data = payload("for-the-reader")
    write_via(api_mounter, share, writer, writer_key, "shared", data, "the rw rule")
    if access_type == "ip":  # one client address: one rule at a time
        denied(api, share["id"], writer)
    reader, reader_key = granted(api, share["id"], access_type,
                                 identity(api_mounter, access_type, 4), "ro")
    mnt = mount(api_mounter, share, reader, reader_key)
    seen, refused = api_mounter.read_only_probe(mnt, "shared")
    expect(seen == data, f"the ro rule could not read what the rw rule wrote (read {seen!r:.60})")
    expect(refused, "a ro rule granted through the API allowed a write")


@check("d00a921a-a603-43d6-a033-7a9407c6383e", "access_{access_type}")
def test_api_deny_locks_the_client_out(api_mounter, api, profile, proto, access_type):
    """Two rules on one share (one for ip); after deny_access through the API the denied
    identity's fresh mount and write fail, and the other identity still mounts and writes."""
    mountable(proto)
    share = as_mounted(api, new_share(api, profile, proto))
    gone, gone_key = granted(api, share["id"], access_type, identity(api_mounter, access_type, 5))
    kept = None
    if access_type != "ip":
        kept, kept_key = granted(api, share["id"], access_type, identity(api_mounter, access_type, 6))
    write_via(api_mounter, share, gone, gone_key, "before", payload("before"), "before the deny")
    denied(api, share["id"], gone)
    expect(not can_access(api_mounter, share, gone, gone_key),
           f"after deny_access through the API, {gone['access_to']} could still mount and write")
    if kept is not None:
        write_via(api_mounter, share, kept, kept_key, "after", payload("after"),
                  "the rule that was not denied")


@check("cdfd057c-0f3b-4cd5-a2b8-515b51a1fd35", "extend")
def test_api_extend_keeps_the_data(api_mounter, api, profile):
    """Data written before a snapshot (when claimed) and before an extend through the API is
    intact afterwards, the share still mounts, and the client sees the larger size."""
    proto, kind = first_mountable(profile)
    share = as_mounted(api, new_share(api, profile, proto))
    rule, key = granted(api, share["id"], kind, identity(api_mounter, kind, 7))
    mnt = mount(api_mounter, share, rule, key)
    files = {"before": payload("before")}
    put(api_mounter, f"{mnt}/before", files["before"], "before the extend")
    size_before = api_mounter.size_bytes(mnt)
    if profile.claims("snapshot"):
        snap = api.create_snapshot(share["id"])
        api.wait_snapshot(snap["id"])
        files["after-snapshot"] = payload("after-snapshot")
        put(api_mounter, f"{mnt}/after-snapshot", files["after-snapshot"], "after the snapshot")
    api_mounter.unmount(mnt)
    api.extend_and_wait(share["id"], share["size"] + 1)
    mnt = mount(api_mounter, as_mounted(api, share), rule, key)
    seen = {name: api_mounter.read(f"{mnt}/{name}") for name in files}
    size_after = api_mounter.size_bytes(mnt)
    api_mounter.unmount(mnt)
    lost = [name for name, data in files.items() if seen[name] != data]
    expect(not lost, f"after extend through the API, {', '.join(lost)} no longer holds what was written")
    expect(size_after >= size_before + GIB * 0.9,
           f"the client sees {size_after} bytes after extending from {share['size']} to "
           f"{share['size'] + 1} GiB (before: {size_before})")
