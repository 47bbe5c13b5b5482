# The two set-up commands of the README:
#   make certify   certify the embedded default profile (Manila's DummyDriver) and write the report
#   make test      run certkit's own tests
# Both work on a fresh Debian machine with only python3, git and make.

PYTHON ?= python3
VENV ?= .venv
REPORTS ?= reports
BIN := $(VENV)/bin

.PHONY: venv certify test test-zuul test-beyond-budget docs lab-up lab-down certify-cephfs certify-glusterfs certify-live benchmark clean dashboard-demo

$(BIN)/certkit: pyproject.toml setup.py
	@bash ci/bootstrap-python.sh "$(PYTHON)" "$(VENV)"
	@touch $(BIN)/certkit

venv: $(BIN)/certkit

certify: venv
	$(BIN)/certkit run driver_profiles/manila-dummy.yaml \
	    --report $(REPORTS)/manila-dummy.json --junit-xml $(REPORTS)/manila-dummy.xml

test: venv
	$(BIN)/ruff check .
	$(BIN)/python ci/run_tests.py

# certkit's jobs in a real Zuul end to end (tests/zuul/, docs/zuul/lab.md), alone; `make test`
# runs the same in its `zuul` lane.
test-zuul: venv
	CERTKIT_REQUIRE_LAB=1 $(BIN)/python -m pytest tests/zuul -v

# Lab tests beyond `make test`'s 20-minute budget (tests marked beyond_budget: exploration on
# the Ceph lab and through the live Manila tier, GlusterFS through the live tier, a real
# `lab up cephfs` SIGKILLed at the OSD's mkfs, the GlusterFS lab interrupted at more steps,
# 10 changes queued at once in the Zuul lab, each with one vote).
test-beyond-budget: venv
	CERTKIT_BEYOND_BUDGET=1 CERTKIT_REQUIRE_LAB=1 $(BIN)/python -m pytest -v \
	    tests/test_explore_lab.py tests/live/test_live_tier.py \
	    tests/test_lab.py::test_a_real_up_sigkilled_between_osd_new_and_mkfs_is_finished_by_the_next \
	    tests/test_glusterfs_lab.py::test_an_interrupted_up_brings_down_what_it_started \
	    tests/test_glusterfs_lab.py::test_an_up_sigkilled_half_way_is_finished_by_the_next_and_down_leaves_nothing \
	    tests/test_glusterfs_lab.py::test_a_sigtermed_test_process_brings_its_lab_down \
	    tests/zuul/test_zuul_e2e.py

# The documentation site (Sphinx + MyST), warnings as errors, then the internal link check.
docs: venv
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	$(BIN)/python docs/_ext/internal_links.py docs/_build/html

lab-up: venv
	$(BIN)/certkit lab up cephfs

lab-down: venv
	$(BIN)/certkit lab down cephfs

certify-cephfs: lab-up
	$(BIN)/certkit run driver_profiles/cephfs-native.yaml --suite contract --suite datapath \
	    --report $(REPORTS)/cephfs-native.json --junit-xml $(REPORTS)/cephfs-native.xml

# The GlusterFS lab (docs/labs/glusterfs.md): both GlusterFS profiles with the contract and
# data-path suites, then the lab comes down. Manila 23's GlusterFS driver is not certified on it
# (its access rules fail: docs/findings/), so a run's exit status 1 does not stop the target.
GLUSTERFS_PROFILES ?= glusterfs-directory-mapped-layout glusterfs-volume-mapped-layout
certify-glusterfs: venv
	$(BIN)/certkit lab up glusterfs
	for p in $(GLUSTERFS_PROFILES); do \
	    $(BIN)/certkit run driver_profiles/$$p.yaml --suite contract --suite datapath \
	        --report $(REPORTS)/$$p.json --junit-xml $(REPORTS)/$$p.xml; \
	    test $$? -le 1 || { $(BIN)/certkit lab down glusterfs; exit 2; }; done
	$(BIN)/certkit lab down glusterfs

# The live tier: real Manila services for the dummy profile, then manila-tempest-plugin and
# certkit's live checks (`certkit lab down manila` stops them).
certify-live: venv
	$(BIN)/certkit lab up manila --profile driver_profiles/manila-dummy.yaml
	$(BIN)/certkit run driver_profiles/manila-dummy.yaml --suite api \
	    --report $(REPORTS)/manila-dummy-api.json --junit-xml $(REPORTS)/manila-dummy-api.xml

benchmark: venv
	$(BIN)/python benchmarks/contract_suite.py
	$(BIN)/python benchmarks/ci_listener.py

clean:
	rm -rf $(VENV) $(REPORTS)

# Compatibility dashboard demo: the in-tree audit (static cells), every profile, the dummy
# certification (verified cells) and CephFS and GlusterFS reports when they exist (verified and
# failed cells), served on loopback.
DASHBOARD_DB ?= $(REPORTS)/dashboard-demo.sqlite
DASHBOARD_PORT ?= 8000
dashboard-demo: venv
	@test -f $(REPORTS)/manila-dummy.json || $(MAKE) certify
	$(BIN)/certkit audit --in-tree --json $(REPORTS)/audit-in-tree.json > /dev/null
	$(BIN)/certkit dashboard load --db $(DASHBOARD_DB) driver_profiles $(REPORTS)/audit-in-tree.json \
	    $$(ls $(REPORTS)/manila-dummy.json $(REPORTS)/cephfs-*.json $(REPORTS)/glusterfs-*.json 2>/dev/null)
	$(BIN)/certkit dashboard serve --db $(DASHBOARD_DB) --port $(DASHBOARD_PORT)
