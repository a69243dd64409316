"""City policy packs: one directory each (pack.toml, messages.toml, optional hooks.py)."""
