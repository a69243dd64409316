"""Liaocheng (003) case table, written from the seed text."""

import pytest
from policy_cases import check_case, ids, person

P = "liaocheng"
RURAL, URBAN = "public_welfare_job_rural", "public_welfare_job_urban"
RURAL_65 = dict(sex="M", birth_date="1960-03-10", urban=False)
RURAL_45_LEAP = dict(sex="F", birth_date="1980-02-29", urban=False)
URBAN_WOMAN = dict(sex="F", birth_date="1980-07-01", female_base_age=50, urban=True)  # R 2033-05-01
URBAN_MAN = dict(sex="M", birth_date="1970-07-01", urban=True)  # R 2031-12-01

CASES = [
    # 003 §2(1): 农村大龄人员(45—65周岁); pack decision 10: the whole 65th year counts
    dict(id="rural-45-day-before", clause="003 §2(1)", on="2025-02-27", program=RURAL, eligible=False,
         facts=person(**RURAL_45_LEAP)),
    dict(id="rural-45-leap-birthday", clause="003 §2(1)", on="2025-02-28", program=RURAL, eligible=True,
         facts=person(**RURAL_45_LEAP), categories=["rural_age_4565"]),
    dict(id="rural-65-last-day", clause="003 §2(1)", on="2026-03-09", program=RURAL, eligible=True,
         facts=person(**RURAL_65), categories=["rural_age_4565"],
         details={"pay_floor": "hourly_minimum_wage", "subsidy_ends_on": "2029-03-09", "subsidy_extendable": True}),
    dict(id="rural-66th-birthday", clause="003 §2(1)", on="2026-03-10", program=RURAL, eligible=False,
         facts=person(**RURAL_65)),
    dict(id="urban-age-band-no-rural", clause="003 §2(1)", on="2025-06-01", program=RURAL, eligible=False,
         facts=person(**{**RURAL_65, "urban": True})),
    dict(id="rural-disabled", clause="003 §2(1)", on="2025-06-01", program=RURAL, eligible=True,
         facts=person(sex="M", birth_date="1990-01-01", urban=False, disability_certificate=True),
         categories=["rural_disabled"]),
    dict(id="urban-disabled-not-rural", clause="003 §2(1)", on="2025-06-01", program=RURAL, eligible=False,
         facts=person(sex="M", birth_date="1990-01-01", urban=True, disability_certificate=True)),
    # 含防止返贫监测帮扶对象; pack decision 11: not limited to rural residents
    dict(id="monitoring-object", clause="003 §2(1)", on="2025-06-01", program=RURAL, eligible=True,
         facts=person(sex="F", birth_date="1990-01-01", urban=True, poverty_monitoring=True),
         categories=["poverty_relieved"]),
    dict(id="rural-low-income", clause="003 §2(1)", on="2025-06-01", program=RURAL, eligible=True,
         facts=person(sex="F", birth_date="1990-01-01", rural_low_income=True), categories=["rural_low_income"]),
    # pack decision 13: ability and will to work
    dict(id="no-wish-to-work", clause="003 §2(1)", on="2025-06-01", program=RURAL, eligible=False,
         facts=person(**RURAL_65, wants_work=False)),
    # 003 §2(1): 城镇大龄失业人员 women 45+, men 55+ to retirement
    dict(id="urban-woman-day-before-45", clause="003 §2(1)", on="2025-06-30", program=URBAN, eligible=False,
         facts=person(**URBAN_WOMAN)),
    dict(id="urban-woman-45th-birthday", clause="003 §2(1)", on="2025-07-01", program=URBAN, eligible=True,
         facts=person(**URBAN_WOMAN), categories=["urban_older_unemployed"],
         details={"pay_floor": "monthly_minimum_wage", "subsidy_ends_on": "2028-07-01", "subsidy_extendable": False}),
    dict(id="urban-man-55th-birthday", clause="003 §2(1)", on="2025-07-01", program=URBAN, eligible=True,
         facts=person(**URBAN_MAN), categories=["urban_older_unemployed"]),
    dict(id="urban-man-day-before-55", clause="003 §2(1)", on="2025-06-30", program=URBAN, eligible=False,
         facts=person(**URBAN_MAN)),
    dict(id="urban-older-but-employed", clause="003 §2(1)", on="2025-07-01", program=URBAN, eligible=False,
         facts=person(**URBAN_MAN, employed=True)),
    dict(id="rural-older-not-urban", clause="003 §2(1)", on="2025-07-01", program=URBAN, eligible=False,
         facts=person(**{**URBAN_MAN, "urban": False})),
    dict(id="urban-zero-employment", clause="003 §2(1)", on="2025-06-01", program=URBAN, eligible=True,
         facts=person(sex="M", birth_date="1995-01-01", urban=True, zero_employment_family=True),
         categories=["zero_employment_family"]),
    dict(id="urban-retirement-day", clause="003 §2(1)", on="2031-12-01", program=URBAN, eligible=False,
         facts=person(**URBAN_MAN), reason_clause="003 §2(1)"),
    # 003 §2(4): <5 years to R at first approval → subsidy to R (man born 1966-03: R 2026-07-01)
    dict(id="urban-subsidy-to-retirement", clause="003 §2(4)", on="2025-06-01", program=URBAN, eligible=True,
         facts=person(sex="M", birth_date="1966-03-01", urban=True), details={"subsidy_ends_on": "2026-07-01"}),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_liaocheng_case(case):
    check_case(P, case)
