"""Stats as Manila's scheduler sees them: the real HostState builds each pool's capabilities
(with the backend-level keys it inherits), and the profile's claims are judged against that."""

from __future__ import annotations

import datetime
from unittest import mock
from typing import Any, Iterable

from certkit.catalogue import FEATURES, FEATURES_BY_ID, capability_value
from certkit.contract.checks import ContractViolation, expect, expect_schema
from certkit.profile import Profile
from certkit.schema_check import load_schema


def scheduler_pools(stats: dict[str, Any], host: str = "certkit@backend") -> dict[str, dict[str, Any]]:
    """{pool name: effective capabilities} from manila.scheduler.host_manager.HostState.

    A stats dict the scheduler cannot read (e.g. a pool without a mandatory key) is a violation.
    """
    from manila.scheduler import host_manager

    state = host_manager.HostState(host)
    try:
        # A thin pool without provisioned_capacity_gb makes the scheduler ask its database for
        # the sum of share sizes; there is no database here, and no share yet: that sum is 0.
        with mock.patch.object(host_manager.PoolState, "_estimate_provisioned_capacity",
                               return_value=0):
            state.update_from_share_capability(dict(stats, timestamp=datetime.datetime.now()))
    except Exception as exc:  # noqa: BLE001 - whatever the scheduler trips on is the finding
        raise ContractViolation(f"Manila's scheduler cannot read these stats: "
                                f"{type(exc).__name__}: {exc}") from None
    return {name: dict(pool.capabilities) for name, pool in state.pools.items()}


def fresh_stats(driver: Any, *, validate: bool = False) -> dict[str, Any]:
    """get_share_stats(refresh=True) as the scheduler asks for it: a dict and, with `validate`,
    one that matches stats.schema.json at the top level and in every pool."""
    stats = driver.get_share_stats(refresh=True)
    expect(isinstance(stats, dict), f"get_share_stats returned {type(stats).__name__}, not a dict")
    if validate:
        expect_schema(stats, "stats.schema.json", "get_share_stats()")
    return stats


def pool_views(stats: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, dict) of every pool exactly as reported."""
    pools = stats.get("pools") or []
    return [(str(p.get("pool_name", i)), p) for i, p in enumerate(pools) if isinstance(p, dict)]


def unknown_keys(stats: dict[str, Any]) -> list[str]:
    """Keys the stats schema does not know, as `key` or `pools[i].key`."""
    schema = load_schema("stats.schema.json")
    top = set(schema["properties"])
    pool_known = top | set(schema["$defs"]["pool"]["properties"])
    found = [k for k in stats if k not in top]
    for index, pool in enumerate(stats.get("pools") or []):
        if isinstance(pool, dict):
            found += [f"pools[{index}].{k}" for k in pool if k not in pool_known]
    return found


def _satisfied_everywhere(stats: dict[str, Any], pools: dict[str, dict[str, Any]],
                          claims: Iterable[Any]) -> list[str]:
    """Problems: claims not backed by the top level (dotted keys) or by some pool."""
    problems = []
    for claim in claims:
        if "." in claim.key:
            value = capability_value(stats, claim.key)
            if not claim.satisfied_by(value):
                problems.append(f"{claim.key} is {value!r}; the claim needs {claim.describe()}")
            continue
        for name, caps in pools.items():
            value = caps.get(claim.key)
            if not claim.satisfied_by(value):
                problems.append(f"pool {name}: {claim.key} is {value!r} as the scheduler sees it; "
                                f"the claim needs {claim.describe()}")
    return problems


def claim_problems(stats: dict[str, Any], dut: Any, feature_id: str) -> list[str]:
    """Why the stats/attributes of the driver do not back a claimed feature ([] if they do)."""
    feat = FEATURES_BY_ID[feature_id]
    if feat.dhss is True and not dut.dhss:
        return [f"{feature_id} needs driver_handles_share_servers=True; this instance runs False"]
    pools = scheduler_pools(stats)
    problems = []
    if feature_id == "share":
        if stats.get("driver_handles_share_servers") is not dut.dhss:
            problems.append(f"driver_handles_share_servers is "
                            f"{stats.get('driver_handles_share_servers')!r}; configured {dut.dhss!r}")
        for name, caps in pools.items():
            reported = {p.upper() for p in str(caps.get("storage_protocol") or "").split("_")}
            missing = [p for p in dut.profile.protocols if p not in reported]
            if missing:
                problems.append(f"pool {name}: storage_protocol {caps.get('storage_protocol')!r} "
                                f"lacks claimed protocol(s) {', '.join(missing)}")
    problems += _satisfied_everywhere(stats, pools, feat.capabilities)
    for attribute in feat.attributes:
        if not getattr(dut.raw, attribute, False):
            problems.append(f"driver.{attribute} is {getattr(dut.raw, attribute, None)!r}; "
                            f"the share manager reads it to enable {feature_id}")
    return problems


def advertised_unclaimed(stats: dict[str, Any], profile: Profile) -> list[str]:
    """Warnings: features the stats advertise (so the scheduler sends such shares here) that
    the profile does not claim, so certkit has not checked them."""
    try:
        pools = scheduler_pools(stats)
    except ContractViolation:
        return []
    messages = []
    for feat in FEATURES:
        if feat.derived or not feat.capabilities or profile.claims(feat.id):
            continue
        if not _satisfied_everywhere(stats, pools, feat.capabilities):
            keys = ", ".join(c.describe() for c in feat.capabilities)
            messages.append(f"stats advertise {keys} but the profile does not claim {feat.id}: "
                            "the scheduler will place such shares here, unchecked")
    return messages
