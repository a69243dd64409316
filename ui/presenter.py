"""From session state to what each screen shows: texts from the catalogue, no rules.

Plain Python (no Kivy), so it is unit-tested without a window.  Every method
returns a dict of ready-to-show strings and flags for one screen.
"""

from __future__ import annotations

from typing import Any

from kiosk.divisions import districts_of, name_of
from kiosk.i18n import Catalogue, catalogue
from kiosk.session import Session, State

SCREEN_FOR_STATE = {
    State.IDLE: "attract", State.CARD: "card", State.CONSENT: "consent", State.QUESTIONS: "question",
    State.RESULTS: "results", State.APPLY: "apply", State.RECEIPT: "receipt", State.JOBS: "jobs",
    State.POSTING: "posting", State.SERVICE: "service", State.STATUS_REPORT: "status_report",
    State.FEEDBACK: "feedback",
}
QUICK_WORDS = ("保洁", "保安", "司机", "电工", "厨师", "服务员", "快递", "护工", "育婴", "收银")
STATUS_KEYS = {True: "results.eligible", False: "results.not_eligible", None: "results.unknown"}
STATUS_STYLE = {True: "eligible", False: "not_eligible", None: "unknown"}


class Presenter:
    def __init__(self, session: Session, lang: str = "zh_CN") -> None:
        self.session = session
        self.cat: Catalogue = catalogue(lang)

    def t(self, key: str, **values: Any) -> str:
        return self.cat.text(key, **values)

    def screen(self) -> str:
        return SCREEN_FOR_STATE[self.session.state]

    def header(self) -> dict:
        s = self.session
        return {
            "title": self.t("app.title"),
            "show_nav": s.state is not State.IDLE,
            "back": self.t("button.back"),
            "start_over": self.t("button.start_over"),
            "countdown": self.t("timeout.warning", seconds=s.warning_seconds) if s.warning_seconds else "",
            "notice": self.t(s.notice) if s.notice else "",
            "error": self.t(s.error) if s.error else "",
        }

    def attract(self) -> dict:
        return {"title": self.t("app.title"), "place_card": self.t("app.place_card"), "offers": self.t("app.offers"),
                "jobs": self.t("app.jobs_without_card"), "feedback": self.t("button.feedback")}

    def card(self) -> dict:
        return {"greeting": self.t("card.greeting", name=self.session.greeting_name()),
                "spoken": self.t("card.spoken"),  # aloud: no name (rendered to a file, heard by all)
                "continue": self.t("button.continue")}

    def consent(self) -> dict:
        return {"title": self.t("consent.title"), "body": self.t("consent.body"), "agree": self.t("button.agree"),
                "disagree": self.t("button.disagree")}

    def question(self) -> dict:
        q = self.session.question
        if q is None:
            return {"fact": "", "prompt": "", "choices": [], "progress": ""}
        answered = len(self.session.visit.answers) if self.session.visit else 0
        return {"fact": q.fact, "prompt": self.t(q.prompt_key),
                "choices": [(c.id, self.t(c.label_key)) for c in q.choices],
                "progress": f"{answered + 1}"}

    def results(self) -> dict:
        ev = self.session.evaluation
        applicable = set(self.session.applicable_programs())
        online = self.session.pack.extra.get("online_registration", {}).get("url", "")
        rows = []
        for r in ev.results if ev else []:
            rows.append({
                "program": r.program,
                "label": self.t(f"program.{r.program}"),
                "status": self.t(STATUS_KEYS[r.eligible]),
                "style": STATUS_STYLE[r.eligible],
                "reasons": [f"{reason.text}（{reason.clause}）" for reason in r.reasons],
                "can_apply": r.program in applicable,
                # 001 §3(1): the city's online registration, beside the decision it belongs to
                "qr": online if online and r.program == "unemployment_registration" and r.program in applicable else "",
            })
        return {"title": self.t("results.title"), "rows": rows, "apply": self.t("button.apply"),
                "qr_text": self.t("results.online_qr"),
                "none": "" if applicable else self.t("results.none"), "jobs": self.t("button.search_jobs"),
                "callback": self.t("button.callback"), "status_report": self.t("button.status_report")}

    def apply(self) -> dict:
        program = self.session.program or ""
        return {"title": self.t("apply.title"), "program": self.t(f"program.{program}") if program else "",
                "phone_prompt": self.t("apply.phone_prompt"), "confirm": self.t("button.confirm")}

    def receipt(self, printer: str | None = None) -> dict:
        """`printer` is the printer's state (ok, paper_low, paper_out, fault, absent) or None."""
        r = self.session.receipt
        if r is None:
            return {"title": "", "kind": "", "record": "", "qr": "", "scan": "", "printing": "", "done": "",
                    "feedback": ""}
        printing = {"ok": "receipt.printing", "paper_low": "receipt.printing", "paper_out": "receipt.paper_out"}.get(
            printer or "", "receipt.printer_unavailable")  # fault, or a configured printer not plugged in
        return {"title": self.t("receipt.title"), "kind": self.t(f"kind.{r.kind}"),
                "record": f"{self.t('receipt.record_id')}: {r.record_id}", "qr": r.token or r.record_id,
                "scan": self.t("receipt.scan"), "printing": self.t(printing) if printer else "",
                "done": self.t("button.done"), "feedback": self.t("button.feedback")}

    def jobs(self) -> dict:
        s = self.session
        city = s.pack.region_codes[0] if s.pack.region_codes else ""
        city_code = (city + "0000")[:6] if len(city) < 6 else city
        rows = [{"id": p["id"], "title": p["title"], "employer": p["employer"],
                 "salary": f"{p['salary_min']}-{p['salary_max']}", "district": name_of(p["district_code"]) or ""}
                for p in s.postings]
        return {"title": self.t("jobs.title"), "quick_words_title": self.t("jobs.quick_words"),
                "quick_words": list(QUICK_WORDS), "district_title": self.t("jobs.district"),
                "districts": list(districts_of(city_code).items()) if city_code else [],
                "rows": rows, "none": self.t("jobs.none") if not rows else "", "currency": self.t("jobs.currency")}

    def posting(self) -> dict:
        p = self.session.posting or {}
        lines = [p.get("employer", ""), name_of(p.get("district_code", "")) or "", p.get("address", ""),
                 f"{p.get('salary_min', '')}-{p.get('salary_max', '')} {self.t('jobs.per_month')}", p.get("hours", ""),
                 p.get("requirements", ""), p.get("contact", "")]
        return {"title": p.get("title", ""), "lines": [line for line in lines if line],
                "qr": p.get("url") or f"estation:posting:{p.get('id', '')}", "scan": self.t("jobs.detail_scan"),
                "can_register": self.session.consented, "register": self.t("button.interested"), "id": p.get("id", "")}

    def service(self) -> dict:
        return {"title": self.t("service.title"), "prompt": self.t("service.phone_prompt"),
                "confirm": self.t("button.confirm")}

    def status_report(self) -> dict:
        return {"title": self.t("status_report.title"),
                "choices": [(c, self.t(f"status_report.{c}")) for c in ("found_job", "still_looking", "wants_training")]}

    def feedback(self) -> dict:
        return {"title": self.t("feedback.title"), "faces": [str(n) for n in range(1, 6)]}
