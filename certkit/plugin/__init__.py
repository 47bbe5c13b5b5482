"""certkit's pytest plugin, in pytest's idiom: fixtures (fixtures.py), outcome classification
(outcomes.py), the client host and mounts of the data path (clienthost.py) and the hooks
of one run (hooks.py). `certkit.pytest_plugin` is its entry point."""
