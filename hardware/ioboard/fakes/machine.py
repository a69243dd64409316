"""A fake `machine` module for running the IO-board firmware on a host (tests, simulator).

Works on the MicroPython unix port (put this directory first on MICROPYPATH:
the port's own `machine` has no Pin) and under CPython (drivers/ioboard/sim.py
installs it as sys.modules["machine"]).  Pins, the ADC and the watchdog talk to
a state directory so that a test in another process can drive and watch them:

    <dir>/in_<pin>      input level ("0"/"1"), written by the test
    <dir>/adc_<channel> raw read_u16() value
    <dir>/out.log       "<time_ns> <pin> <level>" per output change, "<time_ns> wdt expired"

The directory comes from $FAKE_MACHINE_DIR or `use_state_dir()`, captured when
each object is constructed.  Without one, pins keep their level in memory.
Every object also keeps its own `history` for in-process assertions.
"""

import os
import time

_dir = os.getenv("FAKE_MACHINE_DIR") or ""


def use_state_dir(path):
    global _dir
    _dir = path


def _read_int(path, default):
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text else default
    except (OSError, ValueError):
        return default


def _log(state_dir, line):
    if state_dir:
        with open(state_dir + "/out.log", "a") as f:
            f.write("%d %s\n" % (time.time_ns(), line))


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        self.history = []
        self._dir = _dir
        self._default = 1 if pull == Pin.PULL_UP else 0
        self._value = self._default
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            if self.mode == Pin.IN and self._dir:
                return _read_int(self._dir + "/in_%s" % self.id, self._default)
            return self._value
        v = 1 if v else 0
        if v != self._value or not self.history:
            self.history.append(v)
            _log(self._dir, "%s %d" % (self.id, v))
        self._value = v
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def toggle(self):
        self.value(1 - self._value)

    def irq(self, handler=None, trigger=0):
        return None


class ADC:
    CORE_TEMP = 4

    def __init__(self, channel):
        self.channel = channel
        self._dir = _dir

    def read_u16(self):
        if self._dir:
            return _read_int(self._dir + "/adc_%s" % self.channel, 14022)
        return 14022  # 0.706 V: 27 degrees C on the RP2040 sensor


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self._dir = _dir
        self.expired = 0
        self._last = time.ticks_ms() if hasattr(time, "ticks_ms") else int(time.monotonic() * 1000)

    def feed(self):
        now = time.ticks_ms() if hasattr(time, "ticks_ms") else int(time.monotonic() * 1000)
        if now - self._last > self.timeout:
            self.expired += 1  # a real RP2040 would have reset here
            _log(self._dir, "wdt expired")
        self._last = now


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *, mode=1, period=-1, callback=None):
        self.mode = mode
        self.period = period
        self.callback = callback

    def init(self, *, mode=1, period=-1, callback=None):
        self.mode, self.period, self.callback = mode, period, callback

    def deinit(self):
        self.callback = None


def idle():
    return None


def unique_id():
    return b"\xe6\x61\x00\x00\x00\x00\x00\x01"


def freq():
    return 125000000


def reset():
    raise SystemExit("machine.reset()")
