"""Unknown facts (POLICY.md §5): null outcomes, only the facts that matter, next question."""

from policy_cases import person, result, run

from kiosk.policy import ID_CARD_FACTS, facts_from_idcard, load_pack
from kiosk.policy.facts import FACT_ORDER

ON = "2025-06-01"


def test_decided_false_needs_nothing_more():
    r = result("xinyu", ON, {"sex": "M", "birth_date": "1980-01-01", "employed": True}, "employment_difficulty")
    assert r.eligible is False and r.missing_facts == []
    assert [x.clause for x in r.reasons] == ["002 §1"]


def test_child_is_out_whatever_the_sex():
    # below 16 under every reading: neither sex nor anything else is needed
    r = result("xinyu", ON, {"birth_date": "2015-01-01"}, "employment_difficulty")
    assert r.eligible is False and r.missing_facts == []


def test_female_base_only_when_the_bases_disagree():
    young = result("xinyu", ON, person(sex="F", birth_date="1995-01-01", registered_unemployed_since=None), "employment_difficulty")
    assert young.eligible is False
    open_young = run("xinyu", ON, {"sex": "F", "birth_date": "1995-01-01"})
    assert "female_base_age" not in open_young.results[0].missing_facts
    # 51-year-old woman: retired on base 50, working on base 55
    r = result("xinyu", ON, person(sex="F", birth_date="1974-06-10", registered_unemployed_since="2025-01-01"), "employment_difficulty")
    assert r.eligible is None and r.missing_facts == ["female_base_age"]
    man = run("wenzhou", ON, {"sex": "M", "birth_date": "1974-06-10"})
    assert all("female_base_age" not in x.missing_facts for x in man.results)


def test_only_open_conditions_are_listed():
    facts = person(sex="M", birth_date="1975-01-01", registered_unemployed_since="2025-01-01")
    del facts["able_to_work"], facts["in_school"]
    r = result("xinyu", ON, facts, "employment_difficulty")
    assert r.eligible is None and r.missing_facts == ["able_to_work", "in_school"]
    assert r.categories == ["age_4050"]


def test_one_true_category_settles_the_others():
    facts = person(sex="M", birth_date="1990-01-01", registered_unemployed_since="2025-01-01", no_category=False,
                   land_expropriated=True)
    r = result("xinyu", ON, facts, "employment_difficulty")
    assert r.eligible is True and r.missing_facts == []


def test_next_question_is_most_shared_and_never_from_the_card():
    ev = run("xuchang", ON, {})
    counts = {}
    for r in ev.results:
        for f in r.missing_facts:
            counts[f] = counts.get(f, 0) + 1
    askable = {f: n for f, n in counts.items() if f not in ID_CARD_FACTS}
    best = max(askable.values())
    assert ev.next_question == min((f for f, n in askable.items() if n == best), key=FACT_ORDER.__getitem__)
    for pack in ("wenzhou", "xuchang", "xinyu", "liaocheng"):
        q = run(pack, ON, {}).next_question
        assert q is not None and q not in ID_CARD_FACTS


def test_next_question_null_when_settled():
    ev = run("xinyu", ON, {"sex": "M", "birth_date": "1980-01-01", "employed": True})
    assert ev.next_question is None


def test_asking_next_questions_settles_everything():
    hidden = person(sex="F", birth_date="1972-03-03", female_base_age=55, urban=True, lives_local=True,
                    insured_or_worked_local=False, wants_training=True, wants_business=False, graduate_year=None,
                    registered_unemployed_since="2024-10-01", disability_certificate=True)
    for name in ("wenzhou", "xuchang", "xinyu", "liaocheng"):
        known = {k: hidden[k] for k in ID_CARD_FACTS if k in hidden}
        asked = 0
        while (q := run(name, ON, known).next_question) is not None:
            assert q not in known
            known[q] = hidden[q]
            asked += 1
        ev = run(name, ON, known)
        assert all(r.eligible is not None for r in ev.results), name
        assert asked < len(load_pack(name).facts() - ID_CARD_FACTS), name


def test_facts_from_idcard():
    card = {"card_type": "resident", "name": "张三", "sex": "F", "birth_date": "1980-05-01",
            "id_number": "330302198005011234", "address": "温州市鹿城区"}
    wz = facts_from_idcard(card, load_pack("wenzhou").region_codes)
    assert wz == {"resident_type": "mainland", "sex": "F", "birth_date": "1980-05-01", "hukou_local": True}
    assert facts_from_idcard(card, load_pack("xinyu").region_codes)["hukou_local"] is False
    # the address decides, not where the number was first issued (it stays when a hukou moves)
    moved_in = {**card, "id_number": "360102198005011234", "address": "江西省新余市渝水区城南街道仙来中大道1号"}
    assert facts_from_idcard(moved_in, load_pack("xinyu").region_codes)["hukou_local"] is True
    moved_out = {**card, "address": "广东省深圳市南山区科技园1号"}  # a Wenzhou number, hukou now in Shenzhen
    assert facts_from_idcard(moved_out, load_pack("wenzhou").region_codes)["hukou_local"] is False
    county = {**card, "id_number": "360521198005011234", "address": "江西省分宜县城北路2号"}  # no city named
    assert facts_from_idcard(county, load_pack("xinyu").region_codes)["hukou_local"] is True
    province = {**card, "address": "湖北省宜昌市西陵区1号"}  # Hubei's pack covers the whole province
    assert facts_from_idcard(province, load_pack("hubei").region_codes)["hukou_local"] is True
    no_address = {**card, "address": None}  # the number decides when there is no address to read
    assert facts_from_idcard(no_address, load_pack("wenzhou").region_codes)["hukou_local"] is True
    hmt = {**card, "card_type": "hmt_residence", "id_number": "810000199001011234", "sex": "U"}
    got = facts_from_idcard(hmt, load_pack("xuchang").region_codes)
    assert got["resident_type"] == "hmt" and got["hukou_local"] is False and "sex" not in got
