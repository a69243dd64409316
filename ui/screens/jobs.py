from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class JobsScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.jobs()
        self.ids.title.text = v["title"]
        self.ids.words_title.text = v["quick_words_title"]
        self.fill(self.ids.words, [self.button(w, I.Search(w), "secondary") for w in v["quick_words"]])
        self.fill(self.ids.districts, [self.button(name, I.Search("", district=code), "secondary")
                                       for code, name in v["districts"][:6]])
        rows = [self.button(f"{r['title']}  {r['salary']}元  {r['district']}\n{r['employer']}", I.ShowPosting(r["id"]))
                for r in v["rows"]]
        self.ids.none.text = v["none"]
        self.fill(self.ids.rows, rows)
