"""Hypothesis strategies for receipts (shared by the printer tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from drivers.printer.protocol import Align, Feed, Line, QrCode, Receipt

# Any code point GB18030 can carry except controls (sanitize() turns those into spaces).
printable = st.characters(min_codepoint=0x20, max_codepoint=0x10FFFF, blacklist_categories=("Cs", "Cc"))
hanzi = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
line_text = st.text(st.one_of(printable, hanzi), min_size=1, max_size=40)
aligns = st.sampled_from(list(Align))

lines = st.builds(Line, line_text, aligns, st.booleans(), st.integers(1, 8), st.integers(1, 8))
qrs = st.builds(QrCode, st.text(st.one_of(printable, hanzi), min_size=1, max_size=120), st.integers(1, 16),
                st.sampled_from("LMQH"), aligns)
feeds = st.builds(Feed, st.integers(1, 255))
items = st.one_of(lines, qrs, feeds)
receipts = st.builds(Receipt, st.lists(items, max_size=12).map(tuple), st.booleans(), st.integers(0, 255))
