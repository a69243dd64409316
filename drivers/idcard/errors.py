"""The one exception the ID-card codec raises on malformed input."""


class ProtocolError(ValueError):
    """Malformed bytes from the reader or a file.  `reason` says what is wrong.

    The codec (protocol.py, textblock.py) raises only this for bad input; anything
    else escaping it is a bug.  A ValueError subclass so generic handlers work.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
