"""The "131" service of 001 §4(1), as far as a kiosk can give it: 3 jobs, 1 guidance, 1 training.

Pure: candidates come in (from the job index, already filtered to the city and
date), a ranked, explained pick comes out.  Each pick carries one-line reasons
as catalogue keys with values ("recommend.matches" {word: 保洁}), so the UI
shows "matches 保洁" / "near you" in the resident's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kiosk.jobs import Posting
from kiosk.jobs.index import TRAINING

_RANGE = re.compile(r"(\d{2})\s*[-–~至到]\s*(\d{2})\s*周?岁")
_BELOW = re.compile(r"(\d{2})\s*周?岁以下")
_ABOVE = re.compile(r"(\d{2})\s*周?岁以上")


@dataclass(frozen=True)
class Pick:
    posting: Posting
    reasons: tuple[tuple[str, dict], ...] = field(default=())


@dataclass(frozen=True)
class Recommendation:
    jobs: tuple[Pick, ...]
    training: Pick | None
    guidance: bool = True  # one career-guidance appointment is always offered (001 §4(1))


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_limits(requirements: str) -> tuple[int, int]:
    """(min, max) age a posting asks for; (0, 200) when it says nothing."""
    if m := _RANGE.search(requirements):
        return int(m[1]), int(m[2])
    low = int(m[1]) if (m := _ABOVE.search(requirements)) else 0
    high = int(m[1]) if (m := _BELOW.search(requirements)) else 200
    return low, high


def _closeness(posting: Posting, division: str | None) -> tuple[int, tuple[str, dict] | None]:
    if not division:
        return 0, None
    if posting.district_code == division:
        return 2, ("recommend.near_you", {})
    if posting.district_code[:4] == division[:4]:
        return 1, ("recommend.same_city", {})
    return 0, None


def _pick(posting: Posting, age: int, division: str | None, intention: str | None) -> tuple[tuple, Pick] | None:
    low, high = age_limits(posting.requirements)
    if not low <= age <= high:
        return None
    reasons: list[tuple[str, dict]] = []
    score = 0
    if intention and (intention == posting.category or intention in posting.title):
        score += 3
        reasons.append(("recommend.matches", {"word": intention}))
    near, why = _closeness(posting, division)
    score += near
    if why:
        reasons.append(why)
    if (low, high) != (0, 200):
        reasons.append(("recommend.age_fits", {"low": low, "high": high}))
    rank = (-score, -posting.posted_on.toordinal(), posting.id)
    return rank, Pick(posting, tuple(reasons))


def recommend(candidates: Iterable[Posting], *, birth_date: dt.date, on: dt.date, division_code: str | None,
              intention: str | None = None, jobs: int = 3) -> Recommendation:
    """Best `jobs` live postings and the best live training course for this person on `on`."""
    age = age_on(birth_date, on)
    ranked_jobs, ranked_training = [], []
    for posting in candidates:
        if not posting.is_live(on):
            continue
        picked = _pick(posting, age, division_code, intention)
        if picked:
            (ranked_training if posting.category == TRAINING else ranked_jobs).append(picked)
    ranked_jobs.sort(key=lambda x: x[0])
    ranked_training.sort(key=lambda x: x[0])
    return Recommendation(jobs=tuple(p for _, p in ranked_jobs[:jobs]),
                          training=ranked_training[0][1] if ranked_training else None)
