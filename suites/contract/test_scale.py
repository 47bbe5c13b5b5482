"""update_access at volume, re-applied rules, and shares created in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from certkit.contract.checks import check, expect

RULES_AT_VOLUME = 300


def _ip(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@check("7cbcf445-0cbd-4218-8720-438a13b63c2c", "access_ip")
def test_hundreds_of_rules_in_one_call(resources, profile):
    """A few hundred ip rules added in one update_access call, then removed in one call."""
    proto = next(p for p, kinds in profile.access_types.items() if "ip" in kinds)
    share = resources.create_share(proto)
    rules = [resources.models.access_rule(share, "ip", _ip(1000 + n)) for n in range(RULES_AT_VOLUME)]
    result = resources.grant_all(share, rules)
    errors = [k for k, v in (result or {}).items() if v.get("state") == "error"]
    expect(not errors, f"{len(errors)} of {RULES_AT_VOLUME} valid rules came back in state 'error'")
    resources.revoke_all(share, rules)


@check("3575e612-e39f-45cf-9c43-5eb2a2402c42", "access_{access_type}")
def test_reapplied_rule_is_not_an_error(resources, proto, access_type):
    """The same rule in add_rules again (re-applied after an interruption) must not raise."""
    share = resources.create_share(proto)
    rule = resources.models.access_rule(share, access_type, resources.access_to(access_type, 9))
    resources.grant(share, rule)
    resources.update_access(share, [rule], add=[rule])
    resources.revoke(share, rule)


@check("28fe84ae-68b2-46ee-84db-161896a5eafe", "share")
def test_parallel_create_and_delete(resources, profile):
    """N shares (the profile's `concurrency`, 8 by default) created and deleted from parallel
    threads, as the share manager does: no errors, and no two shares get the same export path."""
    proto = profile.protocols[0]
    parallel = profile.concurrency

    def lifecycle(_: int):
        share = resources.create_share(proto)
        paths = [el["path"] for el in share["export_locations"]]
        resources.delete_share(share)
        return share["id"], paths

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = list(pool.map(lifecycle, range(parallel)))
    seen: dict[str, str] = {}
    for share_id, paths in results:
        for path in paths:
            expect(path not in seen or seen[path] == share_id,
                   f"export path {path!r} returned for two shares ({seen.get(path)} and {share_id})")
            seen[path] = share_id
