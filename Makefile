# The two set-up commands of the README:
#   make certify   certify the embedded default profile (Manila's DummyDriver) and write the report
#   make test      run certkit's own tests
# Both work on a fresh Debian machine with only python3, git and make.

PYTHON ?= python3
VENV ?= .venv
REPORTS ?= reports
BIN := $(VENV)/bin

.PHONY: venv certify test lab-up lab-down certify-cephfs certify-live benchmark clean

$(BIN)/certkit: pyproject.toml
	@bash ci/bootstrap-python.sh "$(PYTHON)" "$(VENV)"
	@touch $(BIN)/certkit

venv: $(BIN)/certkit

certify: venv
	$(BIN)/certkit run driver_profiles/manila-dummy.yaml \
	    --report $(REPORTS)/manila-dummy.json --junit-xml $(REPORTS)/manila-dummy.xml

test: venv
	$(BIN)/python -m pytest tests -q

lab-up: venv
	$(BIN)/certkit lab up cephfs

lab-down: venv
	$(BIN)/certkit lab down cephfs

certify-cephfs: lab-up
	$(BIN)/certkit run driver_profiles/cephfs-native.yaml --suite contract --suite datapath \
	    --report $(REPORTS)/cephfs-native.json --junit-xml $(REPORTS)/cephfs-native.xml

# The live tier: real Manila services for the dummy profile, then manila-tempest-plugin and
# certkit's live checks (`certkit lab down manila` stops them).
certify-live: venv
	$(BIN)/certkit lab up manila --profile driver_profiles/manila-dummy.yaml
	$(BIN)/certkit run driver_profiles/manila-dummy.yaml --suite api \
	    --report $(REPORTS)/manila-dummy-api.json --junit-xml $(REPORTS)/manila-dummy-api.xml

benchmark: venv
	$(BIN)/python benchmarks/contract_suite.py

clean:
	rm -rf $(VENV) $(REPORTS)
