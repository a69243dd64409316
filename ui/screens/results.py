from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv
from kivy.metrics import dp

from ui.widgets import BodyLabel, QRCode, StatusLabel, TitleLabel

load_kv(__file__)


class ResultRow(BoxLayout):
    pass


class ResultsScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.results()
        self.ids.title.text = v["title"]
        self.fill(self.ids.rows, repr((v["rows"], v["none"], v["apply"], v["qr_text"])), lambda: self._rows(v))
        self.fill(self.ids.actions, (v["jobs"], v["callback"], v["status_report"]), lambda: [
            self.button(v["jobs"], I.SearchJobs(), "secondary"),
            self.button(v["callback"], I.RequestCallback(), "secondary"),
            self.button(v["status_report"], I.ReportStatus(), "secondary"),
        ])

    def _rows(self, v: dict) -> list:
        rows = []
        for r in v["rows"]:
            row = ResultRow()
            row.add_widget(TitleLabel(text=r["label"], halign="left"))
            row.add_widget(StatusLabel(text=r["status"], style=r["style"]))
            if r["can_apply"]:  # the decision first, then the reasons: no scrolling to act
                row.add_widget(self.button(f"{v['apply']}：{r['label']}", I.Apply(r["program"])))
            if r["qr"]:  # text and code side by side: both fit under the button without scrolling
                line = BoxLayout(size_hint_y=None, height=dp(150), spacing=dp(12))
                line.add_widget(BodyLabel(text=v["qr_text"], size_hint_y=1, valign="middle"))
                line.add_widget(QRCode(data=r["qr"], size_hint_x=None, width=dp(150)))
                row.add_widget(line)
            for reason in r["reasons"]:
                row.add_widget(BodyLabel(text="· " + reason))
            rows.append(row)
        if v["none"]:
            rows.append(BodyLabel(text=v["none"]))
        return rows
