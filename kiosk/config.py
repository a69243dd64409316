"""The station's configuration: one TOML file, validated once at start.

Default path `/etc/estation/estation.toml`, overridden by `ESTATION_CONFIG`.
Every problem raises `ConfigError` naming the dotted key (`devices.idcard.baudrate`),
and unknown keys are errors too: a typo must not silently fall back to a default.
Relative paths in the file are taken relative to the file's own directory, so a
config file and its data can move together.

Pure module: no clock, no devices; the environment is only read when the caller
does not pass one.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/estation/estation.toml")
CONFIG_ENV_VAR = "ESTATION_CONFIG"
EXAMPLE_HINT = "see hardware/config/estation.example.toml"

SIMULATED_PORT = "sim"  # a device port of "sim" means the built-in simulator
CITIES = ("wenzhou", "xuchang", "xinyu", "liaocheng", "hubei")
LANGUAGES = ("zh_CN", "en")
BAUDRATES = (115200, 57600, 38400, 19200, 9600)  # the SAM speed list (IDCARD.md)
ROTATIONS = (0, 90, 180, 270)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
STATION_ID_PATTERN = re.compile(r"ws-[0-9]{4,8}")
POLL_INTERVAL_MS_RANGE = (300, 500)


@dataclass(frozen=True)
class StationConfig:
    id: str
    city: str
    data_dir: Path = Path("/var/lib/estation")
    language: str = "zh_CN"


@dataclass(frozen=True)
class IdCardReaderConfig:
    port: str = "/dev/estation-idcard"  # the stable udev name
    baudrate: int = 115200
    poll_interval_ms: int = 400

    @property
    def simulated(self) -> bool:
        return self.port == SIMULATED_PORT


@dataclass(frozen=True)
class PrinterConfig:
    port: str = ""  # "" = no printer: receipts are QR-only

    @property
    def simulated(self) -> bool:
        return self.port == SIMULATED_PORT


@dataclass(frozen=True)
class DevicesConfig:
    idcard: IdCardReaderConfig = field(default_factory=IdCardReaderConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)


@dataclass(frozen=True)
class UiConfig:
    fullscreen: bool = True
    rotation: int = 0
    elder_mode: bool = False
    voice: bool = True


@dataclass(frozen=True)
class CentralConfig:
    url: str = ""  # "" = no central service configured (records stay in the outbox)


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"
    file: Path | None = None  # None = stderr only (journald picks it up)


@dataclass(frozen=True)
class Config:
    station: StationConfig
    devices: DevicesConfig = field(default_factory=DevicesConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    central: CentralConfig = field(default_factory=CentralConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: Path | None = field(default=None, compare=False)  # the file it came from


# ---------------------------------------------------------------- loading


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The file to read: `$ESTATION_CONFIG` when set and non-empty, else the default."""
    env = os.environ if environ is None else environ
    value = env.get(CONFIG_ENV_VAR, "")
    return Path(value) if value else DEFAULT_CONFIG_PATH


def load_config(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file; raises ConfigError naming the bad key."""
    file = Path(path) if path is not None else config_path(environ)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "", f"{file}: no such file",
            hint=f"create it ({EXAMPLE_HINT}) or point {CONFIG_ENV_VAR} at it",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"{file}: cannot read: {exc}", hint="check the file's permissions and encoding (UTF-8)") from None
    return parse_config(text, base_dir=file.parent.absolute(), source=file)


def parse_config(text: str, *, base_dir: Path | None = None, source: Path | None = None) -> Config:
    """Validate TOML text.  Relative paths are resolved against `base_dir` when given."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = f"{source}: " if source else ""
        raise ConfigError("", f"{where}not valid TOML: {exc}", hint="fix the syntax; " + EXAMPLE_HINT) from None
    return config_from_dict(data, base_dir=base_dir, source=source)


def config_from_dict(data: Mapping[str, Any], *, base_dir: Path | None = None, source: Path | None = None) -> Config:
    reader = _Reader(base_dir)
    root = reader.table("", data, ("station", "devices", "ui", "central", "logging"))
    station = reader.table("station", root.get("station"), ("id", "city", "data_dir", "language"), required=True)
    devices = reader.table("devices", root.get("devices"), ("idcard", "printer"))
    idcard = reader.table("devices.idcard", devices.get("idcard"), ("port", "baudrate", "poll_interval_ms"))
    printer = reader.table("devices.printer", devices.get("printer"), ("port",))
    ui = reader.table("ui", root.get("ui"), ("fullscreen", "rotation", "elder_mode", "voice"))
    central = reader.table("central", root.get("central"), ("url",))
    logging_ = reader.table("logging", root.get("logging"), ("level", "file"))

    return Config(
        station=StationConfig(
            id=reader.value(station, "station.id", _station_id),
            city=reader.value(station, "station.city", _one_of(CITIES)),
            data_dir=reader.value(station, "station.data_dir", reader.path, StationConfig.data_dir),
            language=reader.value(station, "station.language", _one_of(LANGUAGES), StationConfig.language),
        ),
        devices=DevicesConfig(
            idcard=IdCardReaderConfig(
                port=reader.value(idcard, "devices.idcard.port", _port(optional=False), IdCardReaderConfig.port),
                baudrate=reader.value(idcard, "devices.idcard.baudrate", _one_of(BAUDRATES), IdCardReaderConfig.baudrate),
                poll_interval_ms=reader.value(
                    idcard, "devices.idcard.poll_interval_ms", _int_between(*POLL_INTERVAL_MS_RANGE),
                    IdCardReaderConfig.poll_interval_ms,
                ),
            ),
            printer=PrinterConfig(
                port=reader.value(printer, "devices.printer.port", _port(optional=True), PrinterConfig.port),
            ),
        ),
        ui=UiConfig(
            fullscreen=reader.value(ui, "ui.fullscreen", _bool, UiConfig.fullscreen),
            rotation=reader.value(ui, "ui.rotation", _one_of(ROTATIONS), UiConfig.rotation),
            elder_mode=reader.value(ui, "ui.elder_mode", _bool, UiConfig.elder_mode),
            voice=reader.value(ui, "ui.voice", _bool, UiConfig.voice),
        ),
        central=CentralConfig(url=reader.value(central, "central.url", _http_url, CentralConfig.url)),
        logging=LoggingConfig(
            level=reader.value(logging_, "logging.level", _log_level, LoggingConfig.level),
            file=reader.value(logging_, "logging.file", reader.optional_path, None),
        ),
        source=source,
    )


# ---------------------------------------------------------------- validation

_MISSING = object()
Validator = Callable[[str, Any], Any]


class _Reader:
    """Walks the parsed TOML, checking tables for unknown keys and values by key."""

    def __init__(self, base_dir: Path | None) -> None:
        self.base_dir = base_dir

    def table(self, key: str, value: Any, known: tuple[str, ...], *, required: bool = False) -> Mapping[str, Any]:
        if value is None:
            if required:
                raise ConfigError(key, "missing section", hint=f"add a [{key}] table; {EXAMPLE_HINT}")
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(key, f"must be a table ([{key}]), got {_describe(value)}")
        for name in value:
            if name not in known:
                full = f"{key}.{name}" if key else name
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise ConfigError(full, "unknown key", hint=f"{hint}known here: {', '.join(known)}")
        return value

    def value(self, table: Mapping[str, Any], key: str, check: Validator, default: Any = _MISSING) -> Any:
        raw = table.get(key.rsplit(".", 1)[-1], _MISSING)
        if raw is _MISSING:
            if default is _MISSING:
                raise ConfigError(key, "missing (required)", hint=EXAMPLE_HINT)
            return default
        return check(key, raw)

    def path(self, key: str, raw: Any) -> Path:
        if not isinstance(raw, str) or not raw.strip():
            raise ConfigError(key, f"must be a non-empty path string, got {_describe(raw)}")
        path = Path(raw).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return path

    def optional_path(self, key: str, raw: Any) -> Path | None:
        return None if raw == "" else self.path(key, raw)


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # bool is an int subclass


def _station_id(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not STATION_ID_PATTERN.fullmatch(raw):
        raise ConfigError(key, f"must look like 'ws-0001' (ws- and 4-8 digits), got {raw!r}",
                          hint="use the id printed on the kiosk's asset label")
    return raw


def _one_of(choices: tuple[Any, ...]) -> Validator:
    def check(key: str, raw: Any) -> Any:
        same_type = _is_int(raw) if _is_int(choices[0]) else isinstance(raw, type(choices[0]))
        if not same_type or raw not in choices:
            raise ConfigError(key, f"must be one of {', '.join(map(repr, choices))}; got {raw!r}")
        return raw
    return check


def _int_between(low: int, high: int) -> Validator:
    def check(key: str, raw: Any) -> int:
        if not _is_int(raw) or not low <= raw <= high:
            raise ConfigError(key, f"must be an integer from {low} to {high}, got {raw!r}")
        return raw
    return check


def _bool(key: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(key, f"must be true or false, got {raw!r}", hint="TOML booleans are lower-case, unquoted")
    return raw


def _port(*, optional: bool) -> Validator:
    def check(key: str, raw: Any) -> str:
        if isinstance(raw, str) and (raw == SIMULATED_PORT or raw.startswith("/") or (optional and raw == "")):
            return raw
        allowed = '"", ' if optional else ""
        raise ConfigError(key, f'must be {allowed}"sim" or an absolute device path, got {raw!r}',
                          hint='e.g. "/dev/estation-idcard" (the udev name) or "sim" for the simulator')
    return check


def _http_url(key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ConfigError(key, f"must be a string, got {_describe(raw)}")
    if raw == "":
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, f"must be an http:// or https:// URL, got {raw!r}",
                          hint='e.g. "https://central.example.cn" or "" for none')
    return raw


def _log_level(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or raw.upper() not in LOG_LEVELS:
        raise ConfigError(key, f"must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


# ---------------------------------------------------------------- demo and writing


def demo_config(data_dir: str | Path = "var/demo", *, city: str = "wenzhou") -> Config:
    """A valid config for `estation demo`: simulated devices, windowed, no central URL.

    `data_dir` is made absolute (against the working directory) so that the written
    file means the same wherever it is stored.
    """
    config = Config(
        station=StationConfig(id="ws-0001", city=city, data_dir=Path(data_dir).absolute()),
        devices=DevicesConfig(
            idcard=IdCardReaderConfig(port=SIMULATED_PORT),
            printer=PrinterConfig(port=SIMULATED_PORT),
        ),
        ui=UiConfig(fullscreen=False),
    )
    return config_from_dict(config_to_dict(config))  # the same validation as a file gets


def config_to_dict(config: Config) -> dict[str, Any]:
    """The TOML-shaped dict of a config (paths as strings, None as "")."""
    s, d, u = config.station, config.devices, config.ui
    return {
        "station": {"id": s.id, "city": s.city, "data_dir": str(s.data_dir), "language": s.language},
        "devices": {
            "idcard": {"port": d.idcard.port, "baudrate": d.idcard.baudrate,
                       "poll_interval_ms": d.idcard.poll_interval_ms},
            "printer": {"port": d.printer.port},
        },
        "ui": {"fullscreen": u.fullscreen, "rotation": u.rotation, "elder_mode": u.elder_mode, "voice": u.voice},
        "central": {"url": config.central.url},
        "logging": {"level": config.logging.level, "file": str(config.logging.file or "")},
    }


def to_toml(config: Config) -> str:
    """Render a config as TOML that `parse_config` reads back to an equal Config."""
    lines: list[str] = []

    def emit(prefix: str, table: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
        if scalars:
            lines.append(f"[{prefix}]")
            lines.extend(f"{k} = {_toml_scalar(v)}" for k, v in scalars.items())
            lines.append("")
        for k, v in table.items():
            if isinstance(v, Mapping):
                emit(f"{prefix}.{k}", v)

    for name, table in config_to_dict(config).items():
        emit(name, table)
    return "\n".join(lines)


def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # TOML basic strings share JSON's escapes for the characters a path or URL may hold.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")  # TOML forbids raw DEL
