"""kiosk.config: defaults, every key validated by name, unknown keys refused, round trips."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import (
    BAUDRATES, CITIES, DEFAULT_CONFIG_PATH, LOG_LEVELS, ROTATIONS, SIMULATED_PORT, CentralConfig, Config,
    DevicesConfig, IdCardReaderConfig, LoggingConfig, PrinterConfig, StationConfig, UiConfig, config_path,
    demo_config, load_config, parse_config, to_toml,
)
from kiosk.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "hardware" / "config" / "estation.example.toml"
MINIMAL = '[station]\nid = "ws-0001"\ncity = "xuchang"\n'


def test_minimal_file_gets_the_documented_defaults():
    config = parse_config(MINIMAL)
    assert config.station == StationConfig(id="ws-0001", city="xuchang", data_dir=Path("/var/lib/estation"),
                                           language="zh_CN")
    assert config.devices.idcard == IdCardReaderConfig(port="/dev/estation-idcard", baudrate=115200,
                                                       poll_interval_ms=400)
    assert config.devices.printer.port == ""
    assert config.ui == UiConfig(fullscreen=True, rotation=0, elder_mode=False, voice=True)
    assert config.central.url == "" and config.logging == LoggingConfig(level="INFO", file=None)


def test_example_file_validates_and_matches_the_defaults():
    config = load_config(EXAMPLE)
    assert config.station.id == "ws-0001" and config.station.city == "wenzhou"
    # The example documents the defaults: it must say the same as a minimal file.
    assert dataclasses.replace(config, station=dataclasses.replace(config.station, city="xuchang")) == parse_config(MINIMAL)


def test_example_file_mentions_every_key():
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, table in dataclasses.asdict(parse_config(MINIMAL)).items():
        if section == "source":
            continue
        for key in _leaf_keys(table):
            assert f"\n{key} = " in text, f"{section}: {key} missing from the example"


def _leaf_keys(table: dict) -> list[str]:
    keys = []
    for k, v in table.items():
        keys += _leaf_keys(v) if isinstance(v, dict) else [k]
    return keys


def test_config_is_frozen():
    config = parse_config(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.station.city = "hubei"  # type: ignore[misc]


# (TOML after the minimal [station] lines, the key the error must name)
BAD_VALUES = [
    ('[station]\nid = "ws-1"\ncity = "wenzhou"', "station.id"),
    ('[station]\nid = "WS-0001"\ncity = "wenzhou"', "station.id"),
    ('[station]\nid = "ws-0001"\ncity = "beijing"', "station.city"),
    ('[station]\nid = "ws-0001"\ncity = "wenzhou"\nlanguage = "fr"', "station.language"),
    ('[station]\nid = "ws-0001"\ncity = "wenzhou"\ndata_dir = ""', "station.data_dir"),
    ('[station]\nid = "ws-0001"\ncity = "wenzhou"\ndata_dir = 5', "station.data_dir"),
    ('[station]\nid = "ws-0001"', "station.city"),
    ('[station]\ncity = "wenzhou"', "station.id"),
    (MINIMAL + '[devices.idcard]\nport = "COM3"', "devices.idcard.port"),
    (MINIMAL + '[devices.idcard]\nport = ""', "devices.idcard.port"),
    (MINIMAL + "[devices.idcard]\nbaudrate = 12345", "devices.idcard.baudrate"),
    (MINIMAL + '[devices.idcard]\nbaudrate = "115200"', "devices.idcard.baudrate"),
    (MINIMAL + "[devices.idcard]\npoll_interval_ms = 299", "devices.idcard.poll_interval_ms"),
    (MINIMAL + "[devices.idcard]\npoll_interval_ms = 501", "devices.idcard.poll_interval_ms"),
    (MINIMAL + "[devices.idcard]\npoll_interval_ms = true", "devices.idcard.poll_interval_ms"),
    (MINIMAL + '[devices.printer]\nport = "lp0"', "devices.printer.port"),
    (MINIMAL + '[ui]\nfullscreen = "yes"', "ui.fullscreen"),
    (MINIMAL + "[ui]\nrotation = 45", "ui.rotation"),
    (MINIMAL + "[ui]\nrotation = true", "ui.rotation"),
    (MINIMAL + "[ui]\nelder_mode = 1", "ui.elder_mode"),
    (MINIMAL + "[ui]\nvoice = 0", "ui.voice"),
    (MINIMAL + '[central]\nurl = "ftp://x.example"', "central.url"),
    (MINIMAL + '[central]\nurl = "central.example.cn"', "central.url"),
    (MINIMAL + '[logging]\nlevel = "LOUD"', "logging.level"),
    (MINIMAL + "[logging]\nfile = 3", "logging.file"),
    ('station = "ws-0001"', "station"),
    ("devices = 3\n" + MINIMAL, "devices"),
    (MINIMAL + "[devices]\nidcard = 3", "devices.idcard"),
    ("", "station"),
]


@pytest.mark.parametrize(("text", "key"), BAD_VALUES)
def test_bad_value_names_its_key(text, key):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert info.value.key == key
    assert str(info.value).startswith(f"config: {key}: ")
    assert isinstance(info.value, UsageError)  # the CLI turns it into one `error:` line


@pytest.mark.parametrize(("text", "key", "suggestion"), [
    ("colour = 1\n" + MINIMAL, "colour", None),
    (MINIMAL + 'citty = "x"', "station.citty", "city"),
    (MINIMAL + "[devices.idcard]\nbaudrat = 9600", "devices.idcard.baudrat", "baudrate"),
    (MINIMAL + '[devices.scanner]\nport = "sim"', "devices.scanner", None),
    (MINIMAL + "[ui]\nrotaton = 90", "ui.rotaton", "rotation"),
    (MINIMAL + '[logging]\nlevl = "DEBUG"', "logging.levl", "level"),
])
def test_unknown_key_is_an_error_naming_it(text, key, suggestion):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert info.value.key == key
    assert "unknown key" in info.value.reason
    if suggestion:
        assert f"did you mean '{suggestion}'" in info.value.hint


def test_good_values_are_accepted_and_normalised():
    config = parse_config(MINIMAL + '[devices.idcard]\nport = "sim"\nbaudrate = 9600\npoll_interval_ms = 300\n'
                          '[devices.printer]\nport = "/dev/estation-printer"\n[ui]\nrotation = 270\n'
                          '[central]\nurl = "https://central.example.cn/api"\n[logging]\nlevel = "debug"\n')
    assert config.devices.idcard.simulated and config.devices.idcard.baudrate == 9600
    assert config.devices.printer.port == "/dev/estation-printer" and not config.devices.printer.simulated
    assert config.ui.rotation == 270 and config.central.url.startswith("https://")
    assert config.logging.level == "DEBUG"


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    file = tmp_path / "etc" / "estation.toml"
    file.parent.mkdir()
    file.write_text(MINIMAL.replace('city = "xuchang"', 'city = "xuchang"\ndata_dir = "../var"')
                    + '[logging]\nfile = "log/estation.log"\n', encoding="utf-8")
    config = load_config(file)
    assert config.station.data_dir == tmp_path / "etc" / ".." / "var"
    assert config.logging.file == tmp_path / "etc" / "log" / "estation.log"
    assert config.source == file


def test_environment_variable_overrides_the_default_path(tmp_path):
    assert config_path({}) == DEFAULT_CONFIG_PATH
    assert config_path({"ESTATION_CONFIG": ""}) == DEFAULT_CONFIG_PATH
    file = tmp_path / "x.toml"
    file.write_text(MINIMAL, encoding="utf-8")
    assert config_path({"ESTATION_CONFIG": str(file)}) == file
    assert load_config(environ={"ESTATION_CONFIG": str(file)}).station.city == "xuchang"


def test_missing_file_and_bad_toml_say_so(tmp_path):
    with pytest.raises(ConfigError, match="no such file") as info:
        load_config(tmp_path / "nope.toml")
    assert "ESTATION_CONFIG" in info.value.hint
    bad = tmp_path / "bad.toml"
    bad.write_text("[station\nid = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    bad.write_bytes(b"\xff\xfe[station]")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(bad)


def test_demo_config_uses_simulators_and_round_trips(tmp_path):
    config = demo_config(tmp_path / "var")
    assert config.devices.idcard.port == SIMULATED_PORT and config.devices.printer.port == SIMULATED_PORT
    assert config.station.data_dir == tmp_path / "var" and not config.ui.fullscreen
    file = tmp_path / "demo.toml"
    file.write_text(to_toml(config), encoding="utf-8")
    assert load_config(file) == config


_paths = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=20)
configs = st.builds(
    Config,
    station=st.builds(StationConfig, id=st.from_regex(r"ws-[0-9]{4,8}", fullmatch=True), city=st.sampled_from(CITIES),
                      data_dir=_paths.map(lambda p: Path("/", p)), language=st.sampled_from(["zh_CN", "en"])),
    devices=st.builds(
        DevicesConfig,
        idcard=st.builds(IdCardReaderConfig, port=st.sampled_from(["sim", "/dev/ttyUSB0", "/dev/estation-idcard"]),
                         baudrate=st.sampled_from(BAUDRATES), poll_interval_ms=st.integers(300, 500)),
        printer=st.builds(PrinterConfig, port=st.sampled_from(["", "sim", "/dev/estation-printer"])),
    ),
    ui=st.builds(UiConfig, fullscreen=st.booleans(), rotation=st.sampled_from(ROTATIONS),
                 elder_mode=st.booleans(), voice=st.booleans()),
    central=st.builds(CentralConfig, url=st.sampled_from(["", "http://10.0.0.1:8000", "https://c.example.cn/x?a=1"])),
    logging=st.builds(LoggingConfig, level=st.sampled_from(LOG_LEVELS),
                      file=st.none() | _paths.map(lambda p: Path("/", p))),
)


@given(configs)
def test_to_toml_round_trips_any_valid_config(config):
    assert parse_config(to_toml(config)) == config


# ---------------------------------------------------------------- purity of kiosk/

FORBIDDEN_IMPORTS = ("kivy", "serial", "httpx", "ui", "drivers", "sync")
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "time_ns"), ("time", "monotonic"), ("time", "localtime")}


def _impurities(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [f"{path}:{node.lineno}: import {n}" for n in names if n.split(".")[0] in FORBIDDEN_IMPORTS]
        if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
            owner = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            if (owner, node.attr) in CLOCK_CALLS:
                found.append(f"{path}:{node.lineno}: {owner}.{node.attr}")
    return found


def test_purity_checker_catches_a_clock_read(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("import datetime\nimport serial\nx = datetime.datetime.now()\n")
    assert len(_impurities(sample)) == 2


def test_kiosk_core_is_pure_outside_the_cli():
    files = [p for p in (ROOT / "kiosk").rglob("*.py") if "cli" not in p.relative_to(ROOT / "kiosk").parts]
    assert ROOT / "kiosk" / "config.py" in files and ROOT / "kiosk" / "logs.py" in files
    assert [bad for f in files for bad in _impurities(f)] == []
