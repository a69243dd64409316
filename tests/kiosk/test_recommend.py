"""The 131 recommendation as a pure function, on the sample feed."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kiosk.i18n import catalogue
from kiosk.jobs import parse_feed
from kiosk.jobs.samplegen import SAMPLE_DATE, SAMPLE_PATH
from kiosk.recommend import age_limits, age_on, recommend

FEED = parse_feed(SAMPLE_PATH.read_bytes()).postings


def test_three_jobs_one_training_and_guidance_with_reasons():
    rec = recommend(FEED, birth_date=dt.date(1980, 5, 1), on=SAMPLE_DATE, division_code="330302", intention="保洁")
    assert len(rec.jobs) == 3 and rec.training is not None and rec.guidance
    assert all(p.posting.category != "training" for p in rec.jobs)
    assert rec.training.posting.category == "training"
    top = rec.jobs[0]
    assert ("recommend.matches", {"word": "保洁"}) in top.reasons
    assert any(key == "recommend.near_you" for key, _ in top.reasons)
    zh = catalogue("zh_CN")
    for pick in (*rec.jobs, rec.training):
        for key, values in pick.reasons:
            assert zh.text(key, **values)


def test_age_limits_exclude_postings():
    old = recommend(FEED, birth_date=dt.date(1958, 1, 1), on=SAMPLE_DATE, division_code="330302", jobs=50)
    for pick in old.jobs:
        low, high = age_limits(pick.posting.requirements)
        assert low <= 68 <= high


def test_expired_postings_are_never_recommended():
    rec = recommend(FEED, birth_date=dt.date(1990, 1, 1), on=SAMPLE_DATE, division_code=None, jobs=400)
    assert rec.jobs and all(p.posting.expires_on >= SAMPLE_DATE for p in rec.jobs)


def test_no_candidates_gives_an_empty_pick():
    rec = recommend([], birth_date=dt.date(1990, 1, 1), on=SAMPLE_DATE, division_code="330302")
    assert rec.jobs == () and rec.training is None and rec.guidance


def test_age_limit_parsing():
    assert age_limits("18-45岁，身体健康") == (18, 45)
    assert age_limits("年龄 20 至 55 周岁") == (20, 55)
    assert age_limits("50周岁以下") == (0, 50) and age_limits("45岁以上") == (45, 200)
    assert age_limits("身体健康") == (0, 200)


@given(st.dates(dt.date(1940, 1, 1), dt.date(2010, 12, 31)), st.dates(dt.date(2020, 1, 1), dt.date(2040, 1, 1)))
def test_age_on_birthday_boundary(birth, on):
    age = age_on(birth, on)
    try:
        birthday = birth.replace(year=birth.year + age)
    except ValueError:  # 29 Feb in a common year: the birthday counts from 1 March
        birthday = dt.date(birth.year + age, 3, 1)
    assert birthday <= on
    assert age >= 0 or on < birth
