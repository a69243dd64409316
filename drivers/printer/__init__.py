"""Receipt printer: ESC/POS codec (protocol.py, status.py), pty simulator (sim.py), pyserial transport."""
