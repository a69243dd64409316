"""Random intent sequences against the session (hypothesis RuleBasedStateMachine).

Invariants: never a personal record without consent at the moment it is filed;
every Cancel / removal / timeout lands in idle with nothing of the visit left;
the state is always one of the table's; records only ever come from a confirm-type intent.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kiosk import intents as I
from kiosk.records import PERSONAL_KINDS, schema_problems
from kiosk.session import State
from session_harness import card, make_session

POSTINGS = [{"id": "JOB-1", "title": "保洁", "employer": "温州物业"}]


class CheckingSink:
    """Asserts consent at the moment of filing, and that every payload matches its schema."""

    def __init__(self) -> None:
        self.session = None
        self.drafts = []
        self.fail = False

    def append(self, draft):
        if draft.kind in PERSONAL_KINDS:
            assert self.session.consented, f"{draft.kind} filed without consent"
        assert schema_problems(draft.kind, draft.payload) == []
        if self.fail:
            raise OSError("spool unavailable")
        self.drafts.append(draft)
        return len(self.drafts)


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.s, self.clock, _ = make_session(pack="xuchang", job_search=lambda q, on: list(POSTINGS))
        self.sink = CheckingSink()
        self.sink.session = self.s
        self.s.sink = self.sink

    @rule(index=st.integers(0, 7))
    def place_card(self, index):
        self.s.handle(I.CardPlaced(card(index)))

    @rule()
    def remove_card(self):
        had_visit = self.s.visit is not None
        self.s.handle(I.CardRemoved())
        if had_visit:
            assert self.s.state is State.IDLE and self.s.visit is None

    @rule()
    def cancel(self):
        self.s.handle(I.Cancel())
        assert self.s.state is State.IDLE and self.s.visit is None and self.s.evaluation is None

    @rule(seconds=st.sampled_from([1, 30, 50, 100, 1000]))
    def wait(self, seconds):
        self.clock.advance(seconds)
        self.s.handle(I.Tick())

    @rule(accepted=st.booleans())
    def consent(self, accepted):
        self.s.handle(I.Consent(accepted))

    @rule()
    def proceed(self):
        self.s.handle(I.Continue())

    @rule(data=st.data())
    def answer(self, data):
        q = self.s.question
        if q is not None:
            self.s.handle(I.Answer(q.fact, data.draw(st.sampled_from([c.id for c in q.choices]))))
        else:
            self.s.handle(I.Answer("employed", "no"))

    @rule(lean_eligible=st.booleans(), data=st.data())
    def answer_everything(self, lean_eligible, data):
        """Reach the results in one step, so applying and filing are explored, not just the start."""
        eligible = {"employed": "no", "receiving_pension": "no", "in_school": "no"}
        for _ in range(40):  # bounded: a question that never goes away is a bug to report, not a hang
            q = self.s.question
            if q is None:
                return
            choice = eligible.get(q.fact, "yes") if lean_eligible and q.choices[0].id == "yes" else \
                data.draw(st.sampled_from([c.id for c in q.choices]))
            assert self.s.handle(I.Answer(q.fact, choice)), f"the answer to {q.fact} was not taken"
        raise AssertionError("questions never end")

    @rule()
    def start_visit(self):
        for intent in (I.CardPlaced(card(1)), I.Continue(), I.Consent(True)):
            self.s.handle(intent)

    @rule()
    def apply_for_what_is_open(self):
        programs = self.s.applicable_programs()
        self.s.handle(I.Apply(programs[0] if programs else "unemployment_registration"))

    @rule(program=st.sampled_from(["unemployment_registration", "jobseeker_registration", "service_tier"]))
    def apply(self, program):
        self.s.handle(I.Apply(program))

    @rule(phone=st.sampled_from([None, "13800138000", "123"]), failing=st.booleans())
    def confirm(self, phone, failing):
        self.sink.fail = failing
        self.s.handle(I.Confirm(phone))
        self.sink.fail = False

    @rule(value=st.sampled_from(["13900001111", "found_job", "5", "x"]))
    def submit(self, value):
        self.s.handle(I.Submit(value))

    @rule(intent=st.sampled_from([I.SearchJobs(), I.Search("保"), I.ShowPosting("JOB-1"), I.RegisterInterest("JOB-1"),
                                  I.RequestCallback(), I.ReportStatus(), I.GiveFeedback(), I.Back(),
                                  I.CardUnreadable("x")]))
    def other(self, intent):
        self.s.handle(intent)

    @invariant()
    def consistent(self):
        s = self.s
        assert isinstance(s.state, State)
        if s.state in (State.CARD, State.CONSENT, State.QUESTIONS, State.RESULTS, State.APPLY, State.SERVICE,
                       State.STATUS_REPORT):
            assert s.visit is not None
        if s.state in (State.QUESTIONS, State.RESULTS, State.APPLY, State.SERVICE, State.STATUS_REPORT):
            assert s.consented
        if s.state is State.IDLE:
            assert s.visit is None and s.evaluation is None and s.receipt is None
        assert (s.question is not None) == (s.state is State.QUESTIONS)
        assert s.records_made == len(self.sink.drafts)


SessionMachine.TestCase.settings = settings(max_examples=400, stateful_step_count=50, deadline=None)
TestSessionStateful = SessionMachine.TestCase
