"""Fleet dashboard (ARCHITECTURE.md "Central service"): server-rendered HTML, no JavaScript.

One table row per kiosk: fleet status (SYNC.md §6), paper, tamper, reader, outbox backlog, records
(all, last 24 h) and seq gaps (`missing`), software and feed versions.  Filters are plain links
(`?status=late`, `?problem=paper_out`).  Everything shown is escaped: labels come from operators,
software_version from devices.  The page refreshes itself every 30 s with a meta tag.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from sync.central.fleet import PROBLEMS, STATUSES, all_device_views, feed_refusals, problems_of
from sync.central.service import Central
from sync.protocol.timefmt import format_unix, parse_time

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:16px;color:#1b1b1b;background:#fafafa}
h1{font-size:22px;margin:0 0 8px} .meta{color:#555;font-size:13px;margin-bottom:12px}
nav a{display:inline-block;margin:0 6px 6px 0;padding:3px 10px;border-radius:12px;background:#e0e0e0;
color:#1b1b1b;text-decoration:none;font-size:13px} nav a.on{background:#1b1b1b;color:#fff}
table{border-collapse:collapse;width:100%;font-size:14px;background:#fff}
th,td{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#263238;color:#fff;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
.st{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff;font-weight:600}
.st-online{background:#2e7d32} .st-late{background:#c62828} .st-offline{background:#212121}
.st-revoked{background:#757575;text-decoration:line-through} .st-never_seen{background:#9e9e9e}
tr.late{background:#ffebee} tr.offline{background:#eeeeee}
.bad{color:#b71c1c;font-weight:700} .ok{color:#1b5e20;font-weight:700} .warn{color:#e65100;font-weight:600} .muted{color:#888}
.id{font-family:monospace;font-size:12px;color:#555}
form.login{max-width:420px;margin-top:24px} input[type=password]{width:100%;padding:8px;font-size:16px}
button{margin-top:8px;padding:8px 16px;font-size:15px}
"""


@dataclass(frozen=True)
class Row:
    view: dict[str, Any]
    last_24h: int
    problems: tuple[str, ...]


def fleet_rows(central: Central) -> list[Row]:
    now = central.now()
    recent = central.repo.records_since(since_text=format_unix(now - 86400))
    interval = central.settings.heartbeat_interval_s
    return [Row(v, recent.get(v["device_id"], 0), problems_of(v, interval)) for v in all_device_views(central)]


def select(rows: list[Row], status: str | None, problem: str | None) -> list[Row]:
    if status in STATUSES:
        rows = [r for r in rows if r.view["status"] == status]
    if problem in PROBLEMS:
        rows = [r for r in rows if problem in r.problems]
    order = {s: n for n, s in enumerate(("late", "offline", "online", "never_seen", "revoked"))}
    return sorted(rows, key=lambda r: (not r.problems, order[r.view["status"]], r.view["label"], r.view["device_id"]))


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _state(value: str | None, bad: tuple[str, ...], warn: tuple[str, ...] = ()) -> str:
    if value is None:
        return '<span class="muted">—</span>'
    css = "bad" if value in bad else "warn" if value in warn else ""
    return f'<span class="{css}">{_e(value.replace("_", " "))}</span>'


def _row(row: Row, now: float) -> str:
    v = row.view
    beat = v.get("last_heartbeat") or {}
    peripherals = beat.get("peripherals") or {}
    outbox = beat.get("outbox")
    last_seen = None if v["last_seen_at"] is None else now - parse_time(v["last_seen_at"]).timestamp()
    if outbox:
        backlog_css = "bad" if "backlog" in row.problems else ""
        q = outbox["quarantined"]
        outbox_cell = (f'<span class="{backlog_css}">{outbox["depth"]}</span> / {_age(outbox["oldest_age_s"])}'
                       + (f' / <span class="bad">{q} quarantined</span>' if q else ""))
    else:
        outbox_cell = '<span class="muted">—</span>'
    missing = v["records"]["missing"]
    missing_cell = '<span class="muted">—</span>' if missing is None else \
        f'<span class="{"bad" if missing else ""}">{missing}</span>'
    feed_cell = _feeds_cell(beat.get("feeds") or {}, feed_refusals(beat))
    status = v["status"]
    cells = [
        f'<td><div>{_e(v["label"]) or "<span class=muted>(no label)</span>"}</div>'
        f'<div class="id">{_e(v["device_id"])}</div></td>',
        f'<td data-col="status"><span class="st st-{status}">{_e(status.replace("_", " "))}</span></td>',
        f'<td data-col="last_seen">{_age(last_seen)}</td>',
        f'<td data-col="printer">{_state(peripherals.get("printer"), ("paper_out", "fault"), ("paper_low",))}</td>',
        f'<td data-col="tamper">{_state(peripherals.get("tamper"), ("open",), ("unknown",))}</td>',
        f'<td data-col="id_reader">{_state(peripherals.get("id_reader"), ("fault",))}</td>',
        f'<td data-col="io_board">{_state(peripherals.get("io_board"), ("fault",))}</td>',
        f'<td data-col="outbox" class="num">{outbox_cell}</td>',
        f'<td data-col="records" class="num">{v["records"]["count"]} / {row.last_24h}</td>',
        f'<td data-col="missing" class="num">{missing_cell}</td>',
        f'<td data-col="software">{_e(beat.get("software_version")) or "—"}</td>',
        f'<td data-col="feeds">{feed_cell}</td>',
    ]
    return (f'<tr class="{status}" data-device="{_e(v["device_id"])}" data-status="{status}" '
            f'data-problems="{" ".join(row.problems)}">' + "".join(cells) + "</tr>")


def _feeds_cell(feeds: dict[str, Any], refusals: dict[str, Any]) -> str:
    """Adopted version per feed, "stale" when expired, and the kiosk's last refusal of a newer snapshot
    (the operator published something the fleet will not take: wrong key, rollback, bad content)."""
    parts = []
    for name in sorted(set(feeds) | set(refusals)):
        feed, refusal = feeds.get(name), refusals.get(name)
        text = f'{_e(name)} v{_e(feed["version"])}' if feed else f'{_e(name)} <span class="muted">not adopted</span>'
        if feed and feed["stale"]:
            text += ' <span class="bad">stale</span>'
        if refusal:
            text += (f' <span class="bad" data-refused="{_e(name)}" title="{_e(refusal["at"])}">'
                     f'refused: {_e(refusal["error"])}</span>')
        parts.append(text)
    return "<br>".join(parts) or '<span class="muted">—</span>'


def _page(title: str, body: str, *, refresh: bool = False) -> str:
    meta = '<meta http-equiv="refresh" content="30">' if refresh else ""
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">{meta}'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{CSS}</style></head><body>{body}</body></html>")


def render_dashboard(central: Central, *, status: str | None = None, problem: str | None = None) -> str:
    now = central.now()
    rows = fleet_rows(central)
    shown = select(rows, status, problem)
    counts = {s: sum(r.view["status"] == s for r in rows) for s in STATUSES}
    problem_counts = {p: sum(p in r.problems for r in rows) for p in PROBLEMS}

    def link(label: str, **query: str) -> str:
        on = (query.get("status") == status and query.get("problem") == problem)
        href = "/dashboard" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        return f'<a class="{"on" if on else ""}" href="{_e(href)}">{_e(label)}</a>'

    nav = [link(f"all {len(rows)}")]
    nav += [link(f"{s.replace('_', ' ')} {counts[s]}", status=s) for s in STATUSES]
    nav += [link(f"{label} {problem_counts[p]}", problem=p) for p, label in PROBLEMS.items() if problem_counts[p]]
    header = ("<tr><th>kiosk</th><th>status</th><th>last seen</th><th>printer</th><th>tamper</th><th>ID reader</th>"
              "<th>IO board</th><th>outbox (depth / oldest)</th><th>records (all / 24 h)</th><th>missing seq</th>"
              "<th>software</th><th>feeds</th></tr>")
    body_rows = "".join(_row(r, now) for r in shown) or \
        '<tr><td colspan="12" class="muted">no kiosk matches</td></tr>'
    body = (f"<h1>e-Station fleet</h1><div class=\"meta\">{_e(format_unix(now))} · heartbeat interval "
            f"{central.settings.heartbeat_interval_s} s · online ≤ 1.5×, late ≤ 5×, then offline · "
            '<a href="/dashboard/receipt">check a receipt</a> · '
            f'<form method="post" action="/dashboard/logout" style="display:inline"><button>log out</button>'
            f"</form></div><nav>{''.join(nav)}</nav>"
            f'<table id="fleet"><thead>{header}</thead><tbody>{body_rows}</tbody></table>')
    return _page("e-Station fleet", body, refresh=True)


def render_login(message: str = "") -> str:
    note = f'<p class="bad">{_e(message)}</p>' if message else ""
    body = ("<h1>e-Station fleet</h1><p>Operator token required "
            "(<code>estation-central operator-token create</code>).</p>" + note +
            '<form class="login" method="post" action="/dashboard/login">'
            '<label for="token">Operator token</label><br>'
            '<input id="token" name="token" type="password" autocomplete="off" required>'
            '<br><button type="submit">Log in</button></form>')
    return _page("e-Station fleet: log in", body)


def _receipt_verdict(result: dict[str, Any]) -> str:
    if not result["valid"]:
        return (f'<p id="verdict" class="bad" data-valid="false">not genuine: {_e(result["reason"])}</p>'
                f'<p class="muted">{_e(result.get("detail", ""))}</p>')
    claims, device, record = result["claims"], result["device"], result["record"]
    if not record["stored"]:
        arrived = "not arrived yet (the kiosk may still be offline; it sends the record when it can)"
    elif record["matches"]:
        arrived = f"arrived {record['received_at']}"
    else:
        arrived = "a record with this id arrived, but its kiosk, kind or seq differ from the receipt"
    revoked = " (revoked since; this record arrived before)" if device["revoked"] else ""
    rows = [("record", claims["r"]), ("kind", claims["k"]), ("policy pack", claims["p"]), ("date", claims["d"]),
            ("kiosk", f"{device['label'] or device['device_id']}{revoked}"), ("seq", claims["s"]),
            ("at central", arrived)]
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return (f'<p id="verdict" class="ok" data-valid="true" data-stored="{str(record["stored"]).lower()}">'
            f"genuine: signed by one of our kiosks</p><table>{table}</table>")


def render_receipt_check(token: str = "", result: dict[str, Any] | None = None) -> str:
    """The officer's page: paste (or scan into) the token from a resident's receipt QR."""
    verdict = "" if result is None else _receipt_verdict(result)
    body = ('<h1>Check a receipt</h1><div class="meta"><a href="/dashboard">fleet</a></div>'
            '<form method="get" action="/dashboard/receipt"><label for="receipt-token">Token from the receipt QR '
            '(ES1:…)</label><br>'
            f'<input id="receipt-token" name="token" size="80" autocomplete="off" value="{_e(token)}" required>'
            '<button type="submit">Check</button></form>' + verdict)
    return _page("e-Station: check a receipt", body)
