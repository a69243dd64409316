"""Hypothesis strategies for valid cards of every type (shared by the idcard tests)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from drivers.idcard.codes import ETHNICITY_BY_CODE
from drivers.idcard.idnumber import check_char

# Any BMP character except surrogates; trimming rules forbid leading/trailing space or NUL.
_char = st.characters(min_codepoint=0x21, max_codepoint=0xFFFF, blacklist_categories=("Cs",))
_inner = st.characters(min_codepoint=0x20, max_codepoint=0xFFFF, blacklist_categories=("Cs",))


def text(max_chars: int) -> st.SearchStrategy[str]:
    """A non-empty field value that survives trimming: no space/NUL at either end."""
    inner = st.text(_inner, max_size=max_chars - 2)
    return st.one_of(_char, st.builds(lambda a, mid, b: a + mid + b, _char, inner, _char))


dates = st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat)
upper = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=3, max_size=3)
digits = lambda n: st.text(st.sampled_from("0123456789"), min_size=n, max_size=n)  # noqa: E731


@st.composite
def citizen_number(draw, prefix: str = "") -> str:
    first17 = prefix + draw(digits(17 - len(prefix)))
    return first17 + check_char(first17)


def _common(draw) -> dict:
    return {
        "sex": draw(st.sampled_from("MFU")),
        "birth_date": draw(dates),
        "valid_from": draw(dates),
        "valid_until": draw(st.one_of(st.none(), dates)),
    }


@st.composite
def resident_cards(draw) -> dict:
    return {"card_type": "resident", "name": draw(text(15)), "ethnicity": draw(st.sampled_from(sorted(set(ETHNICITY_BY_CODE.values())))),
            "address": draw(text(35)), "id_number": draw(citizen_number()), "issuer": draw(text(15)), **_common(draw)}


@st.composite
def hmt_cards(draw) -> dict:
    prefix = draw(st.sampled_from(["810000", "820000", "830000"]))
    return {"card_type": "hmt_residence", "name": draw(text(15)), "ethnicity": None, "address": draw(text(35)),
            "id_number": draw(citizen_number(prefix)), "issuer": draw(text(15)),
            "pass_number": draw(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), min_size=1, max_size=9)),
            "issue_count": draw(st.integers(0, 99)), **_common(draw)}


_latin = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ "), max_size=44).map(lambda s: "A" + s + "Z")


@st.composite
def foreign_2017_cards(draw) -> dict:
    english = draw(_latin.filter(lambda s: len(s) <= 60))
    chinese = draw(st.one_of(st.just(""), text(15)))
    return {"card_type": "foreign_permanent", "name": chinese or english, "english_name": english, "ethnicity": None,
            "address": None, "id_number": draw(upper) + draw(digits(12)), "nationality": draw(upper),
            "issuer": draw(st.one_of(st.just(""), digits(4))), **_common(draw)}


@st.composite
def foreign_2023_cards(draw) -> dict:
    english = draw(_latin.filter(lambda s: len(s) <= 46))
    chinese = draw(st.one_of(st.just(""), text(15)))
    return {"card_type": "foreign_permanent", "name": chinese or english, "english_name": english, "ethnicity": None,
            "address": None, "id_number": draw(citizen_number("9")), "nationality": draw(st.one_of(upper, digits(3))),
            "issuer": "", **_common(draw)}


any_card = st.one_of(resident_cards(), hmt_cards(), foreign_2017_cards(), foreign_2023_cards())
