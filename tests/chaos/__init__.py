"""Chaos tests: the real stack under worker kills and Redis outages (see docs/ops.md)."""
