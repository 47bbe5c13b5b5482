"""Third-party CI: a Zuul-compatible job runner, a Gerrit listener and reporting.

Layers, bottom up: zuulconfig (read and check Zuul YAML) -> jobs (resolve a job as Zuul
freezes it) -> executor (run its playbooks with ansible-playbook) -> gerrit, queue, listener
(the vendor's CI loop). Nothing here is imported by the rest of certkit.
"""
