"""Search behaviour: short Chinese queries, folding, ranking, expiry, filters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jobs_testdata import day, make_index, posting

from kiosk.errors import UsageError
from kiosk.jobs import Filters, JobIndex, build_index, normalize, parse_feed
from kiosk.jobs.normalize import query_terms
from kiosk.jobs.index import IndexError_, index_is_current
from kiosk.jobs.samplegen import SAMPLE_DATE, SAMPLE_PATH

ON = day("2026-11-20")
POSTINGS = [
    posting(id="guard-old", title="保安员", category="安保", posted_on="2026-10-01", expires_on="2026-12-31"),
    posting(id="guard-new", title="夜班保安", category="安保", posted_on="2026-11-15", expires_on="2026-12-31"),
    posting(id="cat-only", title="门卫", category="保安服务", posted_on="2026-11-18", expires_on="2026-12-31"),
    posting(id="req-only", title="物业保洁", category="保洁", requirements="有保安经验优先",
            employer="许昌物业管理有限公司", district_code="411002", address="许昌市魏都区建设路2号",
            posted_on="2026-11-19", expires_on="2026-12-31", salary_min=2200, salary_max=2800),
    posting(id="driver", title="貨車司機", category="交通运输", requirements="持Ｃ１驾照",
            district_code="330381", posted_on="2026-11-10", expires_on="2026-12-31", salary_min=6000, salary_max=8000),
    posting(id="electric", title="维修电工", category="技工", posted_on="2026-11-05", expires_on="2026-11-20",
            district_code="371502", address="聊城市东昌府区光明路3号"),
    posting(id="pw", title="公益性岗位-社区保洁员", category="公益性岗位", public_welfare=True,
            district_code="360502", posted_on="2026-11-12", expires_on="2026-12-31", salary_min=2000, salary_max=2000),
    posting(id="split", title="保安 安员", category="其他", posted_on="2026-11-11", expires_on="2026-12-31"),
    posting(id="expired", title="保安", category="安保", posted_on="2026-09-01", expires_on="2026-10-01"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> JobIndex:
    with make_index(tmp_path_factory.mktemp("idx") / "jobs.sqlite", POSTINGS) as idx:
        yield idx


def ids(index: JobIndex, query: str, on: dt.date = ON, limit: int = 20, **filters) -> list[str]:
    return [h.posting.id for h in index.search(query, Filters(on=on, **filters), limit=limit)]


def test_two_character_query_ranks_title_then_category_then_other(index):
    # Title matches first (newest first among them), then category, then requirements.
    assert ids(index, "保安") == ["guard-new", "split", "guard-old", "cat-only", "req-only"]


def test_scores_and_matched_field(index):
    hits = index.search("保安", Filters(on=ON))
    assert [(h.score, h.matched) for h in hits][:1] == [(3, "title")]
    assert [(h.posting.id, h.matched) for h in hits][-2:] == [("cat-only", "category"), ("req-only", "other")]


def test_one_character_query(index):
    assert ids(index, "电", on=day("2026-11-20")) == ["electric"]
    assert "driver" in ids(index, "司")


@pytest.mark.parametrize("query", ["司机", "司機", "货车司机", "貨車司機", "ｓ", "车"])
def test_traditional_text_in_posting_and_query(index, query):
    if query == "ｓ":
        assert "driver" not in ids(index, query)
    else:
        assert "driver" in ids(index, query)


@pytest.mark.parametrize("query", ["c1", "C1", "Ｃ１", "ｃ1驾照", " \u3000C1\u3000 "])
def test_full_width_and_case_folded(index, query):
    assert ids(index, query) == ["driver"]


def test_traditional_query_for_simplified_posting(index):
    assert ids(index, "保潔")[:2] == ["req-only", "pw"]
    assert ids(index, "電工") == ["electric"]


def test_longer_term_must_occur_whole(index):
    # "split" has the bigrams 保安 and 安员 but not the word 保安员.
    assert ids(index, "保安员") == ["guard-old"]


def test_several_terms_all_required_and_scored(index):
    assert ids(index, "保安 许昌") == ["req-only"]
    # Score = sum of each term's best field: 4 (title + employer) beats 3 (category + employer).
    assert ids(index, "保安 物业") == ["req-only", "guard-new", "split", "guard-old", "cat-only"]
    assert ids(index, "门卫 保安") == ["cat-only"]
    assert ids(index, "保安 保安") == ids(index, "保安")


@pytest.mark.parametrize(("on", "present"), [("2026-11-19", True), ("2026-11-20", True), ("2026-11-21", False)])
def test_expiry_boundary(index, on, present):
    assert ("electric" in ids(index, "电工", on=day(on))) is present
    assert ("electric" in ids(index, "", on=day(on))) is present


def test_expired_never_listed(index):
    assert "expired" not in ids(index, "保安") + ids(index, "")
    assert "expired" in ids(index, "保安", on=day("2026-10-01"))


def test_district_filter_covers_children(index):
    assert ids(index, "保安", district="330300") == ["guard-new", "split", "guard-old", "cat-only"]
    assert ids(index, "", district="330000") == ids(index, "", district="330300")
    assert ids(index, "", district="330381") == ["driver"]
    assert ids(index, "", district="411000") == ["req-only"]
    assert ids(index, "", district="420000") == []


def test_category_salary_pw_limit_filters(index):
    assert ids(index, "", category="安保") == ["guard-new", "guard-old"]
    assert ids(index, "", category=" 安保 ") == ids(index, "", category="安保")  # folded
    assert ids(index, "", category="安") == []  # but exact, not a substring
    assert ids(index, "", min_salary=6000) == ["driver"]
    assert ids(index, "", min_salary=6001) == []
    assert ids(index, "", pw_only=True) == ["pw"]
    assert ids(index, "保洁", pw_only=True) == ["pw"]
    assert ids(index, "保安", limit=2) == ["guard-new", "split"]


def test_blank_query_lists_newest_first(index):
    assert ids(index, "   ") == ["req-only", "cat-only", "guard-new", "pw", "split", "driver", "electric",
                                 "guard-old"]
    assert ids(index, "，。") == ids(index, "")


def test_no_match_and_bad_limit(index):
    assert ids(index, "飞行员") == []
    with pytest.raises(UsageError):
        index.search("保安", Filters(on=ON), limit=0)


def test_json_of_a_hit_has_the_contract_keys(index):
    hit = index.search("司机", Filters(on=ON))[0]
    out = json.loads(json.dumps(hit.to_json(), ensure_ascii=False))
    assert {"id", "title", "employer", "district_code", "salary_min", "salary_max", "public_welfare"} <= out.keys()
    assert out["public_welfare"] is False and out["salary_min"] == 6000


# --- the index against a brute-force reference on the sample feed -------------

FIELD_WEIGHT = (("title", 3), ("category", 2), ("other", 1))


def reference(postings, term: str, filters: Filters) -> list[str]:
    """What the ranking promises, computed the slow, obvious way."""
    scored = []
    for p in postings:
        if p.expires_on < filters.on or (filters.pw_only and not p.public_welfare):
            continue
        if filters.category is None and p.category == "training":
            continue  # courses are listed only when asked for by category
        if filters.min_salary is not None and p.salary_min < filters.min_salary:
            continue
        code = filters.district or ""
        prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
        if not p.district_code.startswith(prefix):
            continue
        texts = {"title": normalize(p.title), "category": normalize(p.category),
                 "other": normalize(f"{p.employer}\n{p.requirements}\n{p.address}")}
        weight = max((w for f, w in FIELD_WEIGHT if term in texts[f]), default=0)
        if weight:
            scored.append((-weight, -p.posted_on.toordinal(), p.id))
    return [pid for *_, pid in sorted(scored)]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    feed = parse_feed(SAMPLE_PATH.read_bytes())
    path = tmp_path_factory.mktemp("sample") / "jobs.sqlite"
    build_index(feed, path)
    with JobIndex(path) as idx:
        yield feed.postings, idx


VOCAB = sorted({w for p in parse_feed(SAMPLE_PATH.read_bytes()).postings for w in (p.title, p.category)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    word=st.sampled_from(VOCAB),
    cut=st.tuples(st.integers(0, 6), st.integers(1, 4)),
    days=st.integers(-60, 120),
    district=st.sampled_from([None, "330300", "411000", "371502", "360000"]),
    min_salary=st.sampled_from([None, 2000, 4000, 6000]),
    pw_only=st.booleans(),
)
def test_index_agrees_with_reference(sample, word, cut, days, district, min_salary, pw_only):
    postings, idx = sample
    term = normalize(word).replace("-", "")[cut[0] : cut[0] + cut[1]]
    filters = Filters(on=SAMPLE_DATE + dt.timedelta(days=days), district=district,
                      min_salary=min_salary, pw_only=pw_only)
    got = [h.posting.id for h in idx.search(term, filters, limit=500)]
    if query_terms(term) != [term]:  # punctuation splits or empties a term: see the test below
        return
    assert got == reference(postings, term, filters)


@pytest.mark.parametrize("query", ["(", "（", " ( ) ", "-", "、。"])
def test_a_query_of_punctuation_only_is_a_blank_query(sample, query):
    """Punctuation is not indexed (it splits runs), so "(" searches for nothing in particular:
    the newest postings under the filters, exactly as an empty query."""
    _, idx = sample
    filters = Filters(on=SAMPLE_DATE, district="330300")
    assert [h.posting.id for h in idx.search(query, filters, limit=50)] == \
        [h.posting.id for h in idx.search("", filters, limit=50)] != []


SHORT = sorted({g for w in VOCAB for g in (normalize(w)[:2], normalize(w)[-1:], normalize(w)[1:3]) if g.isalnum()})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(terms=st.lists(st.sampled_from(SHORT + VOCAB[:12] + ["温州", "许昌", "证", "c1", "健康证", "保安员"]), min_size=2, max_size=3, unique=True),
       district=st.sampled_from([None, "330300", "371500"]), pw_only=st.booleans())
def test_level_merge_agrees_with_exact_scoring(  # also for 3+ character terms
    sample, terms, district, pw_only):
    _, idx = sample
    filters = Filters(on=SAMPLE_DATE, district=district, pw_only=pw_only)
    where, params = filters.sql(tags_in_fts=True)
    tags = filters.match()
    fast = [(h.posting.id, h.score, h.matched) for h in idx._levels(terms, tags, where, params)]
    exact = [(h.posting.id, h.score, h.matched) for h in idx._scored(terms, tags, where, params, limit=500)]
    assert fast == exact
    assert [h.posting.id for h in idx.search(" ".join(terms), filters, limit=500)] == [i for i, *_ in exact]


def test_long_term_placed_too_high_by_bigrams_is_held_for_its_true_level(tmp_path):
    postings = [
        posting(id="tricky", title="保安 安员", requirements="持保安员证", posted_on="2026-11-19"),
        posting(id="plain", title="门卫", requirements="持保安员证", posted_on="2026-11-10"),
        posting(id="title", title="保安员", posted_on="2026-11-01"),
    ]
    with make_index(tmp_path / "jobs.sqlite", postings) as idx:
        hits = idx.search("保安员 温州", Filters(on=ON))
        assert [(h.posting.id, h.score) for h in hits] == [("title", 4), ("tricky", 2), ("plain", 2)]


def test_training_courses_show_only_when_asked_for(sample):
    postings, idx = sample
    courses = {p.id for p in postings if p.category == "training" and p.expires_on >= SAMPLE_DATE}
    assert courses
    assert not courses & {h.posting.id for h in idx.search("培训", Filters(on=SAMPLE_DATE), limit=500)}
    asked = {h.posting.id for h in idx.search("", Filters(on=SAMPLE_DATE, category="training"), limit=500)}
    assert asked == courses


CATEGORIES = sorted({p.category for p in parse_feed(SAMPLE_PATH.read_bytes()).postings})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    word=st.sampled_from(["", *VOCAB, "保安 温州", "电工 证", "健康证", "c1"]),
    category=st.sampled_from([None, *CATEGORIES, " 安保 ", "安"]),
    min_salary=st.one_of(st.none(), st.integers(-10, 12000)),  # between the index's salary steps too
    district=st.sampled_from([None, "330300", "411002", "360000"]),
    pw_only=st.booleans(),
)
def test_salary_and_category_tokens_agree_with_reference(sample, word, category, min_salary, district, pw_only):
    postings, idx = sample
    filters = Filters(on=SAMPLE_DATE, district=district, category=category, min_salary=min_salary, pw_only=pw_only)
    if category is not None:  # --category is exact (after folding); training courses only when asked for
        postings = [p for p in postings if normalize(p.category) == normalize(category)]
    got = [h.posting.id for h in idx.search(word, filters, limit=500)]
    terms = normalize(word).split()
    if not terms:  # a blank query lists newest first
        want = reference(postings, "", filters)  # "" occurs everywhere: equal scores, so newest first
    elif len(terms) == 1:
        want = reference(postings, terms[0], filters)
    else:
        want = [pid for pid in reference(postings, terms[0], filters) if pid in set(reference(postings, terms[1], filters))]
        assert set(got) == set(want)
        return
    assert got == want


def test_unusual_characters_are_searchable(tmp_path):
    # CJK extension B, a rare CJK character, digits next to letters: each is one FTS token.
    postings = [posting(id="ext", title="𠀀砼工", requirements="持A2驾照", posted_on="2026-11-19")]
    with make_index(tmp_path / "jobs.sqlite", postings) as idx:
        for query in ["𠀀", "𠀀砼", "砼工", "𠀀砼工", "a2", "Ａ２驾"]:
            assert [h.posting.id for h in idx.search(query, Filters(on=ON))] == ["ext"], query


def test_index_of_another_schema_is_refused_until_rebuilt(tmp_path):
    import sqlite3

    path = tmp_path / "jobs.sqlite"
    assert not index_is_current(path)
    make_index(path, POSTINGS).close()
    assert index_is_current(path)
    with sqlite3.connect(path) as conn:  # an index written by an older release
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.close()
    assert not index_is_current(path)
    with pytest.raises(IndexError_, match="re-import"):
        JobIndex(path)
    make_index(path, POSTINGS).close()  # what `estation jobs import` does
    assert index_is_current(path)
    path.write_bytes(b"not sqlite at all" * 100)
    assert not index_is_current(path)
