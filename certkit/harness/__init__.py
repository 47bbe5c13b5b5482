"""The harness: a real Manila driver instance, models shaped like the share manager's, cleanup."""
