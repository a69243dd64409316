"""Session state machine: one test per transition, timeouts, double taps, swaps and removals."""

from __future__ import annotations

import gc
import weakref

import pytest

from kiosk import intents as I
from kiosk.session import TIMEOUTS, State, Visit
from session_harness import card, make_session

PREFER = {"employed": "no", "receiving_pension": "no", "able_to_work": "yes", "wants_work": "yes", "in_school": "no",
          "registered_unemployed_since": "registered.over_12_months", "female_base_age": "female_base_age.staff"}
POSTINGS = [{"id": "JOB-1", "title": "保洁", "employer": "温州物业"}, {"id": "JOB-2", "title": "保安", "employer": "温州保安"}]


def answer_all(session) -> int:
    taps = 0
    while session.question is not None:
        q = session.question
        choice = PREFER.get(q.fact, "no" if q.choices[0].id == "yes" else q.choices[-1].id)
        assert session.handle(I.Answer(q.fact, choice))
        taps += 1
    return taps


def drive_to(state: State, pack: str = "wenzhou"):
    s, clock, sink = make_session(pack, job_search=lambda q, on: [p for p in POSTINGS if q.query in p["title"]])
    path = {
        State.IDLE: [],
        State.CARD: [I.CardPlaced(card(0))],
        State.CONSENT: [I.CardPlaced(card(0)), I.Continue()],
        State.QUESTIONS: [I.CardPlaced(card(0)), I.Continue(), I.Consent(True)],
    }
    if state in path:
        for intent in path[state]:
            s.handle(intent)
    else:
        for intent in path[State.QUESTIONS]:
            s.handle(intent)
        answer_all(s)
        follow = {
            State.RESULTS: [],
            State.APPLY: [I.Apply("employment_difficulty")],
            State.RECEIPT: [I.Apply("employment_difficulty"), I.Confirm("13800138000")],
            State.JOBS: [I.SearchJobs()],
            State.POSTING: [I.SearchJobs(), I.Search("保"), I.ShowPosting("JOB-1")],
            State.SERVICE: [I.RequestCallback()],
            State.STATUS_REPORT: [I.ReportStatus()],
            State.FEEDBACK: [I.Apply("employment_difficulty"), I.Confirm(None), I.GiveFeedback()],
        }[state]
        for intent in follow:
            s.handle(intent)
    assert s.state is state, (s.state, s.error)
    return s, clock, sink


ALL_STATES = list(State)
VISIT_STATES = [st for st in State if st not in (State.IDLE, State.FEEDBACK)]


def assert_wiped(s) -> None:
    assert s.state is State.IDLE
    assert (s.visit, s.evaluation, s.question, s.program, s.receipt, s.posting, s.postings) == (None,) * 6 + ([],)


# --- the resident's path, one transition each ------------------------------------------------------

def test_idle_card_placed_greets_by_name():
    s, *_ = drive_to(State.IDLE)
    assert s.handle(I.CardPlaced(card(0)))
    assert s.state is State.CARD and s.greeting_name() == "陈美玲"


def test_card_continue_asks_consent():
    s, *_ = drive_to(State.CARD)
    s.handle(I.Continue())
    assert s.state is State.CONSENT and not s.consented


def test_consent_accepted_records_time_and_asks_the_engines_question():
    s, clock, _ = drive_to(State.CONSENT)
    s.handle(I.Consent(True))
    assert s.state is State.QUESTIONS
    assert s.visit.consent_at == "2026-11-23T09:30:00.000Z"
    assert s.question.fact == s.evaluation.next_question


def test_consent_refused_drops_the_card_and_offers_jobs():
    s, _, sink = drive_to(State.CONSENT)
    s.handle(I.Consent(False))
    assert s.state is State.JOBS and s.visit is None and s.notice == "consent.refused"
    s.handle(I.Search("保"))
    s.handle(I.ShowPosting("JOB-1"))
    assert not s.handle(I.RegisterInterest("JOB-1"))  # no consent: no personal record
    assert sink.drafts == []


def test_card_facts_are_never_asked():
    s, *_ = drive_to(State.QUESTIONS)
    asked = []
    while s.question:
        asked.append(s.question.fact)
        q = s.question
        s.handle(I.Answer(q.fact, PREFER.get(q.fact, q.choices[-1].id)))
    assert not {"sex", "birth_date", "resident_type", "hukou_local"} & set(asked)


def test_answer_moves_to_the_next_question_then_results():
    s, *_ = drive_to(State.QUESTIONS)
    first = s.question.fact
    s.handle(I.Answer(first, PREFER.get(first, "no")))
    assert s.question is None or s.question.fact != first
    answer_all(s)
    assert s.state is State.RESULTS and s.evaluation.next_question is None


def test_double_tap_on_an_answer_is_ignored():
    s, *_ = drive_to(State.QUESTIONS)
    fact = s.question.fact
    s.handle(I.Answer(fact, "no"))
    second = s.question.fact
    assert not s.handle(I.Answer(fact, "no"))  # the same tap again arrives late
    assert s.question.fact == second and s.visit.answers == {fact: False}


def test_unknown_choice_is_ignored():
    s, *_ = drive_to(State.QUESTIONS)
    assert not s.handle(I.Answer(s.question.fact, "maybe"))


def test_results_apply_to_an_eligible_program():
    s, *_ = drive_to(State.RESULTS)
    assert "employment_difficulty" in s.applicable_programs()
    s.handle(I.Apply("employment_difficulty"))
    assert s.state is State.APPLY and s.program == "employment_difficulty"


def test_results_apply_to_an_ineligible_program_is_refused():
    s, *_ = drive_to(State.RESULTS)
    s.handle(I.Apply("graduate_service"))
    assert s.state is State.RESULTS and s.error == "apply.not_eligible"


def test_apply_confirm_files_one_schema_valid_record_and_gives_a_receipt():
    s, _, sink = drive_to(State.APPLY)
    s.handle(I.Confirm("13800138000"))
    assert s.state is State.RECEIPT
    (draft,) = sink.drafts
    assert draft.kind == "employment_difficulty_application"
    assert draft.payload["applicant"]["phone"] == "13800138000"
    assert draft.payload["applicant"]["sex_code"] == "2" and draft.payload["applicant"]["division_code"] == "330302"
    assert draft.payload["consent"] == {"text_version": "consent-v1", "given_at": "2026-11-23T09:30:00.000Z"}
    assert all(c.startswith("000 ") for c in draft.payload["policy"]["clauses"])
    assert s.receipt.record_id == draft.record_id and s.receipt.token.startswith("ES1:")


def test_apply_with_a_bad_phone_number_stays_with_an_error():
    s, _, sink = drive_to(State.APPLY)
    s.handle(I.Confirm("1234"))
    assert s.state is State.APPLY and s.error == "apply.phone_invalid" and sink.drafts == []


def test_sink_failure_keeps_everything_and_a_retry_files_once():
    s, _, sink = drive_to(State.APPLY)
    sink.fail = 1
    s.handle(I.Confirm(None))
    assert s.state is State.APPLY and s.error == "apply.failed" and sink.drafts == []
    s.handle(I.Confirm(None))
    assert s.state is State.RECEIPT and len(sink.drafts) == 1


def test_double_confirm_makes_one_record():
    s, _, sink = drive_to(State.APPLY)
    s.handle(I.Confirm(None))
    assert not s.handle(I.Confirm(None))
    assert len(sink.drafts) == 1


def test_receipt_done_returns_to_idle_wiped():
    s, *_ = drive_to(State.RECEIPT)
    s.handle(I.Continue())
    assert_wiped(s)


def test_jobs_without_a_card():
    s, _, sink = drive_to(State.IDLE)
    s.handle(I.SearchJobs())
    assert s.state is State.JOBS
    s.handle(I.Search("保洁"))
    assert [p["id"] for p in s.postings] == ["JOB-1"]
    s.handle(I.ShowPosting("JOB-1"))
    assert s.state is State.POSTING and s.posting["title"] == "保洁"
    assert not s.handle(I.ShowPosting("JOB-404"))


def test_job_interest_with_consent_files_a_record():
    s, _, sink = drive_to(State.POSTING)
    s.handle(I.RegisterInterest("JOB-1"))
    assert s.state is State.POSTING and s.notice == "jobs.interest_saved"
    assert sink.drafts[-1].kind == "job_interest" and sink.drafts[-1].payload["posting"]["id"] == "JOB-1"


def test_a_second_tap_on_interest_files_no_second_record():
    s, _, sink = drive_to(State.POSTING)
    s.handle(I.RegisterInterest("JOB-1"))
    s.handle(I.RegisterInterest("JOB-1"))  # a double tap, or a doubt
    assert [d.kind for d in sink.drafts].count("job_interest") == 1
    assert s.state is State.POSTING and s.notice == "jobs.interest_saved"


def test_interest_in_another_posting_is_its_own_record_and_notices_do_not_linger():
    s, _, sink = drive_to(State.POSTING)
    s.handle(I.RegisterInterest("JOB-1"))
    s.handle(I.Back())
    assert s.state is State.JOBS and s.notice is None  # "registered" belonged to JOB-1's screen
    s.handle(I.Search("保安"))
    s.handle(I.ShowPosting("JOB-2"))
    assert s.notice is None
    s.handle(I.RegisterInterest("JOB-2"))
    assert [d.payload["posting"]["id"] for d in sink.drafts if d.kind == "job_interest"] == ["JOB-1", "JOB-2"]


def test_the_last_visitors_notice_is_not_shown_to_the_next_one():
    s, *_ = drive_to(State.QUESTIONS)
    s.handle(I.CardRemoved())
    assert s.state is State.IDLE and s.notice == "card.removed"  # shown on the attract screen...
    s.handle(I.SearchJobs())
    assert s.state is State.JOBS and s.notice is None  # ...not to whoever searches jobs next


def test_refused_consent_says_so_on_the_jobs_screen():
    s, *_ = drive_to(State.CONSENT)
    s.handle(I.Consent(False))
    assert s.state is State.JOBS and s.notice == "consent.refused" and s.visit is None


def test_a_touch_anywhere_is_activity():
    s, clock, _ = drive_to(State.RESULTS)
    warn, wipe = TIMEOUTS[State.RESULTS]
    assert 2 * warn > wipe  # the premise of the second half
    clock.advance(warn + 1)
    assert s.handle(I.Tick()) and s.warning_seconds is not None
    assert s.handle(I.Touched())  # scrolling the reasons: the countdown ends, nothing else changes
    assert s.warning_seconds is None and s.state is State.RESULTS
    clock.advance(warn - 1)  # past the wipe, counted from before the touch
    assert not s.handle(I.Tick())
    assert s.state is State.RESULTS and s.visit is not None and s.warning_seconds is None
    assert not s.handle(I.Touched())  # without a countdown a touch changes nothing to redraw


def test_callback_request():
    s, _, sink = drive_to(State.SERVICE)
    s.handle(I.Submit("12"))
    assert s.error == "apply.phone_invalid"
    s.handle(I.Submit("13912345678"))
    assert s.state is State.RECEIPT and sink.drafts[-1].kind == "service_request"
    assert sink.drafts[-1].payload["service"] == "callback"


def test_status_report():
    s, _, sink = drive_to(State.STATUS_REPORT)
    assert not s.handle(I.Submit("retired"))
    s.handle(I.Submit("found_job"))
    assert s.state is State.RECEIPT and sink.drafts[-1].payload["status"] == "found_job"


def test_feedback_is_anonymous():
    s, _, sink = drive_to(State.FEEDBACK)
    assert s.visit is None  # dropped before the rating is asked
    s.handle(I.Submit("5"))
    assert s.state is State.IDLE and s.notice == "feedback.thanks"
    assert sink.drafts[-1].kind == "feedback" and "applicant" not in sink.drafts[-1].payload
    assert sink.drafts[-1].payload["context"] == "receipt"


def test_feedback_from_idle():
    s, _, sink = drive_to(State.IDLE)
    s.handle(I.GiveFeedback())
    assert not s.handle(I.Submit("9"))
    s.handle(I.Submit("3"))
    assert sink.drafts[-1].payload == {"rating": 3, "context": "idle",
                                        "station": {"id": "ws-0001", "pack": "wenzhou", "pack_version": s.pack.version}}


def test_unreadable_card_shows_a_notice_in_idle():
    s, *_ = drive_to(State.IDLE)
    s.handle(I.CardUnreadable("read failed", not_an_id_card=True))
    assert s.notice == "card.not_id_card" and s.state is State.IDLE


# --- back -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("state, expected", [
    (State.CARD, State.IDLE), (State.CONSENT, State.CARD), (State.QUESTIONS, State.CONSENT),
    (State.RESULTS, State.QUESTIONS), (State.APPLY, State.RESULTS), (State.RECEIPT, State.IDLE),
    (State.JOBS, State.RESULTS), (State.POSTING, State.JOBS), (State.SERVICE, State.RESULTS),
    (State.STATUS_REPORT, State.RESULTS), (State.FEEDBACK, State.IDLE),
])
def test_back_from_every_state(state, expected):
    s, *_ = drive_to(state)
    s.handle(I.Back())
    assert s.state is expected


def test_back_in_questions_undoes_the_last_answer():
    s, *_ = drive_to(State.QUESTIONS)
    first = s.question.fact
    s.handle(I.Answer(first, "no"))
    s.handle(I.Back())
    assert s.question.fact == first and s.visit.answers == {}


# --- cancel, card removal, card swap: from every state ------------------------------------------------

@pytest.mark.parametrize("state", ALL_STATES)
def test_cancel_from_every_state_wipes(state):
    s, *_ = drive_to(state)
    s.handle(I.Cancel())
    assert_wiped(s)


@pytest.mark.parametrize("state", VISIT_STATES)
def test_card_removal_from_every_state_wipes(state):
    s, _, sink = drive_to(state)
    before = len(sink.drafts)
    s.handle(I.CardRemoved())
    assert_wiped(s)
    assert s.notice == "card.removed" and len(sink.drafts) == before


def test_card_removed_during_apply_files_nothing():
    s, _, sink = drive_to(State.APPLY)
    s.handle(I.CardRemoved())
    assert not s.handle(I.Confirm(None))
    assert sink.drafts == []


@pytest.mark.parametrize("state", VISIT_STATES)
def test_card_swapped_mid_session_starts_a_fresh_visit(state):
    s, *_ = drive_to(state)
    s.handle(I.CardPlaced(card(2)))
    assert s.state is State.CARD and s.greeting_name() == "李秀英"
    assert s.visit.answers == {} and s.visit.consent_at is None and s.evaluation is None


def test_the_same_card_again_changes_nothing():
    s, *_ = drive_to(State.QUESTIONS)
    assert not s.handle(I.CardPlaced(card(0)))
    assert s.state is State.QUESTIONS


# --- timeouts ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", [st for st in State if st is not State.IDLE])
def test_every_state_warns_then_wipes(state):
    s, clock, _ = drive_to(state)
    warn, wipe = TIMEOUTS[state]
    clock.advance(warn - 0.5)
    s.handle(I.Tick())
    assert s.warning_seconds is None and s.state is state
    clock.advance(1)
    s.handle(I.Tick())
    assert s.warning_seconds == wipe - warn  # ceil of the seconds left
    clock.advance(wipe - warn)
    s.handle(I.Tick())
    assert_wiped(s)
    assert s.notice == "timeout.wiped"


def test_activity_resets_the_countdown():
    s, clock, _ = drive_to(State.QUESTIONS)
    warn, wipe = TIMEOUTS[State.QUESTIONS]
    clock.advance(warn + 1)
    s.handle(I.Tick())
    assert s.warning_seconds is not None
    s.handle(I.Answer(s.question.fact, "no"))
    assert s.warning_seconds is None
    clock.advance(wipe - 1)
    s.handle(I.Tick())
    assert s.state is not State.IDLE


def test_idle_never_times_out():
    s, clock, _ = drive_to(State.IDLE)
    clock.advance(10 ** 6)
    assert not s.handle(I.Tick())


# --- nothing survives a visit -----------------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["done", "cancel", "removed", "timeout", "swap"])
def test_no_reference_to_the_card_survives_the_visit(ending):
    s, clock, sink = make_session()
    tracked = card(1)
    s.handle(I.CardPlaced(tracked))
    s.handle(I.Continue())
    s.handle(I.Consent(True))
    answer_all(s)
    visit_ref, card_ref = weakref.ref(s.visit), weakref.ref(tracked)
    inner_ref = weakref.ref(s.visit.card) if hasattr(s.visit.card, "__weakref__") else None
    del tracked
    if ending == "done":
        s.handle(I.Apply(s.applicable_programs()[0]))
        s.handle(I.Confirm("13800138000"))
        assert s.state is State.RECEIPT and sink.drafts
        s.handle(I.Continue())
    elif ending == "cancel":
        s.handle(I.Cancel())
    elif ending == "removed":
        s.handle(I.CardRemoved())
    elif ending == "timeout":
        clock.advance(10 ** 4)
        s.handle(I.Tick())
    else:
        s.handle(I.CardPlaced(card(2)))
        s.handle(I.Cancel())
    gc.collect()
    assert visit_ref() is None and card_ref() is None and (inner_ref is None or inner_ref() is None)
    assert not any(type(o) is Visit for o in gc.get_objects())  # type(): a dead weakproxy (Kivy's) raises on isinstance


def test_every_warning_leaves_at_least_20_seconds():
    from kiosk.session import WARNING_SECONDS

    assert all(wipe - warn >= WARNING_SECONDS for warn, wipe in TIMEOUTS.values())


def test_an_ignored_touch_still_ends_the_countdown_and_is_reported():
    s, clock, _ = drive_to(State.QUESTIONS)
    heard = []
    s.listeners.append(lambda _s: heard.append(s.warning_seconds))
    warn, _ = TIMEOUTS[State.QUESTIONS]
    clock.advance(warn + 1)
    s.handle(I.Tick())
    assert s.warning_seconds is not None
    assert s.handle(I.CardPlaced(card(0)))  # the same card again: no state change, but a sign of life
    assert s.warning_seconds is None and heard[-1] is None
