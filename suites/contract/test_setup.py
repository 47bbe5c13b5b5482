"""Setup: the driver starts as the share manager starts it."""

from __future__ import annotations

from certkit.contract.checks import check, expect


@check("e2a541e4-6abc-476f-b2c3-e7f2e12d0e25", "share")
def test_do_setup_and_check_for_setup_error(certkit_run, context):
    """A fresh instance accepts do_setup(context) and check_for_setup_error() without raising."""
    dut = certkit_run.new_driver()
    dut.driver.do_setup(context)
    dut.driver.check_for_setup_error()


@check("182ea556-14f9-4ac7-bf59-cf2c3268594f", "share")
def test_driver_handles_share_servers_matches_config(dut):
    """The instance runs in the configured DHSS mode."""
    expect(dut.raw.driver_handles_share_servers is dut.dhss,
           f"driver.driver_handles_share_servers is {dut.raw.driver_handles_share_servers!r}; "
           f"the back end is configured with {dut.dhss!r}")
