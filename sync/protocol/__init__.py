"""SYNC.md wire format, shared by kiosk and central: pure functions, no I/O, no clock reads."""
