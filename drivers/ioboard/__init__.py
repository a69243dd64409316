"""IO board (RP2040, MicroPython) host driver: `transport.SerialIoBoard` is the kiosk's IoBoard port.

framing.py is the codec shared byte for byte with the firmware (hardware/ioboard/);
protocol.py the sans-I/O host side; sim.py runs the real firmware on a pty pair.
"""
