"""The read-only SQLite job index: built from a feed, swapped in atomically, searched.

Layout of one index file:

* ``postings``: one row per posting; ``rank`` (the rowid) is its freshness order,
  1 = most recently posted, so "newest first" is plain rowid order everywhere.
* ``grams``: a contentless FTS5 table (``detail='none'``: rowids only) with
  rowid = rank and one column of tokens: every unigram and bigram of each field's
  normalised text, prefixed by its field (``t`` title, ``c`` category, ``o`` employer
  + requirements + address: ``t保安``, ``o健康``), plus the filter tokens
  ``d33 d3303 d330302`` (district prefixes), ``pw``, ``s3000``... (salary_min at least
  that step) and ``k<hash>`` (the exact category).  A field-prefixed token has its
  own rowid list, so "保安 in the title" reads only titles (a column filter would
  read every 健康 in 身体健康 to find the few in a title), an absent combination is
  an empty list, and filters are intersected inside FTS.  FTS5 keeps each list
  compressed and sorted, so a search reads matches newest-first and stops at
  ``limit``.
* ``meta``: schema and feed version, so a reader can tell when to reopen.

Ranking: a posting's relevance is the best field the query text occurs in
(title 3 > category 2 > employer/requirements/address 1, summed over the terms of a
multi-word query), then freshness (posted date, newer first), then id.  Postings
whose ``expires_on`` is before the search date are never returned.

The file is never changed in place: `build_index` writes a temp file beside the
target and `os.replace`s it, so a reader that opened the old file keeps reading
the old inode (opened ``immutable=1``: no locks, no journal look-ups).  A file of
another ``SCHEMA_VERSION`` is refused (`IndexError_`, "re-import the feed");
`index_is_current` lets a caller rebuild it first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import heapq
import itertools
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kiosk.errors import UsageError
from kiosk.jobs.model import FIELDS, Feed, Posting
from kiosk.jobs.normalize import grams, normalize, query_terms, term_grams

SCHEMA_VERSION = 2  # 2: one field-prefixed token column (detail=none), salary and category tokens
WEIGHTS = {"title": 3, "category": 2, "other": 1}  # field tiers, strongest first
PREFIX = {"title": "t", "category": "c", "other": "o"}  # a gram's token is PREFIX[field] + gram
MAX_LIMIT = 500
# `--min-salary N` is answered from the token of the highest step <= N (postings whose
# salary_min reaches that step), then checked exactly; a posting carries one token per step
# it reaches (at most len(SALARY_STEPS)).
SALARY_STEPS = (1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 6000, 7000, 8000, 9000, 10000,
                12000, 15000, 20000, 30000, 50000)

# The `ascii` tokenizer splits only at ASCII spaces/punctuation and keeps every other
# character, so each space-separated token written below is exactly one FTS token, whatever
# Unicode version SQLite was built with.
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE postings (
    rank INTEGER PRIMARY KEY,
    {", ".join(f"{name} NOT NULL" for name in FIELDS)},
    category_norm TEXT NOT NULL
);
CREATE UNIQUE INDEX postings_id ON postings(id);
CREATE VIRTUAL TABLE grams USING fts5(tokens, content='', detail='none', columnsize=0, tokenize='ascii');
"""
_COLUMNS = ", ".join(f"p.{name}" for name in FIELDS)


TRAINING = "training"  # the category of training courses in the feed (001 §4 "1 training")


class IndexError_(UsageError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The index file is missing, unreadable or of another schema."""

    message_id = "error.jobs.index"


@dataclasses.dataclass(frozen=True, slots=True)
class Hit:
    posting: Posting
    score: int  # 0 when listing without a text query
    matched: str  # best field the query matched: title / category / other / ""

    def to_json(self) -> dict:
        return {**self.posting.to_json(), "score": self.score, "matched": self.matched}


@dataclasses.dataclass(frozen=True, slots=True)
class Filters:
    on: dt.date
    district: str | None = None  # GB/T 2260; a city or province code covers its children
    category: str | None = None
    min_salary: int | None = None  # the posting's salary_min must reach it
    pw_only: bool = False

    def tags(self) -> list[str]:
        """The filter tokens every match must carry (see `_tokens`).  District and
        public welfare are exact; salary step and category narrow, SQL checks them."""
        out = ["pw"] if self.pw_only else []
        if self.district:
            out.append("d" + district_prefix(self.district))
        if self.min_salary is not None:
            out += [f"s{step}" for step in SALARY_STEPS if step <= self.min_salary][-1:]
        if self.category is not None:
            out.append(_category_token(normalize(self.category)))
        return out

    def match(self) -> str:
        """`tags` as an FTS5 expression ("" without filter tokens)."""
        return " AND ".join(f'"{t}"' for t in self.tags())

    def sql(self, *, tags_in_fts: bool = False) -> tuple[str, list]:
        """WHERE clause over `postings p`; without the exact tag filters if FTS applies them."""
        clauses: list[str] = ["p.expires_on >= ?"]
        params: list[object] = [self.on.isoformat()]
        if self.district and not tags_in_fts:
            clauses.append("p.district_code GLOB ?")
            params.append(district_prefix(self.district) + "*")
        if self.category is not None:
            clauses.append("p.category_norm = ?")
            params.append(normalize(self.category))
        else:  # training courses share the feed format but are not jobs: shown only when asked for
            clauses.append("p.category_norm != ?")
            params.append(normalize(TRAINING))
        if self.min_salary is not None:
            clauses.append("p.salary_min >= ?")
            params.append(self.min_salary)
        if self.pw_only and not tags_in_fts:
            clauses.append("p.public_welfare = 1")
        return " AND ".join(clauses), params


def district_prefix(code: str) -> str:
    """330302 → 330302, 330300 (a city) → 3303, 330000 (a province) → 33."""
    prefix = code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def _field_texts(p: Posting) -> dict[str, str]:
    # Newlines keep n-grams from spanning two fields after normalisation.
    return {
        "title": normalize(p.title),
        "category": normalize(p.category),
        "other": normalize(f"{p.employer}\n{p.requirements}\n{p.address}"),
    }


def _category_token(category_norm: str) -> str:
    # Any text → one ASCII token; a hash collision only widens the set SQL then checks.
    return "k" + hashlib.blake2b(category_norm.encode(), digest_size=8).hexdigest()


def _column(value: object) -> object:
    """A posting attribute as stored in `postings` (dates as YYYY-MM-DD, like the feed)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _tokens(p: Posting, texts: dict[str, str]) -> str:
    """One posting's token text (`texts` = `_field_texts(p)`): field-prefixed grams,
    then the filter tokens (d33 d3303 d330302 [pw] s1000 ... k<category>), so FTS
    intersects the filters with the text match instead of the join discarding rows
    one by one."""
    out = [PREFIX[field] + g for field in WEIGHTS for g in sorted(grams(texts[field]))]
    code = p.district_code
    out += [f"d{code[:2]}", f"d{code[:4]}", f"d{code}"] + (["pw"] if p.public_welfare else [])
    out += [f"s{step}" for step in SALARY_STEPS if step <= p.salary_min]
    out.append(_category_token(texts["category"]))
    return " ".join(out)


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def build_index(feed: Feed, path: Path, *, feed_sha256: str = "") -> dict[str, str]:
    """Write the index for `feed` to `path` atomically; returns its meta.

    A failure at any point leaves the current index untouched (the temp file is
    removed).  fsync before and after the rename: after a power cut the path
    holds either the whole old index or the whole new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        meta = _write(feed, tmp, feed_sha256)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the kiosk UI may run as another user
        _fsync_path(tmp)
        os.replace(tmp, path)
        _fsync_path(path.parent, directory=True)
        return meta
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _write(feed: Feed, tmp: Path, feed_sha256: str) -> dict[str, str]:
    ordered = sorted(feed.postings, key=lambda p: (-p.posted_on.toordinal(), p.id))
    conn = sqlite3.connect(tmp)
    try:
        # No journal: the temp file is thrown away on any failure anyway.
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        rows, token_rows = [], []
        for rank, p in enumerate(ordered, start=1):
            texts = _field_texts(p)
            rows.append((rank, *(_column(getattr(p, name)) for name in FIELDS), texts["category"]))
            token_rows.append((rank, _tokens(p, texts)))
        marks = ", ".join("?" * (len(FIELDS) + 2))
        conn.executemany(f"INSERT INTO postings VALUES ({marks})", rows)
        conn.executemany("INSERT INTO grams(rowid, tokens) VALUES (?, ?)", token_rows)
        conn.execute("INSERT INTO grams(grams) VALUES ('optimize')")  # one segment: fastest reads
        meta = {
            "schema": str(SCHEMA_VERSION),
            "feed_version": str(feed.version),
            "feed_generated": feed.generated,
            "feed_sha256": feed_sha256,
            "postings": str(len(ordered)),
        }
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.commit()
        conn.execute("VACUUM")
        return meta
    finally:
        conn.close()


def index_is_current(path: Path) -> bool:
    """True if `path` is a job index this code can search (present, readable, this
    SCHEMA_VERSION); a caller that keeps an index across upgrades rebuilds it otherwise."""
    try:
        JobIndex(path).close()
    except IndexError_:
        return False
    return True


class JobIndex:
    """A read-only, open index file.  Holding one open across a re-import is safe:
    it keeps answering from the file it opened; `changed()` tells it to reopen."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise IndexError_(f"no job index at {self.path}; run `estation jobs import FILE` first")
        uri = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
        try:
            self._stat = self._identity()
            # Read-only and immutable, so sharing it with a UI worker thread is safe.
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except (OSError, sqlite3.DatabaseError) as exc:  # unreadable (permissions, I/O error)
            raise IndexError_(f"cannot open the job index {self.path} ({exc}); re-import the feed") from None
        try:
            self.meta = dict(self._conn.execute("SELECT key, value FROM meta"))
            if self.meta.get("schema") != str(SCHEMA_VERSION):
                raise IndexError_(f"{self.path}: index schema {self.meta.get('schema')!r}, expected {SCHEMA_VERSION}; re-import the feed")
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise IndexError_(f"{self.path} is not a job index ({exc}); re-import the feed") from None
        except IndexError_:
            self._conn.close()
            raise

    def _identity(self) -> tuple[int, int]:
        st = self.path.stat()
        return st.st_ino, st.st_mtime_ns

    def changed(self) -> bool:
        """True when the path now holds another file (a newer import)."""
        try:
            return self._identity() != self._stat
        except FileNotFoundError:
            return False

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> JobIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM postings").fetchone()[0]

    def search(self, query: str, filters: Filters, *, limit: int = 20) -> list[Hit]:
        """Ranked postings for `query` (may be blank: then newest first)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
        terms = query_terms(query)
        where, params = filters.sql(tags_in_fts=True)
        tags = filters.match()
        try:
            if not terms and not tags:
                sql = f"SELECT {_COLUMNS} FROM postings p WHERE {where} ORDER BY p.rank LIMIT ?"
                return [Hit(_posting(r), 0, "") for r in self._conn.execute(sql, [*params, limit])]
            if not terms:
                return [Hit(p, 0, "") for p in itertools.islice(self._stream(tags, where, params), limit)]
            if len(terms) == 1:
                return list(itertools.islice(self._tiered(terms[0], tags, where, params), limit))
            if len(terms) <= 3:
                return list(itertools.islice(self._levels(terms, tags, where, params), limit))
            return self._scored(terms, tags, where, params, limit)
        except sqlite3.DatabaseError as exc:
            raise IndexError_(f"{self.path}: index unreadable ({exc}); re-import the feed") from None

    def _stream(self, match: str, where: str, params: list) -> Iterator[Posting]:
        """Postings matching an FTS expression and the SQL filters, newest first,
        read lazily: the caller stops after `limit` and the rest is never read."""
        sql = (
            f"SELECT {_COLUMNS} FROM grams CROSS JOIN postings p ON p.rank = grams.rowid "
            f"WHERE grams MATCH ? AND {where} ORDER BY grams.rowid"
        )
        return (_posting(row) for row in self._conn.execute(sql, [match, *params]))

    def _tiered(self, term: str, tags: str, where: str, params: list) -> Iterator[Hit]:
        """One term: field by field, strongest first, each newest first (the common
        kiosk query: 保安, 保洁)."""
        if len(term) <= 2:  # one gram: exact, so each field's stream leaves out the stronger fields'
            for field, weight in WEIGHTS.items():
                for posting in self._stream(_and(_best_field(term, field), tags), where, params):
                    yield Hit(posting, weight, field)
            return
        # Longer terms are matched by their bigrams and verified as substrings; a posting with
        # the bigrams but not the term in its title may still have the term in a weaker field,
        # so the weaker streams are not narrowed by NOT and skip what was already listed.
        seen: set[str] = set()
        for field, weight in WEIGHTS.items():
            for posting in self._stream(_and(_match(term, field), tags), where, params):
                if posting.id in seen:
                    continue  # already listed under a stronger field
                if term not in _field_texts(posting)[field]:
                    continue  # has the bigrams but not the whole term
                seen.add(posting.id)
                yield Hit(posting, weight, field)

    def _levels(self, terms: list[str], tags: str, where: str, params: list) -> Iterator[Hit]:
        """Several terms: score level by level, highest first.  A level is one FTS
        query, the OR of the field combinations that sum to it, each pinning every
        term's best field (e.g. term 1 in the title, term 2 in category but not
        title); FTS merges them in rowid order, i.e. newest first.

        A term of 3+ characters is matched by its bigrams, which can place a
        posting too high; such a posting is re-scored exactly and held back for
        its true level.  That level starts only after every higher level has been
        read to the end, so nothing held back is lost or out of order."""
        fields = list(WEIGHTS)
        exact = all(len(t) <= 2 for t in terms)
        best = {(t, f): _best_field(t, f) for t in terms for f in fields}
        by_level: dict[int, list[str]] = {}
        for combo in itertools.product(fields, repeat=len(terms)):
            level = sum(WEIGHTS[f] for f in combo)
            by_level.setdefault(level, []).append(_and(*(best[t, f] for t, f in zip(terms, combo))))
        held: dict[int, list[tuple[int, str, Hit]]] = {}
        for level in sorted(by_level, reverse=True):
            match = _and(" OR ".join(f"({c})" for c in by_level[level]), tags)
            found: Iterator[tuple[int, str, Hit | Posting]] = (
                (-p.posted_on.toordinal(), p.id, p) for p in self._stream(match, where, params))
            waiting: list[tuple[int, str, Hit | Posting]] = sorted(held.pop(level, []), key=lambda item: item[:2])
            for _, _, item in heapq.merge(waiting, found, key=lambda item: item[:2]):
                if isinstance(item, Hit):
                    yield item  # re-scored earlier, held back for this level
                    continue
                if exact:
                    yield Hit(item, level, _matched(item, terms))
                    continue
                true = _true_hit(item, terms)
                if true is None:
                    continue  # bigrams everywhere, the whole term nowhere
                if true.score < level:
                    held.setdefault(true.score, []).append((-item.posted_on.toordinal(), item.id, true))
                    continue
                yield true

    def _scored(self, terms: list[str], tags: str, where: str, params: list, limit: int) -> list[Hit]:
        """Four or more terms (81+ field combinations): score every candidate in Python."""
        scored: list[tuple[int, int, str, Hit]] = []
        anywhere = [" OR ".join(f"({_match(t, f)})" for f in WEIGHTS) for t in terms]
        for posting in self._stream(_and(*anywhere, tags), where, params):
            hit = _true_hit(posting, terms)
            if hit is not None:
                scored.append((-hit.score, -posting.posted_on.toordinal(), posting.id, hit))
        scored.sort(key=lambda s: s[:3])
        return [hit for *_, hit in scored[:limit]]


def _true_hit(posting: Posting, terms: list[str]) -> Hit | None:
    """Exact score: each term's best field by substring, summed; None if a term is absent."""
    texts = _field_texts(posting)
    best: list[str] = []
    for term in terms:
        field = next((f for f in WEIGHTS if term in texts[f]), None)  # WEIGHTS: strongest first
        if field is None:
            return None
        best.append(field)
    return Hit(posting, sum(WEIGHTS[f] for f in best), max(best, key=lambda f: WEIGHTS[f]))


def _matched(posting: Posting, terms: list[str]) -> str:
    """The strongest field any term occurs in (every term occurs somewhere)."""
    for field, text in (("title", posting.title), ("category", posting.category)):
        folded = normalize(text)
        if any(t in folded for t in terms):
            return field
    return "other"


def _match(term: str, field: str) -> str:
    """FTS5 query text: all grams of `term` in `field` (field-prefixed tokens).
    Grams are letters/digits only, so double quotes need no escaping."""
    return " AND ".join(f'"{PREFIX[field]}{g}"' for g in term_grams(term))


def _best_field(term: str, field: str) -> str:
    """`term` occurs in `field` and in no stronger field (short terms: exact).
    The NOT parts are the very expressions the stronger fields match with, so the
    fields of one term partition its matches even for bigram-matched long terms."""
    expr = f"({_match(term, field)})"
    for stronger in list(WEIGHTS)[: list(WEIGHTS).index(field)]:
        expr = f"({expr} NOT ({_match(term, stronger)}))"
    return expr


def _and(*parts: str) -> str:
    return " AND ".join(f"({p})" for p in parts if p)


def _posting(row: tuple) -> Posting:
    values = dict(zip(FIELDS, row))
    values["public_welfare"] = bool(values["public_welfare"])
    values["posted_on"] = dt.date.fromisoformat(values["posted_on"])
    values["expires_on"] = dt.date.fromisoformat(values["expires_on"])
    return Posting(**values)
