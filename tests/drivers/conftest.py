"""Puts tests/drivers on the path for the shared `event_log` helper (pytest adds a conftest's folder)."""
