"""The normaliser and the n-grams: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.jobs.normalize import grams, normalize, query_terms, runs, term_grams

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("保潔", "保洁"), ("司機", "司机"), ("電工", "电工"), ("護工", "护工"), ("育嬰員", "育婴员"),
        ("收銀員", "收银员"), ("服務員", "服务员"), ("快遞員", "快递员"), ("廚師", "厨师"),
        ("保安", "保安"), ("ＡＢＣ１２３", "abc123"), ("Ｃ１驾照", "c1驾照"),
        ("保安\u3000温州", "保安 温州"), ("  司机\t\n ", "司机"), ("公益性崗位", "公益性岗位"),
    ],
)
def test_examples(raw, folded):
    assert normalize(raw) == folded


def test_grams_of_a_word():
    assert grams("保安员") == {"保", "安", "员", "保安", "安员"}
    assert grams("c1驾照，保安") == {"c", "1", "驾", "照", "c1", "1驾", "驾照", "保", "安", "保安"}


def test_term_grams_and_terms():
    assert term_grams("保") == ["保"]
    assert term_grams("保安") == ["保安"]
    assert term_grams("保安保安") == ["保安", "安保"]
    assert query_terms(" 保安，司機 保安 ") == ["保安", "司机"]
    assert query_terms(" ，。 ") == []


@given(ANY_TEXT)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@given(ANY_TEXT)
def test_normalized_text_has_no_edge_or_double_spaces(text):
    out = normalize(text)
    assert out == out.strip() and "  " not in out and "\t" not in out and "\n" not in out


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20))
def test_full_width_ascii_folds_like_ascii(text):
    full = "".join(chr(ord(c) + 0xFEE0) for c in text)  # U+FF01..U+FF5E
    assert normalize(full) == normalize(text)


@given(st.text(CJK, min_size=1, max_size=12), st.data())
def test_every_one_and_two_character_substring_is_a_gram(text, data):
    run = normalize(text)
    start = data.draw(st.integers(0, len(run) - 1))
    size = data.draw(st.integers(1, 2))
    piece = run[start : start + size]
    assert set(term_grams(piece)) <= grams(run)


@given(ANY_TEXT)
def test_grams_never_span_a_separator(text):
    for gram in grams(normalize(text)):
        assert 1 <= len(gram) <= 2 and gram.isalnum()
    assert all(r.isalnum() for r in runs(normalize(text)))


def test_runs_split_exactly_where_isalnum_does():
    # runs() uses the regex [^\W_]+; over every code point it must agree with str.isalnum,
    # which is what the index and the query side both rely on.
    import re
    import sys

    word = re.compile(r"[^\W_]")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if bool(word.fullmatch(c)) != c.isalnum()] == []
    assert runs("保安_员 c1，驾照") == ["保安", "员", "c1", "驾照"]
