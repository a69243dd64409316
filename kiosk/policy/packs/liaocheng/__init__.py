"""Policy pack data (see pack.toml)."""
