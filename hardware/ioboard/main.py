"""IO-board entry point (runs at boot on the RP2040): wire the real clock, pins and USB link.

The host link is the USB CDC serial port, i.e. MicroPython's stdin/stdout:
Ctrl-C is disabled so 0x03 bytes inside frames do not interrupt the loop, and
nothing here may print.  To get a REPL back: `mpremote` interrupts within the
first second only when main.py is renamed (see docs/ioboard.md).
"""

import os
import select
import sys
import time

import ioboard_fw
import ioboard_hw
import micropython

READ_MAX = 64


class StdioLink:
    """Non-blocking reads from stdin (poll + 1-byte reads), writes to stdout."""

    def __init__(self) -> None:
        self.inp = sys.stdin.buffer
        self.out = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(self.inp, select.POLLIN)

    def read(self) -> bytes:
        data = bytearray()
        while len(data) < READ_MAX and self.poller.poll(0):
            byte = self.inp.read(1)
            if not byte:
                break
            data.extend(byte)
        return bytes(data)

    def write(self, data: bytes) -> None:
        self.out.write(data)


def boot_id() -> int:
    raw = os.urandom(2)
    return (raw[0] << 8) | raw[1]


def main() -> None:
    micropython.kbd_intr(-1)
    hw = ioboard_hw.Hardware(ioboard_fw.PINS)
    board = ioboard_fw.Board(hw, StdioLink(), time.ticks_ms, time.ticks_diff, boot_id())
    while True:
        board.step()
        time.sleep_ms(1)


if __name__ == "__main__":
    main()
