"""certkit's live API checks against a stand-in Manila (no lab): what the refused-rule check says
when the valid rule never became active (GlusterFS: every rule ends in error)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from certkit.contract.checks import ContractViolation
from suites.api.test_live import test_refused_rule_ends_in_error_and_spares_the_others as refused_rule_check


class _Manila:
    """One share; each granted rule takes the next state of `states` at once."""

    def __init__(self, states: list[str]) -> None:
        self.states, self.rules = list(states), []

    def create_share(self, proto, size, share_type, name=None, share_network=None):
        return {"id": "s1"}

    def wait_share(self, share_id):
        return {"id": share_id, "status": "available"}

    def grant(self, share_id, kind, to, level):
        self.rules.append({"id": f"r{len(self.rules)}", "access_type": kind, "state": self.states.pop(0)})
        return self.rules[-1]

    def access_rules(self, share_id):
        return list(self.rules)

    def wait_for(self, what, read, done, failed=None, timeout=None):
        value = read()
        assert done(value), what
        return value


PROFILE = SimpleNamespace(protocols=["NFS"], share_size_gb=1, access_types={"NFS": ["ip"]},
                          access_levels=["rw"])


def test_a_valid_rule_that_never_became_active_is_said_so():
    with pytest.raises(ContractViolation, match="the valid ip rule ended in error before any refused rule"):
        refused_rule_check(_Manila(["error", "error"]), PROFILE, "NFS", "ip")


def test_a_refusal_that_spares_the_valid_rule_passes_and_one_that_does_not_fails():
    refused_rule_check(_Manila(["active", "error"]), PROFILE, "NFS", "ip")
    with pytest.raises(ContractViolation, match="ended in active, not error"):
        refused_rule_check(_Manila(["active", "active"]), PROFILE, "NFS", "ip")
