"""certkit dashboard: collects reports, audits and CI votes; serves the compatibility matrix."""
