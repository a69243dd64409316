"""Policy engine bench: evaluations per second, and questions asked to settle outcomes.

Figures
- evaluations/s of each full pack (every program, reasons and details) on one core, over
  a generated population of complete persons; target >= 10,000/s for the slowest pack.
- average questions the kiosk asks (following `next_question` from the ID-card facts
  alone until every outcome is settled), versus the baseline of asking every question
  the pack's rules read (measured on the same population).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from kiosk.policy import ID_CARD_FACTS, evaluate, load_pack, pack_names
from kiosk.policy.facts import BOOL, FACTS

ON = dt.date(2025, 6, 1)
TARGET_EVALS = 10_000
SEED = 20250601


def person(rng: random.Random) -> dict[str, Any]:
    """A complete, plausible person (dates parsed, as validate_person returns them)."""
    p: dict[str, Any] = {k: rng.random() < 0.5 for k, kind in FACTS.items() if kind == BOOL}
    for rare in ("zero_employment_family", "subsistence_allowance_family", "marginal_subsistence_family",
                 "extreme_poverty", "disability_certificate", "poverty_relieved_family", "poverty_monitoring",
                 "rural_low_income", "land_expropriated", "supports_seriously_ill_relative",
                 "community_correction_or_released", "receiving_pension", "in_school", "employed"):
        p[rare] = rng.random() < 0.15
    p["able_to_work"] = rng.random() < 0.9
    p["wants_work"] = rng.random() < 0.85
    p["sex"] = rng.choice("MF")
    p["birth_date"] = ON - dt.timedelta(days=rng.randint(14 * 365, 70 * 365))
    p["female_base_age"] = rng.choice((50, 55))
    p["resident_type"] = rng.choices(["mainland", "hmt", "foreign"], [0.95, 0.03, 0.02])[0]
    p["registered_unemployed_since"] = (
        None if rng.random() < 0.3 else ON - dt.timedelta(days=rng.randint(0, 900)))
    p["difficulty_exited_on"] = None if rng.random() < 0.8 else ON - dt.timedelta(days=rng.randint(0, 200))
    p["graduate_year"] = None if rng.random() < 0.8 else rng.randint(2019, 2027)
    return p


def evals_per_second(name: str, people: list[dict[str, Any]], seconds: float = 1.5) -> float:
    pack = load_pack(name)
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for p in people[:200]:
            evaluate(pack, p, ON)
        done += len(people[:200])
        people = people[200:] + people[:200]
    return done / elapsed


def questions_to_settle(name: str, hidden: dict[str, Any]) -> int:
    pack = load_pack(name)
    known = {k: hidden[k] for k in ID_CARD_FACTS if k in hidden}
    asked = 0
    while (q := evaluate(pack, known, ON).next_question) is not None:
        known[q] = hidden[q]
        asked += 1
    assert all(r.eligible is not None for r in evaluate(pack, known, ON).results)
    return asked


def run() -> dict:
    rng = random.Random(SEED)
    people = [person(rng) for _ in range(2_000)]
    sample = people[:400]
    figures: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    names = [n for n in pack_names() if n != "hubei"]  # hubei has no rules to evaluate
    for name in names:
        figures[f"evaluations_per_second_{name}"] = round(evals_per_second(name, people))
        asked = [questions_to_settle(name, p) for p in sample]
        figures[f"questions_avg_{name}"] = round(sum(asked) / len(asked), 2)
        figures[f"questions_max_{name}"] = max(asked)
        baseline[f"questions_every_{name}"] = len(load_pack(name).facts() - ID_CARD_FACTS)
    figures["evaluations_per_second_min"] = min(figures[f"evaluations_per_second_{n}"] for n in names)
    figures["questions_avg_all"] = round(sum(figures[f"questions_avg_{n}"] for n in names) / len(names), 2)
    baseline["questions_every_all"] = round(sum(baseline[f"questions_every_{n}"] for n in names) / len(names), 2)
    figures["questions_ratio_vs_every"] = round(figures["questions_avg_all"] / baseline["questions_every_all"], 3)
    targets = {"evaluations_per_second_min": TARGET_EVALS, "questions_avg_all": "< questions_every_all"}
    met = {
        "evaluations_per_second_min": figures["evaluations_per_second_min"] >= TARGET_EVALS,
        "questions_avg_all": figures["questions_avg_all"] < baseline["questions_every_all"],
    }
    return {"figures": figures, "baseline": baseline, "targets": targets, "met": met,
            "population": {"people": len(people), "question_sample": len(sample), "on": ON.isoformat(),
                           "seed": SEED}}
