"""Text normalisation and character n-grams for job search.

The same `normalize` runs on postings at import time and on queries at search
time, so whatever it folds (full-width, traditional, case) matches both ways.
Chinese has no spaces between words, so the index holds every character
(unigram) and every adjacent pair (bigram) of each run of letters/digits:
a 1-character query looks up one unigram, a 2-character query one bigram, and a
longer query the AND of its bigrams (then checked as a substring, see index.py).
"""

from __future__ import annotations

import re
import unicodedata

from kiosk.jobs.t2s_table import SIMPLIFIED, TRADITIONAL

# Code point → code point; built once, used by str.translate (fast, C-level).
_T2S = str.maketrans(TRADITIONAL, SIMPLIFIED)
_RUN = re.compile(r"[^\W_]+")  # letters/digits: \w without the underscore


def normalize(text: str) -> str:
    """Fold `text` for matching: NFKC (full-width → half-width), traditional →
    simplified, case-folded, whitespace runs collapsed to one space, trimmed.

    Idempotent: normalize(normalize(x)) == normalize(x) (property-tested).
    """
    folded = unicodedata.normalize("NFKC", text).translate(_T2S).casefold()
    # casefold and the t2s table can produce text NFKC would change again
    # (e.g. 'ǅ' → 'ǆ'); a second pass makes the function idempotent.
    folded = unicodedata.normalize("NFKC", folded).translate(_T2S)
    return " ".join(folded.split())


def runs(normalized: str) -> list[str]:
    """Maximal runs of letters/digits (CJK characters count as letters);
    punctuation and spaces split runs, so no n-gram spans them.
    (`[^\\W_]` is exactly `str.isalnum`, checked over every code point in the tests.)"""
    return _RUN.findall(normalized)


def grams(normalized: str) -> set[str]:
    """Every unigram and bigram of every run of `normalized` text."""
    out: set[str] = set()
    for run in runs(normalized):
        out.update(run)
        out.update(map(str.__add__, run, run[1:]))  # adjacent pairs
    return out


def term_grams(term: str) -> list[str]:
    """The grams a query term must all have: itself if 1-2 characters long,
    otherwise its distinct bigrams (in order, for a stable query text)."""
    if len(term) <= 2:
        return [term]
    return list(dict.fromkeys(term[i : i + 2] for i in range(len(term) - 1)))


def query_terms(query: str) -> list[str]:
    """Split a raw query into normalised terms (runs); empty list = no text query.
    Duplicates are dropped so '保安 保安' ranks like '保安'."""
    return list(dict.fromkeys(runs(normalize(query))))
