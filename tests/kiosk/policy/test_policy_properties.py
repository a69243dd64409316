"""Property tests: information only ever settles outcomes, never flips them; age bands."""

import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kiosk.policy import evaluate, load_pack
from kiosk.policy.facts import BOOL, FACTS

PACKS = ["wenzhou", "xuchang", "xinyu", "liaocheng", "hubei"]
ON = dt.date(2025, 6, 1)
dates_before = st.dates(min_value=dt.date(2015, 1, 1), max_value=ON)


def _full_person():
    fields = {k: st.booleans() for k, kind in FACTS.items() if kind == BOOL}
    fields.update(
        sex=st.sampled_from(["M", "F"]),
        birth_date=st.dates(min_value=dt.date(1945, 1, 1), max_value=dt.date(2012, 12, 31)),
        female_base_age=st.sampled_from([50, 55]),
        resident_type=st.sampled_from(["mainland", "hmt", "foreign"]),
        registered_unemployed_since=st.none() | dates_before,
        difficulty_exited_on=st.none() | dates_before,
        graduate_year=st.none() | st.integers(2018, 2028),
    )
    return st.fixed_dictionaries(fields)


full_people = _full_person()
subsets = st.sets(st.sampled_from(sorted(FACTS)))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PACKS), full_people, subsets)
def test_partial_facts_never_contradict_full_facts(name, full, hidden):
    pack = load_pack(name)
    complete = evaluate(pack, full, ON)
    partial = evaluate(pack, {k: v for k, v in full.items() if k not in hidden}, ON)
    assert complete.next_question is None
    for c, p in zip(complete.results, partial.results):
        assert c.eligible is not None and c.missing_facts == []
        if p.eligible is not None:
            assert p.eligible == c.eligible and p.missing_facts == []
        else:
            assert p.missing_facts and set(p.missing_facts) <= hidden
            # filling exactly the listed facts settles the outcome, to the full answer
            known = {k: v for k, v in full.items() if k not in hidden or k in p.missing_facts}
            assert evaluate(pack, known, ON).result(p.program).eligible == c.eligible
        assert set(p.categories) <= set(c.categories)
        assert p.reasons and all(r.clause.startswith(pack.seed) for r in p.reasons)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PACKS), full_people, subsets, st.sampled_from(sorted(FACTS)))
def test_adding_a_fact_outside_missing_changes_nothing(name, full, hidden, extra):
    pack = load_pack(name)
    partial_facts = {k: v for k, v in full.items() if k not in hidden}
    before = evaluate(pack, partial_facts, ON)
    if extra in partial_facts:
        return
    after = evaluate(pack, {**partial_facts, extra: full[extra]}, ON)
    for b, a in zip(before.results, after.results):
        if extra not in b.missing_facts:
            assert a.eligible == b.eligible and a.missing_facts == b.missing_facts


def _category_days(pack, facts, program, category, days):
    return [category in evaluate(pack, facts, d).result(program).categories for d in days]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["M", "F"]),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(1990, 12, 31)),
    st.integers(0, 25_000),
    st.integers(1, 3_000),
)
def test_getting_older_never_leaves_a_lower_bounded_band(sex, birth, start, step):
    pack = load_pack("xinyu")
    d1 = birth + dt.timedelta(days=start)
    d2 = d1 + dt.timedelta(days=step)
    facts = {"sex": sex, "birth_date": birth}
    held = _category_days(pack, facts, "employment_difficulty", "age_4050", [d1, d2])
    assert held[0] <= held[1]  # True then False would be leaving the band early


@settings(max_examples=60, deadline=None)
@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(1990, 12, 31)),
    st.lists(st.integers(0, 30_000), min_size=3, max_size=3),
)
def test_rural_age_band_is_one_interval(birth, offsets):
    pack = load_pack("liaocheng")
    d1, d2, d3 = sorted(birth + dt.timedelta(days=o) for o in offsets)
    held = _category_days(pack, {"sex": "M", "birth_date": birth, "urban": False},
                          "public_welfare_job_rural", "rural_age_4565", [d1, d2, d3])
    assert not (held[0] and held[2] and not held[1])


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([("M", None), ("F", 50), ("F", 55)]),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2000, 12, 31)),
    st.lists(st.integers(0, 30_000), min_size=3, max_size=3),
)
def test_working_age_is_one_interval(kind, birth, offsets):
    from kiosk.policy.expr import Parser
    from kiosk.policy.pack import BOOL_FACTS
    from kiosk.policy.predicates import PREDICATES, Context

    node = Parser(BOOL_FACTS, PREDICATES).parse("working_age")
    facts = {"sex": kind[0], "birth_date": birth}
    if kind[1]:
        facts["female_base_age"] = kind[1]
    values = [node.ev(Context(birth + dt.timedelta(days=o), facts))[0] for o in sorted(offsets)]
    assert not (values[0] and values[2] and not values[1])


FEW_VALUED = {k: ((True, False) if kind == BOOL else kind) for k, kind in FACTS.items()
              if kind == BOOL or isinstance(kind, tuple)}


def _everyone_false(**facts):
    """A complete person: every yes/no fact False, then `facts`."""
    base = {k: False for k, kind in FACTS.items() if kind == BOOL}
    base.update(sex="F", birth_date=dt.date(1970, 1, 1), female_base_age=50, resident_type="mainland",
                registered_unemployed_since=None, difficulty_exited_on=None, graduate_year=None)
    return {**base, **facts}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PACKS), full_people, st.sets(st.sampled_from(sorted(FEW_VALUED)), min_size=1, max_size=5))
@example("liaocheng", _everyone_false(birth_date=dt.date(1965, 3, 15), able_to_work=True, wants_work=True),
         {"urban", "disability_certificate"})  # urban decides the rural jobs; the certificate never does
@example("wenzhou", _everyone_false(birth_date=dt.date(1971, 1, 1), able_to_work=True, wants_work=True,
                                    registered_unemployed_since=dt.date(2025, 5, 1)),
         {"female_base_age", "disability_certificate"})
def test_missing_facts_are_exactly_those_that_could_change_the_outcome(name, full, hidden):
    """POLICY.md §5, checked against every completion of the hidden facts (at most 3^5 of them):
    a fact is listed if and only if some completion changes the outcome when that fact alone changes."""
    import itertools

    pack = load_pack(name)
    partial = evaluate(pack, {k: v for k, v in full.items() if k not in hidden}, ON)
    names = sorted(hidden)
    outcomes = {}
    for values in itertools.product(*(FEW_VALUED[k] for k in names)):
        completion = dict(zip(names, values))
        ev = evaluate(pack, {**full, **completion}, ON)
        outcomes[values] = {r.program: r.eligible for r in ev.results}
    for result in partial.results:
        if result.eligible is not None:
            continue
        could_change = {
            names[i] for values in outcomes for i in range(len(names)) for other in FEW_VALUED[names[i]]
            if outcomes[values][result.program] != outcomes[values[:i] + (other,) + values[i + 1:]][result.program]}
        assert set(result.missing_facts) == could_change, (result.program, result.missing_facts, could_change)
