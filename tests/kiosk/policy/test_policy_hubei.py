"""Hubei (004): the e-station's service list, offered to everyone."""

from policy_cases import run

SERVICES = [
    "self_service_declaration", "info_push", "bundled_registration", "difficulty_application_intake",
    "si_subsidy_claim", "job_and_training_info", "gig_station_referral",
]


def test_services_offered_to_anyone_with_nothing_known():
    ev = run("hubei", "2025-06-01", {})
    (r,) = ev.results
    assert (r.program, r.eligible, r.categories, r.missing_facts) == ("estation_services", True, SERVICES, [])
    assert ev.next_question is None
    assert {x.clause for x in r.reasons} == {"004 (5)", "004 (8)", "004 (10)", "004 list 4", "004 list 2", "004 (2)"}


def test_services_do_not_depend_on_facts():
    ev = run("hubei", "2025-06-01", {"sex": "M", "birth_date": "1940-01-01", "receiving_pension": True})
    assert ev.results[0].eligible is True and ev.results[0].categories == SERVICES
