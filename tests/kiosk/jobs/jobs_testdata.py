"""Shared helpers for the job tests (a plain module: there is no tests/__init__.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from kiosk.jobs import JobIndex, build_index, parse_feed

BASE = {
    "id": "P1",
    "title": "保安员",
    "employer": "温州恒安物业管理有限公司",
    "district_code": "330302",
    "address": "温州市鹿城区人民路1号",
    "salary_min": 3000,
    "salary_max": 4500,
    "category": "安保",
    "public_welfare": False,
    "hours": "8:00-17:00",
    "requirements": "18-55岁，身体健康",
    "contact": "王先生 0577-88888888",
    "posted_on": "2026-11-01",
    "expires_on": "2026-11-30",
    "source": "温州市人力资源市场",
}


def posting(**overrides) -> dict:
    return {**BASE, **overrides}


def jsonl(postings: list[dict]) -> bytes:
    return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in postings).encode()


def make_index(path: Path, postings: list[dict]) -> JobIndex:
    build_index(parse_feed(jsonl(postings)), path)
    return JobIndex(path)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
