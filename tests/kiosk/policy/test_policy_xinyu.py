"""Xinyu (002) case table, written from the seed text."""

import pytest
from policy_cases import check_case, ids, person, result

P = "xinyu"
ED = "employment_difficulty"
REG = dict(registered_unemployed_since="2025-01-01")
WOMAN_40 = dict(sex="F", birth_date="1985-06-01", female_base_age=50, **REG)
MAN_50 = dict(sex="M", birth_date="1975-06-01", **REG)
YOUNG = dict(sex="M", birth_date="1995-01-01", **REG)
# woman born 1974-06-10: base 50 → R 2024-06-10; base 55 → R 2029-08-10 (+14 months)
WOMAN_51 = dict(sex="F", birth_date="1974-06-10", **REG)

CASES = [
    # 002 §1(1): "4050" — women from the 40th, men from the 50th birthday
    dict(id="woman-day-before-40", clause="002 §1(1)", on="2025-05-31", program=ED, eligible=False,
         facts=person(**WOMAN_40), categories=[]),
    dict(id="woman-40th-birthday", clause="002 §1(1)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**WOMAN_40), categories=["age_4050"]),
    dict(id="man-day-before-50", clause="002 §1(1)", on="2025-05-31", program=ED, eligible=False,
         facts=person(**MAN_50)),
    dict(id="man-50th-birthday", clause="002 §1(1)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**MAN_50), categories=["age_4050"]),
    dict(id="leap-day-birthday", clause="002 §1(1)", on="2024-02-29", program=ED, eligible=True,
         facts=person(sex="F", birth_date="1984-02-29", female_base_age=55, registered_unemployed_since="2024-01-01")),
    # pack decision 5: 4050 has no urban limit
    dict(id="rural-4050", clause="002 §1(1)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**MAN_50, urban=False)),
    # 002 §1: 法定劳动年龄内 with women's base 50 vs 55
    dict(id="woman-base-50-retired", clause="002 §1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**WOMAN_51, female_base_age=50), reason_clause="002 §1"),
    dict(id="woman-base-55-working", clause="002 §1", on="2025-06-01", program=ED, eligible=True,
         facts=person(**WOMAN_51, female_base_age=55)),
    dict(id="woman-base-unknown", clause="002 §1", on="2025-06-01", program=ED, eligible=None,
         facts=person(**WOMAN_51), missing=["female_base_age"]),
    dict(id="man-retirement-day", clause="002 §1", on="2025-04-15", program=ED, eligible=False,
         facts=person(sex="M", birth_date="1965-03-15", **REG)),
    dict(id="man-day-before-retirement", clause="002 §1", on="2025-04-14", program=ED, eligible=True,
         facts=person(sex="M", birth_date="1965-03-15", **REG)),
    # 002 §1: 本市户籍, 失业登记
    dict(id="non-local-hukou", clause="002 §1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**MAN_50, hukou_local=False), categories=["age_4050"]),
    dict(id="not-registered", clause="002 §1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**{**MAN_50, "registered_unemployed_since": None})),
    dict(id="registered-after-today", clause="002 §1", on="2025-06-01", program=ED, eligible=True,
         facts=person(**{**MAN_50, "registered_unemployed_since": "2025-06-01"})),
    # 002 §1(2): zero-employment families are urban
    dict(id="zero-employment-urban", clause="002 §1(2)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**YOUNG, urban=True, zero_employment_family=True), categories=["zero_employment_family"]),
    dict(id="zero-employment-rural", clause="002 §1(2)", on="2025-06-01", program=ED, eligible=False,
         facts=person(**YOUNG, urban=False, zero_employment_family=True), categories=[]),
    dict(id="disabled", clause="002 §1(3)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**YOUNG, disability_certificate=True), categories=["disabled"]),
    dict(id="poverty-relieved-rural", clause="002 §1(4)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**YOUNG, urban=False, poverty_relieved_family=True), categories=["poverty_relieved"]),
    # pack decision 7: a monitoring object alone is not 脱贫劳动力
    dict(id="monitoring-only", clause="002 §1(4)", on="2025-06-01", program=ED, eligible=False,
         facts=person(**YOUNG, poverty_monitoring=True)),
    dict(id="land-lost", clause="002 §1(5)", on="2025-06-01", program=ED, eligible=True,
         facts=person(**YOUNG, land_expropriated=True), categories=["land_lost"]),
    # pack decision 6: 低保 is not a Xinyu category
    dict(id="dibao-not-a-category", clause="002 §1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**YOUNG, subsistence_allowance_family=True)),
    # 002 §3(1)1: pension or school withdraw the status
    dict(id="pensioner", clause="002 §3(1)1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**MAN_50, receiving_pension=True), reason_clause="002 §3(1)1"),
    dict(id="student", clause="002 §3(1)1", on="2025-06-01", program=ED, eligible=False,
         facts=person(**MAN_50, in_school=True)),
    # 002 §3(2): again only after 3 full months from the day after exit
    dict(id="reapply-last-day-of-wait", clause="002 §3(2)", on="2025-04-15", program=ED, eligible=False,
         facts=person(**YOUNG, land_expropriated=True, difficulty_exited_on="2025-01-15"), details={"reapply_from": "2025-04-16"},
         reason_clause="002 §3(2)"),
    dict(id="reapply-first-allowed-day", clause="002 §3(2)", on="2025-04-16", program=ED, eligible=True,
         facts=person(**YOUNG, land_expropriated=True, difficulty_exited_on="2025-01-15"), details={"reapply_from": None}),
    dict(id="reapply-month-end-clamp", clause="002 §3(2)", on="2025-02-28", program=ED, eligible=False,
         facts=person(**YOUNG, land_expropriated=True, difficulty_exited_on="2024-11-30"), details={"reapply_from": "2025-03-01"}),
    dict(id="reapply-month-end-allowed", clause="002 §3(2)", on="2025-03-01", program=ED, eligible=True,
         facts=person(**YOUNG, land_expropriated=True, difficulty_exited_on="2024-11-30"), details={"reapply_from": None}),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_xinyu_case(case):
    check_case(P, case)


def test_filing_materials_follow_categories():
    from kiosk.policy import filing_materials, load_pack

    r = result(P, "2025-06-01", person(**YOUNG, disability_certificate=True, land_expropriated=True), ED)
    docs = filing_materials(load_pack(P), r.categories)
    assert docs[:2] == ["身份证或户口本", "《就业创业证》"] and "《残疾人证》" in docs and len(docs) == 4
