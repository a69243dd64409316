"""Atomic index swap: readers of the old file keep working; failures leave it untouched."""

from __future__ import annotations

import ast
import os
import threading
from pathlib import Path

import pytest
from jobs_testdata import day, jsonl, make_index, posting

import kiosk.jobs.index as index_module
from kiosk.jobs import Filters, JobIndex, build_index, parse_feed

ON = day("2026-11-20")
FEED_A = parse_feed(jsonl([posting(id=f"A{i}", title="保安员") for i in range(50)]))
FEED_B = parse_feed(jsonl([posting(id=f"B{i}", title="保洁员") for i in range(70)]))


def found(idx: JobIndex) -> tuple[int, int]:
    return len(idx.search("保安", Filters(on=ON), limit=500)), len(idx.search("保洁", Filters(on=ON), limit=500))


def test_reader_holding_old_index_keeps_working_while_imports_swap(tmp_path):
    path = tmp_path / "jobs.sqlite"
    build_index(FEED_A, path)
    old = JobIndex(path)
    assert found(old) == (50, 0)
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_old() -> None:
        try:
            while not stop.is_set():
                assert found(old) == (50, 0)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    reader = threading.Thread(target=read_old)
    reader.start()
    try:
        for _ in range(5):
            build_index(FEED_B, path)
    finally:
        stop.set()
        reader.join()
    assert not errors, errors
    assert old.changed()
    assert found(old) == (50, 0)  # still the file it opened
    with JobIndex(path) as new:
        assert found(new) == (0, 70) and not new.changed()
    old.close()


def test_readers_opening_during_swaps_see_a_whole_index(tmp_path):
    path = tmp_path / "jobs.sqlite"
    build_index(FEED_A, path)
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def open_and_read() -> None:
        try:
            while not stop.is_set():
                with JobIndex(path) as idx:
                    seen.append(found(idx))
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=open_and_read)
    reader.start()
    try:
        for i in range(8):
            build_index(FEED_B if i % 2 == 0 else FEED_A, path)
    finally:
        stop.set()
        reader.join()
    assert not errors, errors
    assert seen and set(seen) <= {(50, 0), (0, 70)}


def test_failed_build_leaves_current_index_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "jobs.sqlite"
    build_index(FEED_A, path)
    before = path.read_bytes()

    def broken_write(feed, tmp, sha):
        tmp.write_bytes(b"half an index")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index_module, "_write", broken_write)
    with pytest.raises(OSError):
        build_index(FEED_B, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.sqlite"]


def test_fsync_file_then_rename_then_fsync_directory(tmp_path, monkeypatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    build_index(FEED_A, tmp_path / "jobs.sqlite")
    assert calls == ["fsync", "replace", "fsync"]
    assert (tmp_path / "jobs.sqlite").stat().st_mode & 0o777 == 0o644


def test_not_an_index(tmp_path):
    bad = tmp_path / "jobs.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(index_module.IndexError_, match="not a job index"):
        JobIndex(bad)
    with pytest.raises(index_module.IndexError_, match="no job index"):
        JobIndex(tmp_path / "missing.sqlite")


def test_index_file_is_opened_read_only(tmp_path):
    with make_index(tmp_path / "jobs.sqlite", [posting()]) as idx:
        with pytest.raises(Exception, match="readonly|read-only"):
            idx._conn.execute("DELETE FROM postings")


# --- the package stays pure: no clock reads, no UI/device/network imports ------

FORBIDDEN_IMPORTS = ("kivy", "serial", "httpx", "ui", "drivers", "sync", "requests", "socket")
CLOCK_CALLS = {"now", "today", "utcnow", "time", "monotonic", "perf_counter"}


@pytest.mark.parametrize("module", sorted(Path(index_module.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_jobs_package_is_pure(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{module.name} imports {name}"
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
            pytest.fail(f"{module.name}:{node.lineno} reads the clock ({node.attr})")
