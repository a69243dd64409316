"""Wenzhou (000) case table, written from the seed text.  Each case names its clause."""

import pytest
from policy_cases import check_case, ids, person

P = "wenzhou"
ED, PW, GS = "employment_difficulty", "public_welfare_job", "graduate_service"
# man, 60 + 10 months delay (born 1968-01): R = 2028-11-20; exactly 5 years left on 2023-11-20
NEAR_MAN = dict(sex="M", birth_date="1968-01-20")
MAN_40 = dict(sex="M", birth_date="1985-03-03")

CASES = [
    # 000 §1(2): 距法定退休年龄不足5年 — exactly 5 years is not "less than 5"
    dict(id="near-retirement-exactly-5y", clause="000 §1(2)", on="2023-11-20", program=ED, eligible=False,
         facts=person(**NEAR_MAN, registered_unemployed_since="2023-10-01"), categories=[]),
    dict(id="near-retirement-day-after", clause="000 §1(2)", on="2023-11-21", program=ED, eligible=True,
         facts=person(**NEAR_MAN, registered_unemployed_since="2023-10-01"), categories=["near_retirement"]),
    # 000 §1(2): 长期失业人员 (登记失业6个月以上) — the 6-month anniversary counts
    dict(id="long-term-day-before-6m", clause="000 §1(2)", on="2025-07-30", program=ED, eligible=False,
         facts=person(**MAN_40, registered_unemployed_since="2025-01-31")),
    dict(id="long-term-6m-reached", clause="000 §1(2)", on="2025-07-31", program=ED, eligible=True,
         facts=person(**MAN_40, registered_unemployed_since="2025-01-31"), categories=["long_term_unemployed"]),
    dict(id="long-term-month-end-clamp", clause="000 §1(2)", on="2025-02-28", program=ED, eligible=True,
         facts=person(**MAN_40, registered_unemployed_since="2024-08-31"), categories=["long_term_unemployed"]),
    # 000 §1(2): needs a valid unemployment registration
    dict(id="not-registered", clause="000 §1(2)", on="2025-06-01", program=ED, eligible=False,
         facts=person(**MAN_40, registered_unemployed_since=None, zero_employment_family=True),
         reason_clause="000 §1(2)"),
    # 000 §1(2): each category on its own; public notice waived for dibao, marginal, disabled
    *[
        dict(id=f"category-{fact}", clause="000 §1(2)", on="2025-06-01", program=ED, eligible=True,
             facts=person(**MAN_40, registered_unemployed_since="2025-05-01", **{fact: True}),
             categories=[cat], details={"public_notice_exempt": exempt, "first_contact": "5_working_days",
                                        "follow_up": "monthly"})
        for fact, cat, exempt in [
            ("poverty_relieved_family", "poverty_relieved_family", False),
            ("subsistence_allowance_family", "subsistence_allowance_family", True),
            ("marginal_subsistence_family", "marginal_subsistence_family", True),
            ("extreme_poverty", "extreme_poverty", False),
            ("zero_employment_family", "zero_employment_family", False),
            ("disability_certificate", "disabled", True),
            ("supports_seriously_ill_relative", "supports_seriously_ill_relative", False),
            ("community_correction_or_released", "community_correction_or_released", False),
            ("land_expropriated", "land_expropriated", False),
        ]
    ],
    # pack decision 8: no hukou or urban condition
    dict(id="non-local-hukou-still-eligible", clause="000 §1(2)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**MAN_40, hukou_local=False, urban=False, registered_unemployed_since="2025-05-01",
                      zero_employment_family=True)),
    # 000 §2(3)1: pension, a job or school end the registration
    dict(id="pensioner", clause="000 §2(3)1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**MAN_40, receiving_pension=True, registered_unemployed_since="2025-05-01",
                      zero_employment_family=True), reason_clause="000 §2(3)1"),
    dict(id="employed", clause="000 §2(3)1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**MAN_40, employed=True, registered_unemployed_since="2025-05-01", zero_employment_family=True),
         categories=["zero_employment_family"]),
    dict(id="student", clause="000 §2(3)1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**MAN_40, in_school=True, registered_unemployed_since="2025-05-01", zero_employment_family=True)),
    # 000 §1(2) 劳动年龄内 / 000 §3(3): reaching R ends it (man born 1965-03-15: R 2025-04-15)
    dict(id="day-before-retirement", clause="000 §3(3)", on="2025-04-14", program=ED, eligible=True,
         facts=person(sex="M", birth_date="1965-03-15", registered_unemployed_since="2025-01-01"),
         categories=["near_retirement"]),
    dict(id="retirement-day", clause="000 §3(3)", on="2025-04-15", program=ED, eligible=False,
         facts=person(sex="M", birth_date="1965-03-15", registered_unemployed_since="2025-01-01")),
    # 000 §3(1), §2(3)2: public-welfare jobs follow the recognition; subsidy 3 years or to R
    dict(id="pw-subsidy-3-years", clause="000 §2(3)2", on="2025-06-01", program=PW, eligible=True,
         facts=person(**MAN_40, registered_unemployed_since="2025-05-01", land_expropriated=True),
         details={"subsidy_ends_on": "2028-06-01"}),
    dict(id="pw-subsidy-to-retirement", clause="000 §2(3)2", on="2024-06-01", program=PW, eligible=True,
         facts=person(**NEAR_MAN, registered_unemployed_since="2024-05-01"),
         details={"subsidy_ends_on": "2028-11-20"}),
    dict(id="pw-not-recognised", clause="000 §3(1)", on="2025-06-01", program=PW, eligible=False,
         facts=person(**MAN_40, registered_unemployed_since="2025-05-01"), details={"subsidy_ends_on": None}),
    # 000 §1(3), pack decision 9: graduates of on's year and the two before, not in school or work
    *[
        dict(id=f"graduate-{year}", clause="000 §1(3)", on="2025-06-01", program=GS, eligible=ok,
             facts=person(base=False, no_category=False, in_school=False, employed=False, graduate_year=year),
             details={"first_contact": "1_month" if ok else None})
        for year, ok in [(2022, False), (2023, True), (2025, True), (2026, False), (None, False)]
    ],
    dict(id="graduate-still-in-school", clause="000 §1(3)", on="2025-06-01", program=GS, eligible=False,
         facts=person(base=False, no_category=False, in_school=True, employed=False, graduate_year=2025)),
    dict(id="graduate-employed", clause="000 §1(3)", on="2025-06-01", program=GS, eligible=False,
         facts=person(base=False, no_category=False, in_school=False, employed=True, graduate_year=2024)),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_wenzhou_case(case):
    check_case(P, case)


def test_public_notice_exempt_left_out_until_known():
    from policy_cases import result

    facts = person(**MAN_40, registered_unemployed_since="2025-05-01", zero_employment_family=True)
    del facts["subsistence_allowance_family"]
    r = result(P, "2025-06-01", facts, ED)
    assert r.eligible is True and "public_notice_exempt" not in r.details
