"""What can happen to a session: the resident's taps, the card reader, and time.

Frozen dataclasses; the UI and the device adapters create them, `Session.handle` consumes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CardPlaced:
    card: dict = field(repr=False)  # the IDCARD.md §12.2 dict


@dataclass(frozen=True)
class CardRemoved:
    pass


@dataclass(frozen=True)
class CardUnreadable:
    reason: str
    not_an_id_card: bool = False


@dataclass(frozen=True)
class Continue:
    pass


@dataclass(frozen=True)
class Touched:
    """A touch anywhere on the screen (scrolling, reading, a tap between buttons): the resident is
    still there.  Changes nothing but the inactivity timer."""


@dataclass(frozen=True)
class Consent:
    accepted: bool


@dataclass(frozen=True)
class Answer:
    """The answer to the question about `fact`; a stale answer (double tap) is ignored."""

    fact: str
    choice_id: str


@dataclass(frozen=True)
class Apply:
    program: str


@dataclass(frozen=True)
class Confirm:
    phone: str | None = None


@dataclass(frozen=True)
class SearchJobs:
    pass


@dataclass(frozen=True)
class Search:
    query: str = ""
    district: str | None = None
    category: str | None = None
    pw_only: bool = False


@dataclass(frozen=True)
class ShowPosting:
    posting_id: str


@dataclass(frozen=True)
class RegisterInterest:
    posting_id: str


@dataclass(frozen=True)
class RequestCallback:
    pass


@dataclass(frozen=True)
class ReportStatus:
    pass


@dataclass(frozen=True)
class Submit:
    """The value of a one-decision form: a phone number, a status choice, a rating."""

    value: str


@dataclass(frozen=True)
class GiveFeedback:
    pass


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class Tick:
    """Time passes (the UI's clock tick); timeouts are checked against the session clock."""


Intent = (CardPlaced | CardRemoved | CardUnreadable | Continue | Consent | Answer | Apply | Confirm | SearchJobs
          | Search | ShowPosting | RegisterInterest | RequestCallback | ReportStatus | Submit | GiveFeedback | Back
          | Cancel | Tick | Touched)
