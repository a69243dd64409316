"""The decode contract (IDCARD.md §12): every check, the CLI's exits and output, fuzz."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.idcard.protocol import ProtocolError, build_read_response, build_response, checksum, decode_frame
from drivers.idcard.textblock import encode_text_block
from idcard_strategies import any_card

ROOT = Path(__file__).parents[3]
SAMPLES = json.loads((ROOT / "drivers/idcard/sample_cards.json").read_text("utf-8"))
RESIDENT = SAMPLES[0]


def reframe(payload: bytes) -> bytes:
    """A frame with a correct LEN and CHK around SW1..DATA, so deeper checks are reached."""
    body = struct.pack(">H", len(payload) + 1) + payload
    return b"\xaa\xaa\xaa\x96\x69" + body + bytes([checksum(body)])


def with_text(card: dict, offset: int, value: bytes) -> bytes:
    text = bytearray(encode_text_block(card))
    text[offset:offset + len(value)] = value
    return reframe(b"\x00\x00\x90" + struct.pack(">HH", 256, 1024) + bytes(text) + bytes(1024))


def u16(s: str, width: int) -> bytes:
    return (s + " " * (width - len(s))).encode("utf-16-le")


GOOD = build_read_response(RESIDENT)

# (case id, frame bytes, words the reason must contain)
REJECTS = [
    ("empty file", b"", "preamble"),
    ("no preamble", b"\xaa\xaa\xaa\x96\x68" + GOOD[5:], "preamble"),
    ("too short", GOOD[:10], "shorter"),
    ("LEN below 4", bytes.fromhex("AA AA AA 96 69 00 03 00 00 90 93"), "LEN"),
    ("truncated", GOOD[:-1], "truncated"),
    ("trailing bytes", GOOD + b"\x00", "trailing"),
    ("bad checksum", GOOD[:-1] + bytes([GOOD[-1] ^ 0x55]), "checksum"),
    ("status not 90", reframe(b"\x00\x00\x41"), "SW3"),
    ("no TL/PL", reframe(b"\x00\x00\x90\x01\x00"), "at least 4"),
    ("lengths mismatch", reframe(b"\x00\x00\x90" + struct.pack(">HH", 256, 1024) + bytes(10)), "does not match"),
    ("empty text block", reframe(b"\x00\x00\x90" + struct.pack(">HH", 0, 4) + bytes(4)), "TL=0"),
    ("unknown flag", with_text(RESIDENT, 248, "Q".encode("utf-16-le")), "flag"),
    ("flag is a lone surrogate", with_text(RESIDENT, 248, b"\x00\xd8"), "flag"),
    ("empty name", with_text(RESIDENT, 0, u16("", 15)), "name"),
    ("unpaired surrogate in name", with_text(RESIDENT, 0, b"\x00\xd8A\x00"), "name"),
    ("sex code 3", with_text(RESIDENT, 30, u16("3", 1)), "sex"),
    ("ethnicity 57", with_text(RESIDENT, 32, u16("57", 2)), "ethnicity"),
    ("ethnicity one digit", with_text(RESIDENT, 32, u16("1", 2)), "ethnicity"),
    ("ethnicity full-width digits", with_text(RESIDENT, 32, u16("０１", 2)), "ethnicity"),
    ("birth date 30 Feb", with_text(RESIDENT, 36, u16("19720230", 8)), "birth_date"),
    ("birth date 7 digits", with_text(RESIDENT, 36, u16("1972031", 8)), "birth_date"),
    ("valid until words", with_text(RESIDENT, 204, u16("长期有效", 8)), "valid_until"),
    ("empty address", with_text(RESIDENT, 52, u16("", 35)), "address"),
    ("bad check digit", with_text(RESIDENT, 122, u16(RESIDENT["id_number"][:17] + "0" if RESIDENT["id_number"][17] != "0" else RESIDENT["id_number"][:17] + "1", 18)), "id_number"),
    ("lower-case x", with_text(RESIDENT, 122, u16("11010519491231002x", 18)), "id_number"),
    ("empty issuer", with_text(RESIDENT, 158, u16("", 15)), "issuer"),
    ("HMT number without 81/82/83 prefix", with_text(SAMPLES[5], 122, u16("11010519491231002X", 18)), "id_number"),
    ("HMT pass number lower case", with_text(SAMPLES[5], 220, u16("h1234567", 9)), "pass_number"),
    ("HMT issue count not digits", with_text(SAMPLES[5], 238, "1x".encode("utf-16-le")), "issue_count"),
    ("foreign 2017 nationality lower case", with_text(SAMPLES[6], 152, u16("deu", 3)), "nationality"),
    ("foreign 2017 number", with_text(SAMPLES[6], 122, u16("DE1197912010012", 15)), "id_number"),
    ("foreign 2023 number not starting 9", with_text(SAMPLES[7], 122, u16("11010519491231002X", 18)), "id_number"),
    ("foreign 2023 nationality mixed", with_text(SAMPLES[7], 242, u16("K0R", 3)), "nationality"),
    ("foreign empty English name", with_text(SAMPLES[6], 0, u16("", 60)), "english_name"),
]


@pytest.mark.parametrize("frame, words", [c[1:] for c in REJECTS], ids=[c[0] for c in REJECTS])
def test_decode_refuses_with_a_reason(frame, words):
    with pytest.raises(ProtocolError) as err:
        decode_frame(frame)
    assert words in err.value.reason


def test_long_term_validity_and_unknown_sex():
    card = decode_frame(with_text(RESIDENT, 30, u16("9", 1)))
    assert (card["sex"], card["valid_until"]) == ("U", None)
    card = decode_frame(with_text(RESIDENT, 30, u16("0", 1)))
    assert card["sex"] == "U"


def test_nul_padding_and_nul_flag_mean_resident():
    text = bytearray(encode_text_block(RESIDENT))
    text[248:256] = bytes(8)
    for off in range(0, 30, 2):  # name padded with NUL instead of space
        if text[off:off + 2] == b" \x00":
            text[off:off + 2] = b"\x00\x00"
    card = decode_frame(reframe(b"\x00\x00\x90" + struct.pack(">HH", 256, 1024) + bytes(text) + bytes(1024)))
    assert card["card_type"] == "resident" and card["name"] == RESIDENT["name"]


def test_sw1_sw2_are_not_checked():
    frame = reframe(b"\x6a\x82" + GOOD[9:-1])
    assert decode_frame(frame)["id_number"] == RESIDENT["id_number"]


# --- fuzz: only ProtocolError may escape -------------------------------------------------------

def _mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        pos = rng.randrange(len(data)) if data else 0
        if op == 0 and data:
            data[pos] = rng.randrange(256)
        elif op == 1:
            data.insert(pos, rng.randrange(256))
        elif op == 2 and data:
            del data[pos]
        else:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(any_card, st.randoms(use_true_random=False), st.booleans())
def test_fuzz_mutated_frames_raise_only_protocol_error(card, rng, fix_framing):
    frame = _mutate(rng, build_read_response(card))
    if fix_framing and len(frame) > 8:
        frame = reframe(frame[7:-1])  # valid envelope: the mutation reaches the text block
    try:
        decode_frame(frame)
    except ProtocolError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=1400))
def test_fuzz_random_bytes_raise_only_protocol_error(raw):
    for candidate in (raw, reframe(raw), reframe(b"\x00\x00\x90" + struct.pack(">HH", 256, max(0, len(raw) - 256)) + raw)):
        try:
            decode_frame(candidate)
        except ProtocolError:
            pass


# --- the CLI, as a user runs it ------------------------------------------------------------------

def run_decode(path: Path, *, python_flags: tuple[str, ...] = (), env: dict | None = None):
    return subprocess.run([sys.executable, *python_flags, "-m", "drivers.idcard", "decode", str(path)],
                          cwd=ROOT, capture_output=True, env=env, timeout=60)


@pytest.mark.parametrize("card", SAMPLES, ids=[c["card_type"] + ":" + c["name"] for c in SAMPLES])
def test_cli_decodes_every_sample_card(tmp_path, card):
    path = tmp_path / "frame.bin"
    path.write_bytes(build_read_response(card, fingerprint=bytes(512)))
    result = run_decode(path, env={**os.environ, "LC_ALL": "C", "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0 and result.stderr == b""
    out = json.loads(result.stdout.decode("utf-8"))
    codes = {"sex_code": out["sex_code"], "ethnicity_code": out["ethnicity_code"]}
    assert out == {**card, "photo_bytes": 1024, "fingerprint_bytes": 512, **codes}


@pytest.mark.parametrize("case", [REJECTS[0], REJECTS[6], REJECTS[15], REJECTS[23]], ids=lambda c: c[0])
def test_cli_bad_frame_gives_one_error_line_and_exit_2(tmp_path, case):
    path = tmp_path / "frame.bin"
    path.write_bytes(case[1])
    result = run_decode(path)
    assert result.returncode == 2 and result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


@pytest.mark.parametrize("argv", [["decode"], ["decode", "/nonexistent/frame.bin"], ["decode", "a", "b"], [], ["bogus"]])
def test_cli_usage_errors(argv):
    result = subprocess.run([sys.executable, "-m", "drivers.idcard", *argv], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == 2 and result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_cli_directory_instead_of_file(tmp_path):
    result = run_decode(tmp_path)
    assert result.returncode == 2 and result.stderr.decode().startswith("error: ")


def test_decode_needs_only_the_standard_library(tmp_path):
    path = tmp_path / "frame.bin"
    path.write_bytes(GOOD)
    # -S: no site-packages, so no pyserial (nor anything else installed)
    probe = subprocess.run([sys.executable, "-S", "-c", "import serial"], capture_output=True)
    assert probe.returncode != 0
    result = run_decode(path, python_flags=("-S",))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == RESIDENT["name"]
