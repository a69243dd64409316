from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class JobsScreen(KioskScreen):
    # What was last built: refresh runs on every session change (each countdown second too), and
    # rebuilding 200 result buttons costs ~0.8 s on llvmpipe, so only changed parts are rebuilt.
    _built_tiles: tuple = ()
    _built_rows: tuple | None = None

    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.jobs()
        self.ids.title.text = v["title"]
        self.ids.words_title.text = v["quick_words_title"]
        tiles = (tuple(v["quick_words"]), tuple(v["districts"][:6]))
        if tiles != self._built_tiles:
            self._built_tiles = tiles
            self.fill(self.ids.words, [self.button(w, I.Search(w), "secondary") for w in tiles[0]])
            self.fill(self.ids.districts, [self.button(name, I.Search("", district=code), "secondary")
                                           for code, name in tiles[1]])
        texts = tuple((r["id"], f"{r['title']}  {r['salary']}元  {r['district']}\n{r['employer']}") for r in v["rows"])
        self.ids.none.text = v["none"]
        if texts != self._built_rows:
            self._built_rows = texts
            self.fill(self.ids.rows, [self.button(text, I.ShowPosting(pid)) for pid, text in texts])
