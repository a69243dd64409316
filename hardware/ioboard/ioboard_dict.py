"""The IO board's command dictionary and constants (sent to the host by `identify`, Klipper-style).

Ids and argument formats live only here; the host learns them at connect time.
"""

import json
import struct

import framing as fr

VERSION = "1.0.0"
PROTO = 1

# GPIO numbers of the reference wiring (docs/ioboard.md).
PINS = {"relay": 15, "tamper": 14, "presence": 13, "led_green": 16, "led_red": 17}

# name -> (id, struct format); id 0 and its reply id 0x80 are fixed (bootstrap).
COMMANDS: dict[str, tuple[int, str]] = {
    "identify": (0, "<H"),  # offset into the dictionary
    "heartbeat": (1, "<I"),  # host wall clock, unix seconds
    "config": (2, "<IIIIB"),  # see CONFIG_FIELDS
    "get_status": (3, ""),
    "tamper_ack": (4, "<H"),  # latch id
    "set_led": (5, "<B"),  # index into PATTERNS (ok, degraded, fault)
    "shutdown": (6, "<B"),  # reason (SHUTDOWN_REASONS)
    "clear_shutdown": (7, ""),
}
# name -> (id, fixed format, repeated tail format)
RESPONSES: dict[str, tuple[int, str, str]] = {
    "identify": (0x80, "<H", ""),  # offset, then raw dictionary bytes
    "status": (0x81, "<BBBHhIHBBB", "<HIIB"),
    "error": (0x8F, "<BB", ""),  # code, command id
}
EVENTS: dict[str, tuple[int, str, str]] = {
    "tamper": (0x90, "<HIIB", ""),  # latch id, opened at (unix s, 0 = unknown), board uptime ms, still open
    "presence": (0x91, "<B", ""),
    "boot": (0x92, "<H", ""),  # boot id
    "shutdown": (0x93, "<B", ""),
    "power_cycle": (0x94, "<B", ""),  # consecutive cycles
}
STATUS_FIELDS = ["state", "flags", "led", "boot_id", "temp_centi", "uptime_ms", "config_crc",
                 "pending", "overflow", "shutdown_reason"]
LATCH_FIELDS = ["latch_id", "opened_at", "uptime_ms", "still_open"]
STATES = ["running", "shutdown"]
FLAGS = ["tamper_open", "presence", "configured", "host_quiet", "cycling", "booting"]
PATTERNS = ["ok", "degraded", "fault", "shutdown", "booting"]
SHUTDOWN_REASONS = ["none", "host_request", "internal_error"]
ERRORS = ["none", "unknown_command", "bad_args", "is_shutdown"]
FIELD_NAMES = {"identify": ["offset"], "status": STATUS_FIELDS, "error": ["code", "command"],
               "tamper": LATCH_FIELDS, "presence": ["present"], "boot": ["boot_id"], "shutdown": ["reason"],
               "power_cycle": ["consecutive"]}
CONFIG_FIELDS = ["watchdog_timeout_ms", "boot_grace_ms", "quiet_ms", "cycle_ms", "max_cycles"]
# Safe defaults until the host configures the board: never cycle a Pi that is still booting.
DEFAULT_CONFIG = (120000, 300000, 15000, 5000, 3)
BACKOFF_MS = 3600000  # after max_cycles in a row, try again hourly
LATCH_SLOTS = 8
STATUS_LATCHES = 3  # latches carried in one status reply (payload limit)
IDLE_EXPIRE_MS = 30  # a partial frame older than this is dropped and NAKed
REPUSH_MS = 1000  # unacknowledged tamper latches are pushed again this often
TEMP_EVERY_MS = 1000

# LED specs: (period_ms, on_ms); period 0 means steady (on if on_ms).
LED_SPECS = {
    "ok": ((0, 1), (0, 0)),
    "degraded": ((1000, 500), (0, 0)),
    "fault": ((0, 0), (250, 125)),
    "shutdown": ((0, 0), (0, 1)),
    "booting": ((250, 50), (0, 0)),
}


def dictionary_bytes() -> bytes:
    doc = {"app": "estation-ioboard", "version": VERSION, "proto": PROTO, "commands": COMMANDS,
           "responses": RESPONSES, "events": EVENTS, "status_fields": STATUS_FIELDS,
           "latch_fields": LATCH_FIELDS, "field_names": FIELD_NAMES, "states": STATES, "flags": FLAGS, "patterns": PATTERNS,
           "shutdown_reasons": SHUTDOWN_REASONS, "errors": ERRORS,
           "config": {"fields": CONFIG_FIELDS, "defaults": list(DEFAULT_CONFIG)}}
    return json.dumps(doc).encode()


def config_crc(values: tuple[int, ...]) -> int:
    return fr.crc16(struct.pack(COMMANDS["config"][1], *values))


def led_level(spec: tuple[int, int], now: int) -> int:
    period, on = spec
    if period == 0:
        return 1 if on else 0
    return 1 if now % period < on else 0
