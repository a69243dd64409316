"""RP2040 pins behind the small interface `ioboard_fw.Board` uses (hw.relay(), hw.leds(), ...).

The only firmware module that touches `machine` (the fake in fakes/machine.py
stands in for it on the MicroPython unix port and under CPython).

Wiring (docs/ioboard.md): relay coil driver on an output, energised = the
Pi's supply is cut (normally-closed contact, so a dead board leaves the Pi
powered); tamper switch to GND with the internal pull-up, so a closed door reads
0 and a cut wire reads "open"; PIR presence output (active high, pull-down);
two LEDs; the RP2040's internal temperature sensor on ADC 4.
"""

import machine

DEBOUNCE_READS = 3  # consecutive equal reads (one per step, about 1 ms apart)
WDT_MS = 8000  # the RP2040's own watchdog: resets the board if the loop stalls


class Debouncer:
    def __init__(self, value: bool) -> None:
        self.value = value
        self.candidate = value
        self.count = 0

    def update(self, raw: bool) -> bool:
        if raw == self.value:
            self.count = 0
        elif raw == self.candidate:
            self.count += 1
            if self.count >= DEBOUNCE_READS:
                self.value = raw
                self.count = 0
        else:
            self.candidate = raw
            self.count = 1
        return self.value


def temperature_centi(raw: int) -> int:
    """RP2040 datasheet: T = 27 - (V - 0.706) / 0.001721, V = raw * 3.3 / 65535."""
    volts = raw * 3.3 / 65535
    return int((27 - (volts - 0.706) / 0.001721) * 100)


class Hardware:
    def __init__(self, pins: dict[str, int], wdt_ms: int = WDT_MS) -> None:
        pin = machine.Pin
        self._relay = pin(pins["relay"], pin.OUT, value=0)
        self._tamper = pin(pins["tamper"], pin.IN, pin.PULL_UP)
        self._presence = pin(pins["presence"], pin.IN, pin.PULL_DOWN)
        self._green = pin(pins["led_green"], pin.OUT, value=0)
        self._red = pin(pins["led_red"], pin.OUT, value=0)
        self._adc = machine.ADC(4)
        self._wdt = machine.WDT(timeout=wdt_ms)
        self._tamper_db = Debouncer(self._tamper.value() == 1)
        self._presence_db = Debouncer(self._presence.value() == 1)
        self._levels = (-1, -1)

    def relay(self, on: bool) -> None:
        self._relay.value(1 if on else 0)

    def tamper_open(self) -> bool:
        return self._tamper_db.update(self._tamper.value() == 1)

    def presence(self) -> bool:
        return self._presence_db.update(self._presence.value() == 1)

    def leds(self, green: int, red: int) -> None:
        if (green, red) != self._levels:
            self._levels = (green, red)
            self._green.value(green)
            self._red.value(red)

    def temperature_centi(self) -> int:
        return temperature_centi(self._adc.read_u16())

    def feed(self) -> None:
        self._wdt.feed()
