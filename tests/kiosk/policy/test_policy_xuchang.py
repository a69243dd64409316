"""Xuchang (001) case table, written from the seed text."""

import pytest
from policy_cases import check_case, ids, person, result

P = "xuchang"
UR, JS, TIER, CLASS, PWP = (
    "unemployment_registration", "jobseeker_registration", "service_tier", "service_class", "pw_priority",
)
ADULT = dict(sex="F", birth_date="1990-04-04", female_base_age=50, lives_local=True, insured_or_worked_local=True)
TEEN = dict(sex="M", birth_date="2009-06-01", lives_local=True, insured_or_worked_local=True)
NOT_LOCAL = dict(hukou_local=False, lives_local=False, insured_or_worked_local=False)

CASES = [
    # 001 §3(1): 年满16周岁(含) — the 16th birthday itself counts
    dict(id="age-16-day-before", clause="001 §3(1)", on="2025-05-31", program=UR, eligible=False,
         facts=person(**TEEN), reason_clause="001 §3(1)"),
    dict(id="age-16-birthday", clause="001 §3(1)", on="2025-06-01", program=UR, eligible=True,
         facts=person(**TEEN), details={"first_contact": "5_working_days"}),
    # pack decision 4: no job-seeker registration under 16 either
    dict(id="jobseeker-under-16", clause="001 §4(1)", on="2025-05-31", program=JS, eligible=False,
         facts=person(**TEEN)),
    # 001 §3(1): 含港澳台劳动者; pack decision 2: foreigners get job-seeker registration
    dict(id="hmt-resident-registers", clause="001 §3(1)", on="2025-06-01", program=UR, eligible=True,
         facts=person(**{**ADULT, "hukou_local": False}, resident_type="hmt")),
    dict(id="foreigner-no-ur", clause="001 §3(1)", on="2025-06-01", program=UR, eligible=False,
         facts=person(**ADULT, resident_type="foreign")),
    dict(id="foreigner-jobseeker", clause="001 §4(1)", on="2025-06-01", program=JS, eligible=True,
         facts=person(**ADULT, resident_type="foreign")),
    # 001 §3(1), §5(1): 常住地(或户籍地或参保地或就业地) — any one link suffices
    *[
        dict(id=f"local-link-{key}", clause="001 §3(1)", on="2025-06-01", program=UR, eligible=True,
             facts=person(**{**ADULT, **NOT_LOCAL, key: True}))
        for key in ("hukou_local", "lives_local", "insured_or_worked_local")
    ],
    dict(id="no-local-link", clause="001 §5(1)", on="2025-06-01", program=UR, eligible=False,
         facts=person(**{**ADULT, **NOT_LOCAL}), reason_clause="001 §5(1)"),
    dict(id="no-local-link-jobseeker", clause="001 §4(1)", on="2025-06-01", program=JS, eligible=True,
         facts=person(**{**ADULT, **NOT_LOCAL})),
    # 001 §3(1), §3(4): pension ends it; pack decision 1: past R without a pension may register
    dict(id="pensioner-no-ur", clause="001 §3(1)", on="2025-06-01", program=UR, eligible=False,
         facts=person(**ADULT, receiving_pension=True)),
    dict(id="pensioner-jobseeker", clause="001 §4(1)", on="2025-06-01", program=JS, eligible=True,
         facts=person(**ADULT, receiving_pension=True)),
    dict(id="past-retirement-no-pension", clause="001 §3(1)", on="2025-06-01", program=UR, eligible=True,
         facts=person(sex="M", birth_date="1950-01-01", lives_local=True)),
    # 001 §3(4): 入学 deregisters
    dict(id="student-no-ur", clause="001 §3(4)", on="2025-06-01", program=UR, eligible=False,
         facts=person(**ADULT, in_school=True), reason_clause="001 §3(4)"),
    dict(id="employed-no-ur", clause="001 §3(1)", on="2025-06-01", program=UR, eligible=False,
         facts=person(**ADULT, employed=True)),
    dict(id="ur-not-jobseeker", clause="001 §4(1)", on="2025-06-01", program=JS, eligible=False,
         facts=person(**ADULT)),
    dict(id="no-work-no-training-wish", clause="001 §4(1)", on="2025-06-01", program=JS, eligible=False,
         facts=person(**ADULT, wants_work=False, wants_training=False)),
    # 001 §3(2)1: tier I "131" for all registered; tier II for the difficulty groups (§4(6))
    dict(id="tier-1-only", clause="001 §3(2)1", on="2025-06-01", program=TIER, eligible=True,
         facts=person(**ADULT, registered_unemployed_since="2025-05-01"), categories=["tier_1"],
         details={"first_contact": "5_working_days", "follow_up": None}),
    *[
        dict(id=f"tier-2-{fact}", clause="001 §4(6)", on="2025-06-01", program=TIER, eligible=True,
             facts=person(**ADULT, registered_unemployed_since="2025-05-01", **{fact: True}),
             categories=["tier_1", "tier_2"], details={"follow_up": "monthly"})
        for fact in ("zero_employment_family", "subsistence_allowance_family", "poverty_relieved_family",
                     "disability_certificate")
    ],
    # 001 §3(4): 超过6个月 — the anniversary itself is not "over"
    dict(id="registered-exactly-6m", clause="001 §3(4)", on="2025-07-15", program=TIER, eligible=True,
         facts=person(**ADULT, registered_unemployed_since="2025-01-15"), categories=["tier_1"]),
    dict(id="registered-over-6m", clause="001 §3(4)", on="2025-07-16", program=TIER, eligible=True,
         facts=person(**ADULT, registered_unemployed_since="2025-01-15"), categories=["tier_1", "tier_2"]),
    # 001 §3(2)2: classes by intention
    dict(id="classes", clause="001 §3(2)2", on="2025-06-01", program=CLASS, eligible=True,
         facts=person(**ADULT, wants_training=True, wants_business=False),
         categories=["job_search", "training"]),
    dict(id="classes-not-registered", clause="001 §3(2)2", on="2025-06-01", program=CLASS, eligible=False,
         facts=person(**ADULT, employed=True, wants_training=True, wants_business=True),
         categories=["job_search", "training", "entrepreneurship"]),
    # 001 §4(6) then §3(2)1: public-welfare priority ranking
    dict(id="pw-zero-employment-rank-1", clause="001 §4(6)", on="2025-06-01", program=PWP, eligible=True,
         facts=person(**ADULT, zero_employment_family=True), details={"rank": 1}),
    dict(id="pw-disabled-rank-2", clause="001 §3(2)1", on="2025-06-01", program=PWP, eligible=True,
         facts=person(**ADULT, disability_certificate=True), details={"rank": 2}, categories=["disabled"]),
    dict(id="pw-near-retirement-rank-1", clause="001 §4(6)", on="2025-06-01", program=PWP, eligible=True,
         facts=person(sex="M", birth_date="1968-01-20", lives_local=True, disability_certificate=True),
         categories=["near_retirement", "disabled"], details={"rank": 1}),
    dict(id="pw-none", clause="001 §4(6)", on="2025-06-01", program=PWP, eligible=False,
         facts=person(**ADULT), reason_clause="001 §4(6)"),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_xuchang_case(case):
    check_case(P, case)


def test_rank_waits_for_earlier_groups():
    facts = person(**ADULT, disability_certificate=True)
    del facts["zero_employment_family"]
    r = result(P, "2025-06-01", facts, PWP)
    assert r.eligible is True and "rank" not in r.details
