"""certkit's pytest plugin, in pytest's idiom: fixtures (fixtures.py), outcome classification
(outcomes.py) and the hooks of one run (hooks.py). `certkit.pytest_plugin` is its entry point."""
