"""The one exception the ESC/POS codec raises on malformed input."""


class EscPosError(ValueError):
    """Malformed ESC/POS bytes: an argument out of range or a declared length over the cap.

    Raised by `CommandParser.next_event()` and the status/reply parsers, and by
    nothing else in the codec.  The offending command's bytes are already
    consumed when it is raised, so a caller that wants to be tolerant (the
    simulator, like a printer that skips what it cannot execute) logs it and
    calls `next_event()` again.  `reason` says what is wrong.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
