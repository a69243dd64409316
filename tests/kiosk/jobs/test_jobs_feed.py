"""Feed parsing and validation: clear errors naming line/index and field, nothing else escapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jobs_testdata import BASE, jsonl, posting

from kiosk.errors import UsageError
from kiosk.jobs import FeedError, parse_feed
from kiosk.jobs.model import REQUIRED
from kiosk.jobs.samplegen import SAMPLE_PATH, generate, snapshot


def snap(postings: list[dict], **extra) -> bytes:
    return json.dumps({"version": 1, "generated": "2026-11-20", "postings": postings, **extra}).encode()


def test_sample_feed_is_valid_and_realistic():
    feed = parse_feed(SAMPLE_PATH.read_bytes())
    assert 250 <= len(feed.postings) <= 400
    titles = "".join(p.title for p in feed.postings)
    for word in ["保安", "保洁", "司机", "电工", "厨师", "服务员", "快递员", "护工", "育婴员", "收银员", "公益性岗位"]:
        assert word in titles, word
    assert any(p.public_welfare for p in feed.postings)
    assert {p.district_code[:4] for p in feed.postings} == {"3303", "4110", "3605", "3715"}
    assert any(p.expires_on < feed.postings[0].posted_on.replace(day=20) for p in feed.postings)


def test_sample_feed_file_is_what_the_generator_makes():
    assert json.loads(SAMPLE_PATH.read_text(encoding="utf-8")) == snapshot(300)
    assert generate(5, seed=1) == generate(5, seed=1) != generate(5, seed=2)


def test_json_lines_and_snapshot_give_the_same_postings():
    ps = generate(20)
    assert parse_feed(jsonl(ps)).postings == parse_feed(snap(ps)).postings
    assert parse_feed(b"\xef\xbb\xbf" + jsonl(ps) + b"\n\n").postings == parse_feed(jsonl(ps)).postings


BAD_FIELDS = [
    ("id", ""), ("title", "  "), ("title", 7), ("employer", None), ("district_code", 330302),
    ("district_code", "33030"), ("district_code", "990302"), ("salary_min", "3000"), ("salary_min", True),
    ("salary_min", -1), ("salary_max", 2000), ("salary_max", 10**7), ("public_welfare", "false"),
    ("public_welfare", 0), ("posted_on", "2026/11/01"), ("posted_on", "2026-02-30"),
    ("expires_on", "2026-10-01"), ("expires_on", 20261130), ("hours", 8), ("source", ""),
    ("requirements", "a\x00b"),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_bad_field_names_line_and_field(field, value):
    good = posting(id="ok")
    bad = posting(**{"id": "bad", field: value})
    with pytest.raises(FeedError) as err:
        parse_feed(jsonl([good, bad]))
    assert err.value.reason.startswith(f"line 2: {field}: "), err.value.reason
    with pytest.raises(FeedError) as err:
        parse_feed(snap([good, bad]))
    assert err.value.reason.startswith("postings[1]") and f": {field}: " in err.value.reason


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_field(field):
    raw = dict(BASE)
    del raw[field]
    with pytest.raises(FeedError, match=rf"^line 1: {field}: missing"):
        parse_feed(jsonl([raw]))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no postings"),
        (b"\n \n", "no postings"),
        (b'{"version": 1, "generated": "x", "postings": []}', "no postings"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "line 1: posting: must be a JSON object"),
        (b'{"a": 1}\n{', "line 1: id: missing"),
        (jsonl([BASE]) + b"{oops\n", "line 2: not valid JSON"),
        (jsonl([BASE]) + b'{"x": NaN}\n', "line 2: not valid JSON"),
        (b'{"version": 2, "generated": "x", "postings": []}', "version: unsupported feed version 2"),
        (b'{"version": 1, "generated": 5, "postings": []}', "generated: must be a string"),
        (b'{"version": 1, "generated": "x", "postings": {}}', "postings: must be a list"),
        (jsonl([BASE, BASE]), "line 2: id: duplicate id \"P1\" (first at line 1)"),
    ],
)
def test_whole_feed_errors(data, reason):
    with pytest.raises(FeedError) as err:
        parse_feed(data)
    assert reason in err.value.reason
    assert isinstance(err.value, UsageError)  # the CLI turns it into exit 2


def test_unknown_keys_ignored_and_url_kept():
    feed = parse_feed(jsonl([posting(extra="x", url="https://example.invalid/j/1")]))
    assert feed.postings[0].url == "https://example.invalid/j/1"


# --- property tests: any input gives a Feed or a FeedError, never anything else ---


def parse_or_feed_error(data: bytes) -> None:
    try:
        feed = parse_feed(data)
    except FeedError as exc:
        assert exc.reason and "\n" not in exc.reason
    else:
        assert feed.postings


@given(st.binary(max_size=300))
def test_random_bytes(data):
    parse_or_feed_error(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**8), 10**8) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300)
@given(
    fields=st.dictionaries(st.sampled_from(sorted(BASE)), JSON, max_size=4),
    drop=st.sets(st.sampled_from(sorted(BASE)), max_size=2),
    snapshot_form=st.booleans(),
)
def test_mutated_postings(fields, drop, snapshot_form):
    raw = {k: v for k, v in {**BASE, **fields}.items() if k not in drop}
    parse_or_feed_error(snap([raw]) if snapshot_form else jsonl([raw]))


@settings(max_examples=200)
@given(st.data())
def test_mutated_bytes_of_a_valid_feed(data):
    raw = bytearray(jsonl(generate(3)))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    parse_or_feed_error(bytes(raw))


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_salary_order_enforced(low, high):
    try:
        feed = parse_feed(jsonl([posting(salary_min=low, salary_max=high)]))
    except FeedError as exc:
        assert high < low and "salary_max" in exc.reason
    else:
        assert feed.postings[0].salary_min <= feed.postings[0].salary_max
