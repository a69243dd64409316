"""`estation jobs import|search`: build the job index from a feed file, search it.

The CLI is the one place here that reads today's date (the default for --on);
kiosk/jobs/ itself is handed the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import unicodedata
from pathlib import Path

from kiosk.cli.args import bounded
from kiosk.errors import UsageError


def default_index_path() -> Path:
    data_dir = os.environ.get("ESTATION_DATA_DIR")
    return Path(data_dir) / "jobs.sqlite" if data_dir else Path("var") / "jobs.sqlite"


def _date(text: str) -> dt.date:
    from kiosk.jobs.model import parse_date

    try:
        return parse_date(text, "--on")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _district(text: str) -> str:
    from kiosk.jobs.model import check_district

    try:
        return check_district(text, "--district")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("jobs", help="job catalogue: import a feed, search postings",
                              description="Job catalogue: import a feed snapshot, search postings.")
    sub = p.add_subparsers(dest="jobs_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(handler=_no_action)

    imp = sub.add_parser("import", help="build the search index from a feed file",
                         description="Validate a feed (JSON Lines, or a {version, generated, postings} "
                                     "snapshot) and swap in a new read-only index. A bad feed leaves the "
                                     "current index untouched.")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--index", type=Path, default=None, help="index file (default $ESTATION_DATA_DIR/jobs.sqlite or ./var/jobs.sqlite)")
    imp.set_defaults(handler=run_import)

    s = sub.add_parser("search", help="search postings",
                       description="Ranked by where the query occurs (title > category > employer, "
                                   "requirements, address), then newest first. A blank query lists "
                                   "newest first. Expired postings (expires_on before --on) are left out.")
    s.add_argument("query", metavar="QUERY", help="e.g. 保安, 保洁, 司机 (full-width and traditional accepted)")
    s.add_argument("--index", type=Path, default=None, help="index file (default as for import)")
    s.add_argument("--on", "--date", dest="on", type=_date, default=None, metavar="YYYY-MM-DD",
                   help="search as of this day (default today)")
    s.add_argument("--district", type=_district, metavar="CODE", help="GB/T 2260 code; a city code covers its counties")
    s.add_argument("--category", metavar="C", help="exact category, e.g. 安保, 公益性岗位")
    s.add_argument("--min-salary", type=bounded(0, 1_000_000), metavar="N", help="salary_min at least N yuan/month")
    s.add_argument("--pw-only", action="store_true", help="public-welfare posts (公益性岗位) only")
    s.add_argument("--limit", type=bounded(1, 500), default=20, metavar="N", help="at most N results (default 20)")
    s.add_argument("--json", action="store_true", help="print a JSON list of postings")
    s.set_defaults(handler=run_search)


def _no_action(args: argparse.Namespace) -> int:
    raise UsageError("jobs: choose an action: import or search (see `estation jobs --help`)")


def run_import(args: argparse.Namespace) -> int:
    from kiosk.jobs.index import build_index
    from kiosk.jobs.model import parse_feed

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    feed = parse_feed(data)  # FeedError (a UsageError) names the line/posting and field
    index = args.index or default_index_path()
    try:
        meta = build_index(feed, index, feed_sha256=hashlib.sha256(data).hexdigest())
    except OSError as exc:
        raise UsageError(f"cannot write index {index}: {exc.strerror or exc}") from None
    print(f"imported {meta['postings']} postings into {index}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    from kiosk.jobs.index import Filters, JobIndex

    on = args.on or dt.date.today()
    filters = Filters(on=on, district=args.district, category=args.category,
                      min_salary=args.min_salary, pw_only=args.pw_only)
    with JobIndex(args.index or default_index_path()) as index:
        hits = index.search(args.query, filters, limit=args.limit)
    if args.json:
        json.dump([h.to_json() for h in hits], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(_table(hits) if hits else f"no postings found (as of {on})")
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cut(text: str, width: int) -> str:
    out, used = [], 0
    for ch in text:
        w = _width(ch)
        if used + w > width:
            return "".join(out)[:-1] + "…" if out else ""
        out.append(ch)
        used += w
    return "".join(out)


def _table(hits: list) -> str:
    rows = [("岗位", "单位", "区划", "月薪(元)", "公益", "截止", "编号")]
    for h in hits:
        p = h.posting
        rows.append((_cut(p.title, 24), _cut(p.employer, 28), p.district_code,
                     f"{p.salary_min}-{p.salary_max}", "是" if p.public_welfare else "",
                     p.expires_on.isoformat(), p.id))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip() for row in rows
    )
