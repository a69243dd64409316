"""kiosk.logs: JSON lines, and no ID number (or phone, pass number, name) ever reaches one."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kiosk.logs import JsonFormatter, mask_personal, setup_logging

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check_char(first17: str) -> str:
    """GB 11643 check character (IDCARD.md §10)."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


@st.composite
def id_numbers(draw) -> str:
    """Valid 18-char numbers of every card type: resident, HMT (810000...), foreign 2023 (9...)."""
    area = draw(st.sampled_from(["110105", "650102", "330302", "810000", "820000", "830000"])
                | st.from_regex(r"9[0-9]{5}", fullmatch=True) | st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
    birth = draw(st.dates(date(1900, 1, 1), date(2099, 12, 31))).strftime("%Y%m%d")
    seq = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return with_check_char(area + birth + seq)


foreign_2017 = st.from_regex(r"[A-Z]{3}[0-9]{12}", fullmatch=True)
pass_numbers = st.from_regex(r"[HM][0-9]{8}", fullmatch=True)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
any_number = id_numbers() | foreign_2017 | pass_numbers | mobiles


def test_check_char_helper_matches_the_standard_example():
    assert with_check_char("11010519491231002") == "11010519491231002X"


@contextlib.contextmanager
def captured_logging(level: str = "DEBUG", file: Path | None = None) -> Iterator[io.StringIO]:
    """setup_logging into a buffer; restore the root logger afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buf = io.StringIO()
    try:
        setup_logging(level, file=file, stream=buf)
        yield buf
    finally:
        for handler in root.handlers[:]:
            if handler not in saved_handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved_level)
        logging.captureWarnings(False)


def log_through_every_path(secret: str) -> None:
    """Log `secret` every way our code and the drivers might."""
    app = logging.getLogger("estation.session")
    driver = logging.getLogger("drivers.idcard.transport")  # plain stdlib logging, imports nothing of ours
    app.info(f"card read: {secret}")
    app.info("card read: %s", secret)
    app.info("card read: %r", secret)
    app.info("card read: %(id_number)s %(name)s", {"id_number": secret, "name": secret})
    app.info("card %s", {"card": {"id_number": secret, "address": f"住址{secret}"}})
    app.info("cards %s", [secret, (secret,)])
    app.info("card read", extra={"id_number": secret, "other": secret, "card": {"nested": [{"deep": secret}]}})
    app.info({"pass_number": secret, "note": f"证件{secret}号"})
    driver.debug("frame for %s", secret, extra={"device": "idcard"})
    driver.warning("read failed", extra={"card": {"id_number": secret}})
    try:
        raise ValueError(f"check digit wrong in {secret}")
    except ValueError:
        driver.exception("decode failed")
        app.error("decode failed: %s", secret, exc_info=True, stack_info=True)
    warnings.warn(f"deprecated id {secret}", UserWarning, stacklevel=1)


@settings(max_examples=60, deadline=None)
@given(secret=any_number)
@example(secret="11010519491231002X")
@example(secret="65010219880229123X")
@example(secret="H12345678")
@example(secret="USA123456789012")
@example(secret="13812345678")
def test_personal_numbers_never_reach_a_log_line(secret, tmp_path_factory):
    log_file = tmp_path_factory.mktemp("log") / "estation.log"
    with captured_logging(file=log_file) as buf, warnings.catch_warnings():
        warnings.simplefilter("always")
        log_through_every_path(secret)
    for output in (buf.getvalue(), log_file.read_text(encoding="utf-8")):
        lines = output.splitlines()
        assert len(lines) == 13, output  # every call produced its line (the test can see the data)
        assert secret not in output
        for line in lines:
            json.loads(line)  # each line is one JSON object
        assert secret[-2:] in output  # ...and it was masked, not dropped


chinese_names = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=4)


@settings(max_examples=30, deadline=None)
@given(name=chinese_names)
def test_names_in_structured_data_never_reach_a_log_line(name):
    from dataclasses import dataclass

    @dataclass
    class Card:
        name: str
        sex: str

    with captured_logging() as buf:
        log = logging.getLogger("drivers.idcard.transport")
        log.info("hello %(name)s", {"name": name})
        log.info("card %s", {"card": {"name": name, "english_name": "ZHANG SAN"}})
        log.info("card %r", Card(name, "M"))
        log.info("card", extra={"card": {"name": name}, "english_name": "ZHANG SAN"})
        log.info({"name": name})
        log.info('{"name": "%s"}', name)
    output = buf.getvalue()
    assert len(output.splitlines()) == 6
    assert name not in output and "ZHANG SAN" not in output
    assert output.count(name[0] + "*" * (len(name) - 1)) == 6  # the first character kept, as documented


def test_a_line_is_one_json_object_with_core_and_extra_fields():
    with captured_logging("INFO") as buf:
        logging.getLogger("drivers.idcard.transport").info("SAM %s", "05.01-20101010-1", extra={"device": "idcard",
                                                                                                "retries": 2})
        logging.getLogger("x").debug("below the level")
    (line,) = buf.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "INFO" and record["logger"] == "drivers.idcard.transport"
    assert record["msg"] == "SAM 05.01-20101010-1" and record["device"] == "idcard" and record["retries"] == 2
    assert record["ts"][:4].isdigit() and "T" in record["ts"]


def test_extra_fields_cannot_overwrite_core_fields():
    with captured_logging() as buf:
        logging.getLogger("x").info("real", extra={"level": "fake", "ts": "fake", "logger": "fake"})
    record = json.loads(buf.getvalue())
    assert record["level"] == "INFO" and record["logger"] == "x"
    assert record["extra_level"] == "fake" and record["extra_ts"] == "fake"


def test_setup_twice_replaces_its_own_handlers():
    with captured_logging() as first:
        second = io.StringIO()
        setup_logging("INFO", stream=second)
        logging.getLogger("x").info("once")
    assert first.getvalue() == "" and len(second.getvalue().splitlines()) == 1


def test_a_bad_format_string_keeps_the_line_and_masks_its_args():
    # Formatted directly: pytest's own capture handler would raise on the bad format.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "format %d broken", ("11010519491231002X",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "format %d broken ('110105********002X',)"


def test_unserialisable_extra_is_masked_too():
    class Card:
        def __str__(self) -> str:
            return "Card(id_number=11010519491231002X)"

    with captured_logging() as buf:
        logging.getLogger("x").info("card", extra={"card": Card()})
    assert "11010519491231002X" not in buf.getvalue() and "110105********002X" in buf.getvalue()


# ---------------------------------------------------------------- mask_personal itself


def test_documented_mask_shapes():
    assert mask_personal("id 11010519491231002X.") == "id 110105********002X."
    assert mask_personal("tel 13812345678") == "tel 138****5678"
    assert mask_personal("tel +86 138-1234-5678") == "tel +86 138-****-5678"
    assert mask_personal("USA123456789012") == "USA********9012"
    assert mask_personal("证件 H12345678 号") == "证件 H******78 号"
    assert mask_personal({"name": "张三", "english_name": "JOHN SMITH", "birth_date": "1988-02-29"}) == {
        "name": "张*", "english_name": "J*********", "birth_date": "****-**-**"}
    assert mask_personal({"card": {"address": "新疆乌鲁木齐市", "phone": 13812345678}}) == {
        "card": {"address": "新疆*****", "phone": "138****5678"}}
    assert mask_personal("Card(name='买买提·艾力', sex='M')") == "Card(name='买*****', sex='M')"
    assert mask_personal('{"name": "张三"}') == '{"name": "张*"}'


def test_innocent_values_pass_unchanged():
    line = "SAM 05.01-20101010-0012345678 at 115200 baud, retry 3 of 5, took 112 ms, ws-0001 wenzhou"
    assert mask_personal(line) == line
    assert mask_personal({"device": "idcard", "ok": True, "ratio": 0.5, "n": 42, "none": None}) == {
        "device": "idcard", "ok": True, "ratio": 0.5, "n": 42, "none": None}
    assert mask_personal(1732365000000) == 1732365000000  # a millisecond timestamp is not a phone number


@given(st.text())
@example("name=name=x")
@example("H1381234567890")
def test_masking_is_idempotent_length_preserving_and_total(text):
    once = mask_personal(text)
    assert isinstance(once, str) and len(once) == len(text)
    assert mask_personal(once) == once


@given(st.text(max_size=30), id_numbers() | foreign_2017 | pass_numbers, st.text(max_size=30))
@example("H", "11010519491231002X", "9")
@example("abc", "H12345678", "9")
def test_an_id_number_is_masked_whatever_surrounds_it(prefix, number, suffix):
    # Mobile numbers are left out: glued to other digits they are not recognised (by design:
    # a 13-digit millisecond timestamp must not read as a phone number).
    assert number not in mask_personal(prefix + number + suffix)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.sampled_from(["name", "id_number", "phone", "x", "address"]) | st.text(max_size=5),
                                      children, max_size=4),
                    max_leaves=15))
def test_masking_structures_is_idempotent(value):
    once = mask_personal(value)
    assert mask_personal(once) == once
    json.dumps(once)  # stays serialisable
