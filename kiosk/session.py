"""One resident's visit as an explicit state machine (ARCHITECTURE.md "The resident's path").

    idle -> card -> consent -> questions -> results -> apply -> receipt -> idle
    idle -> jobs -> posting            (no card needed)
    results -> service | status_report -> receipt
    receipt | idle -> feedback -> idle

The transition table `TRANSITIONS` is data: (state, intent type) -> handler.
Intents not in the table for the current state are ignored (a double tap, a
stale answer).  Three intents work from every state: `Cancel` and `CardRemoved`
wipe and return to idle; `Tick` checks the state's inactivity timeout (a
warning with a countdown, then a wipe).  Every return to idle drops every
reference to the resident's data (`_wipe`).

Pure: time comes from the injected `Clock`, randomness from `random_bytes`,
records leave through the `RecordSink` port.  No record is made without the
resident's consent (feedback carries no personal data and needs none).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kiosk import intents as I
from kiosk.ids import uuid7
from kiosk.policy import Evaluation, Pack, evaluate, facts_from_idcard, filing_materials, validate_person
from kiosk.ports import Clock, RecordSink, Signer, local_date
from kiosk.questions import Question, question_for
from kiosk.receipts import Receipt, make_receipt
from kiosk.records import PERSONAL_KINDS, applicant, build_draft, json_answers, kind_for_program, sync_time

PHONE = re.compile(r"1[3-9][0-9]{9}")
STATUS_CHOICES = ("found_job", "still_looking", "wants_training")
JobSearch = Callable[[I.Search, Any], list[dict]]  # (query, date) -> postings


class State(Enum):
    IDLE = "idle"
    CARD = "card"
    CONSENT = "consent"
    QUESTIONS = "questions"
    RESULTS = "results"
    APPLY = "apply"
    RECEIPT = "receipt"
    JOBS = "jobs"
    POSTING = "posting"
    SERVICE = "service"
    STATUS_REPORT = "status_report"
    FEEDBACK = "feedback"


# Seconds of inactivity before the countdown warning, and before the wipe.  The warning
# always leaves at least 20 s to answer "still there?" (WCAG 2.2.1 Timing Adjustable).
WARNING_SECONDS = 20
TIMEOUTS: dict[State, tuple[float, float]] = {
    State.CARD: (30, 50), State.CONSENT: (60, 90), State.QUESTIONS: (45, 65), State.RESULTS: (60, 90),
    State.APPLY: (60, 90), State.RECEIPT: (30, 50), State.JOBS: (60, 90), State.POSTING: (60, 90),
    State.SERVICE: (60, 90), State.STATUS_REPORT: (45, 65), State.FEEDBACK: (20, 40),
}


class Visit:
    """Everything personal about the current visit; dropped whole on wipe."""

    __slots__ = ("card", "consent_at", "answers", "interests", "__weakref__")

    def __init__(self, card: dict) -> None:
        self.card = dict(card)
        self.consent_at: str | None = None
        self.answers: dict[str, Any] = {}  # JSON-profile values, in the order answered
        self.interests: set[str] = set()  # postings whose job_interest record this visit filed


@dataclass
class SessionConfig:
    station_id: str
    consent_version: str = "consent-v1"
    lang: str = "zh"  # language of the engine's reasons: zh | en
    timeouts: dict[State, tuple[float, float]] = field(default_factory=lambda: dict(TIMEOUTS))


class Session:
    def __init__(self, pack: Pack, sink: RecordSink, clock: Clock, random_bytes: Callable[[int], bytes], *,
                 config: SessionConfig, signer: Signer | None = None, job_search: JobSearch | None = None) -> None:
        self.pack, self.sink, self.clock, self.random_bytes = pack, sink, clock, random_bytes
        self.config, self.signer, self.job_search = config, signer, job_search
        self.listeners: list[Callable[[Session], None]] = []  # told after every change (UI, printer)
        self.state = State.IDLE
        self.notice: str | None = None  # a catalogue key to show once (e.g. "card.removed")
        self.warning_seconds: int | None = None  # countdown before the wipe, when warning
        self.records_made = 0
        self._feedback_context = "idle"
        self._last_activity = clock.monotonic()
        self._wipe()

    # --- view for the UI --------------------------------------------------------------------
    @property
    def has_visit(self) -> bool:
        return self.visit is not None

    @property
    def consented(self) -> bool:
        return self.visit is not None and self.visit.consent_at is not None

    def greeting_name(self) -> str:
        return self.visit.card["name"] if self.visit else ""

    # --- dispatch -----------------------------------------------------------------------------
    def handle(self, intent: I.Intent) -> bool:
        """Apply one intent; returns whether it changed anything."""
        now = self.clock.monotonic()
        if isinstance(intent, I.Tick):
            changed = self._check_timeout(now)
        else:
            self._last_activity = now
            was_warning = self.warning_seconds is not None
            self.warning_seconds = None
            handler = GLOBAL.get(type(intent)) or TRANSITIONS.get((self.state, type(intent)))
            # Any touch ends the countdown, even one the state ignores: listeners must hear of it.
            changed = bool(handler and handler(self, intent) is not False) or was_warning
        if changed:
            for listener in list(self.listeners):
                listener(self)
        return changed

    def _go(self, state: State) -> None:
        self.state = state
        self.error = None
        self.notice = None  # a notice belongs to the screen it was given on
        if state is not State.QUESTIONS:
            self.question = None  # a question exists only while it is on screen

    def _wipe(self, notice: str | None = None) -> None:
        self.visit: Visit | None = None
        self.evaluation: Evaluation | None = None
        self.question: Question | None = None
        self.program: str | None = None
        self.receipt: Receipt | None = None
        self.postings: list[dict] = []
        self.posting: dict | None = None
        self.error: str | None = None
        self.state = State.IDLE
        self.notice = notice
        self.warning_seconds = None

    def _check_timeout(self, now: float) -> bool:
        limits = self.config.timeouts.get(self.state)
        if not limits:
            return False
        warn, wipe = limits
        idle_for = now - self._last_activity
        if idle_for >= wipe:
            self._wipe("timeout.wiped")
            return True
        seconds = math.ceil(wipe - idle_for) if idle_for >= warn else None
        if seconds != self.warning_seconds:
            self.warning_seconds = seconds
            return True
        return False

    # --- everywhere ---------------------------------------------------------------------------
    def _cancel(self, _: I.Cancel) -> None:
        self._wipe()

    def _card_removed(self, _: I.CardRemoved) -> bool:
        if self.visit is None:
            return False  # a card lifted after refusing consent, or no card at all
        self._wipe("card.removed")
        return True

    def _card_placed(self, intent: I.CardPlaced) -> bool:
        if self.visit is not None and self.visit.card["id_number"] == intent.card["id_number"]:
            return False  # the same card again
        self._wipe()  # another person's card: nothing of the first visit may carry over
        self.visit = Visit(intent.card)
        self._go(State.CARD)
        return True

    def _card_unreadable(self, intent: I.CardUnreadable) -> bool:
        if self.state is not State.IDLE:
            return False
        self.notice = "card.not_id_card" if intent.not_an_id_card else "card.read_error"
        return True

    def _back(self, _: I.Back) -> bool:
        if self.state in (State.CARD, State.FEEDBACK, State.RECEIPT) or (self.state is State.JOBS and not self.visit):
            self._wipe()
        elif self.state is State.CONSENT:
            self._go(State.CARD)
        elif self.state is State.QUESTIONS:
            if not self.visit.answers:
                self.visit.consent_at = None
                self._go(State.CONSENT)
            else:
                self.visit.answers.popitem()
                self._ask_or_show_results()
        elif self.state is State.RESULTS:
            self._back_from_results()
        elif self.state is State.POSTING:
            self._go(State.JOBS)
        elif self.state in (State.APPLY, State.SERVICE, State.STATUS_REPORT, State.JOBS):
            self._go(State.RESULTS)
        else:
            return False
        return True

    def _back_from_results(self) -> None:
        if self.visit.answers:
            self.visit.answers.popitem()
            self._ask_or_show_results()
        else:
            self.visit.consent_at = None
            self._go(State.CONSENT)

    # --- the resident's path ------------------------------------------------------------------
    def _continue(self, _: I.Continue) -> None:
        self._go(State.CONSENT)

    def _consent(self, intent: I.Consent) -> None:
        if not intent.accepted:
            self._wipe()  # drop the card data at once; jobs stay open
            self._go(State.JOBS)
            self.notice = "consent.refused"
            return
        self.visit.consent_at = sync_time(self.clock.now())
        self._ask_or_show_results()

    def _today(self):
        return local_date(self.clock.now())  # 00:00-08:00 local is still yesterday in UTC

    def facts(self) -> dict[str, Any]:
        card_facts = facts_from_idcard(self.visit.card, self.pack.region_codes)
        return validate_person({**card_facts, **self.visit.answers}, self._today())

    def _ask_or_show_results(self) -> None:
        self.evaluation = evaluate(self.pack, self.facts(), self._today(), self.config.lang)
        fact = self.evaluation.next_question
        if fact is None:
            self.question = None
            self._go(State.RESULTS)
        else:
            self.question = question_for(fact)
            self._go(State.QUESTIONS)

    def _answer(self, intent: I.Answer) -> bool:
        if self.question is None or intent.fact != self.question.fact:
            return False  # a stale tap on a question already answered
        try:
            value = self.question.value_of(intent.choice_id, self._today())
        except KeyError:
            return False
        self.visit.answers[intent.fact] = json_answers({intent.fact: value})[intent.fact]
        self._ask_or_show_results()
        return True

    def applicable_programs(self) -> list[str]:
        if self.evaluation is None:
            return []
        return [r.program for r in self.evaluation.results if r.eligible and kind_for_program(r.program)]

    def _apply(self, intent: I.Apply) -> bool:
        if intent.program not in self.applicable_programs():
            self.error = "apply.not_eligible"
            return True
        self.program = intent.program
        self._go(State.APPLY)
        return True

    def _confirm(self, intent: I.Confirm) -> bool:
        if intent.phone is not None and not PHONE.fullmatch(intent.phone):
            self.error = "apply.phone_invalid"
            return True
        result = self.evaluation.result(self.program)
        kind = kind_for_program(self.program)
        payload = self._personal_payload(intent.phone)
        payload["policy"] = {
            "program": self.program, "eligible": result.eligible, "categories": list(result.categories),
            "clauses": sorted({r.clause for r in result.reasons}), "evaluated_on": self.evaluation.on.isoformat(),
            "answers": dict(self.visit.answers),
        }
        if kind == "employment_difficulty_application":
            payload["materials"] = filing_materials(self.pack, result.categories)
        if kind == "service_request":
            payload = {k: v for k, v in payload.items() if k != "policy"} | {"service": "callback"}
        return self._file(kind, payload)

    def _personal_payload(self, phone: str | None) -> dict[str, Any]:
        return {
            "applicant": applicant(self.visit.card, phone),
            "consent": {"text_version": self.config.consent_version, "given_at": self.visit.consent_at},
            "station": self._station(),
        }

    def _station(self) -> dict[str, str]:
        return {"id": self.config.station_id, "pack": self.pack.name, "pack_version": self.pack.version}

    def _file(self, kind: str, payload: dict[str, Any], *, then: State = State.RECEIPT) -> bool:
        """Build, check and hand a record to the sink; on failure stay put with an error."""
        if kind in PERSONAL_KINDS and not self.consented:
            raise AssertionError("a personal record without consent")  # unreachable by the table
        now = self.clock.now()
        record_id = uuid7(int(now.timestamp() * 1000), self.random_bytes(10))
        draft = build_draft(kind, payload, record_id=record_id, created_at=now)
        try:
            seq = self.sink.append(draft)
        except Exception:  # disk full, key missing...: the resident can retry, nothing half-made
            self.error = "apply.failed"
            return True
        self.records_made += 1
        self.receipt = make_receipt(draft, seq=seq, pack=self.pack.name, signer=self.signer)
        self._go(then)
        return True

    def _done(self, _: I.Continue) -> None:
        self._wipe()

    # --- jobs ------------------------------------------------------------------------------------
    def _search_jobs(self, _: I.SearchJobs) -> None:
        self.postings = []
        self._go(State.JOBS)

    def _search(self, intent: I.Search) -> bool:
        if self.job_search is None:
            return False
        self.postings = self.job_search(intent, self._today())
        return True

    def _show_posting(self, intent: I.ShowPosting) -> bool:
        found = next((p for p in self.postings if p.get("id") == intent.posting_id), None)
        if found is None:
            return False
        self.posting = found
        self._go(State.POSTING)
        return True

    def _register_interest(self, intent: I.RegisterInterest) -> bool:
        if not self.consented or self.posting is None or self.posting.get("id") != intent.posting_id:
            return False
        if intent.posting_id in self.visit.interests:  # a double tap: one record, one slip
            self.notice = "jobs.interest_saved"
            return True
        payload = self._personal_payload(None)
        payload["posting"] = {k: self.posting[k] for k in ("id", "title", "employer")}
        self._file("job_interest", payload, then=State.POSTING)
        if self.error is None:
            self.visit.interests.add(intent.posting_id)
            self.notice = "jobs.interest_saved"
        return True

    # --- callback, status report, feedback -------------------------------------------------------
    def _request_callback(self, _: I.RequestCallback) -> bool:
        if not self.consented:
            return False
        self._go(State.SERVICE)
        return True

    def _report_status(self, _: I.ReportStatus) -> bool:
        if not self.consented:
            return False
        self._go(State.STATUS_REPORT)
        return True

    def _submit_callback(self, intent: I.Submit) -> bool:
        if not PHONE.fullmatch(intent.value):
            self.error = "apply.phone_invalid"
            return True
        return self._file("service_request", self._personal_payload(intent.value) | {"service": "callback"})

    def _submit_status(self, intent: I.Submit) -> bool:
        if intent.value not in STATUS_CHOICES:
            return False
        return self._file("employment_status_report", self._personal_payload(None) | {"status": intent.value})

    def _give_feedback(self, _: I.GiveFeedback) -> None:
        context = "receipt" if self.state is State.RECEIPT else "idle"
        self._wipe()  # feedback is anonymous: nothing of the visit stays
        self._feedback_context = context
        self._go(State.FEEDBACK)

    def _submit_feedback(self, intent: I.Submit) -> bool:
        if intent.value not in ("1", "2", "3", "4", "5"):
            return False
        payload = {"rating": int(intent.value), "station": self._station(),
                   "context": self._feedback_context}
        self._file("feedback", payload, then=State.IDLE)
        if self.error is None:
            self._wipe("feedback.thanks")
        return True


S = State
GLOBAL: dict[type, Callable[..., Any]] = {
    I.Cancel: Session._cancel,
    I.CardRemoved: Session._card_removed,
    I.CardPlaced: Session._card_placed,
    I.CardUnreadable: Session._card_unreadable,
    I.Back: Session._back,
}
TRANSITIONS: Mapping[tuple[State, type], Callable[..., Any]] = {
    (S.IDLE, I.SearchJobs): Session._search_jobs,
    (S.IDLE, I.GiveFeedback): Session._give_feedback,
    (S.CARD, I.Continue): Session._continue,
    (S.CONSENT, I.Consent): Session._consent,
    (S.QUESTIONS, I.Answer): Session._answer,
    (S.RESULTS, I.Apply): Session._apply,
    (S.RESULTS, I.SearchJobs): Session._search_jobs,
    (S.RESULTS, I.RequestCallback): Session._request_callback,
    (S.RESULTS, I.ReportStatus): Session._report_status,
    (S.APPLY, I.Confirm): Session._confirm,
    (S.RECEIPT, I.Continue): Session._done,
    (S.RECEIPT, I.GiveFeedback): Session._give_feedback,
    (S.JOBS, I.Search): Session._search,
    (S.JOBS, I.ShowPosting): Session._show_posting,
    (S.POSTING, I.RegisterInterest): Session._register_interest,
    (S.SERVICE, I.Submit): Session._submit_callback,
    (S.STATUS_REPORT, I.Submit): Session._submit_status,
    (S.FEEDBACK, I.Submit): Session._submit_feedback,
}
