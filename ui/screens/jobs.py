from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class JobsScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.jobs()
        self.ids.title.text = v["title"]
        self.ids.words_title.text = v["quick_words_title"]
        words, districts = tuple(v["quick_words"]), tuple(v["districts"][:6])
        self.fill(self.ids.words, words, lambda: [self.button(w, I.Search(w), "secondary") for w in words])
        self.fill(self.ids.districts, districts, lambda: [self.button(name, I.Search("", district=code), "secondary")
                                                          for code, name in districts])
        texts = tuple((r["id"], f"{r['title']}  {r['salary']}{v['currency']}  {r['district']}\n{r['employer']}")
                      for r in v["rows"])
        self.ids.none.text = v["none"]
        self.fill(self.ids.rows, texts, lambda: [self.button(text, I.ShowPosting(pid)) for pid, text in texts])
