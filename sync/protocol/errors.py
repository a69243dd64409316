"""Protocol errors carry SYNC.md's error code and HTTP status, so both sides speak the same codes."""

from __future__ import annotations

from kiosk.errors import EstationError


class ProtocolError(EstationError, ValueError):
    """A SYNC.md rule was broken; `code` is the wire error code (§9), `status` its HTTP status."""

    message_id = "error.sync.protocol"

    def __init__(self, code: str, detail: str, *, status: int = 400, hint: str = "") -> None:
        super().__init__(f"{code}: {detail}", hint=hint)
        self.code = code
        self.detail = detail
        self.status = status
