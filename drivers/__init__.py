"""Device drivers. Each device is protocol.py (sans-I/O codec), transport.py
(pyserial, threads, reconnect) and sim.py (a fake device on a pty pair).

Nothing here imports kiosk/, ui/ or sync/: drivers know nothing of kiosks.
"""
