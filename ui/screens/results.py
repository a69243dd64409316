from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv
from ui.widgets import BodyLabel, StatusLabel, TitleLabel

load_kv(__file__)


class ResultRow(BoxLayout):
    pass


class ResultsScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.results()
        self.ids.title.text = v["title"]
        rows = []
        for r in v["rows"]:
            row = ResultRow()
            row.add_widget(TitleLabel(text=r["label"], halign="left"))
            row.add_widget(StatusLabel(text=r["status"], style=r["style"]))
            if r["can_apply"]:  # the decision first, then the reasons: no scrolling to act
                row.add_widget(self.button(f"{v['apply']}：{r['label']}", I.Apply(r["program"])))
            for reason in r["reasons"]:
                row.add_widget(BodyLabel(text="· " + reason))
            rows.append(row)
        if v["none"]:
            rows.append(BodyLabel(text=v["none"]))
        self.fill(self.ids.rows, rows)
        self.fill(self.ids.actions, [
            self.button(v["jobs"], I.SearchJobs(), "secondary"),
            self.button(v["callback"], I.RequestCallback(), "secondary"),
            self.button(v["status_report"], I.ReportStatus(), "secondary"),
        ])
