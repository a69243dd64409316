"""One error family for the whole project (after gpiozero's exc.py and h11's errors).

Every error carries a reason (what went wrong) and a hint (what to do about it);
families also subclass a builtin so generic handlers still work.  The CLI prints
`error: <reason>` and exits 2 for a `UsageError`; the UI maps an error's
`message_id` to a catalogue string.
"""

from __future__ import annotations


class EstationError(Exception):
    """Base of every error e-Station raises on purpose."""

    message_id = "error.generic"

    def __init__(self, reason: str, *, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint

    def __str__(self) -> str:
        return self.reason


class UsageError(EstationError, ValueError):
    """Bad input from the person or file at the other end: exit status 2."""

    message_id = "error.usage"


class ConfigError(UsageError):
    """The configuration file is missing, unreadable or invalid; names the key."""

    message_id = "error.config"

    def __init__(self, key: str, problem: str, *, hint: str = "") -> None:
        super().__init__(f"config: {key}: {problem}" if key else f"config: {problem}", hint=hint)
        self.key = key
