"""e-Station kiosk core: pure domain code (no Kivy, no serial, no network, no clock reads).

Only the composition root `kiosk.cli` wires adapters from drivers/, ui/ and sync/.
"""
