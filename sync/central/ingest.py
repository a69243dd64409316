"""POST /v1/records (SYNC.md §5): the numbered per-record rules, in order, first failure wins.

Rules 1-3 and the crypto of rule 6 need no database, so they run first; rules 4-7 then run
in order inside one transaction (sync/central/storage/repository.py), so a record sees the
earlier ones of its batch and the answer goes out only after the commit.
"""

from __future__ import annotations

import json
from typing import Any

from sync.central.errors import ApiError
from sync.central.service import LIMITS, Central
from sync.central.storage.repository import IngestItem, IngestOutcome
from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode
from sync.protocol.jsonprofile import canonical
from sync.protocol.keys import ed25519_public
from sync.protocol.records import UUID7, RecordTooLarge, build_receipt, record_hash, record_info, record_shape_problem
from sync.protocol.sealing import open_payload


def check_batch(body: Any) -> list[Any]:
    if not isinstance(body, dict) or set(body) != {"records"} or not isinstance(body["records"], list) \
            or not body["records"]:
        raise ApiError(400, "invalid_request", "body must be exactly {\"records\": [1..500 records]}")
    if len(body["records"]) > LIMITS["max_batch"]:
        raise ApiError(413, "batch_too_large", f"at most {LIMITS['max_batch']} records per batch")
    return body["records"]


def _record_id(record: Any) -> str | None:
    try:
        rid = record["signed"]["record_id"]
    except (TypeError, KeyError):
        return None
    return rid if isinstance(rid, str) and UUID7.fullmatch(rid) else None


def _precheck(central: Central, device_id: str, device_key, index: int,
              record: Any) -> IngestItem | IngestOutcome:
    """Rules 1, 2, 3 and the crypto half of 6."""
    try:
        problem = record_shape_problem(record)
    except RecordTooLarge as exc:
        return IngestOutcome(index, 413, "record_too_large", str(exc))
    if problem:
        return IngestOutcome(index, 400, "invalid_record", problem)
    s = record["signed"]
    if s["device_id"] != device_id:
        return IngestOutcome(index, 403, "device_mismatch", "record signed for another device")
    if not sig.verify_object(device_key, sig.RECORD, record):
        return IngestOutcome(index, 422, "bad_signature", "record signature does not verify")
    payload_error = None
    record_key = central.keyring.record_key(s["rk"])
    if record_key is None:
        payload_error = (422, "unknown_record_key", "rk names no record key of this central")
    else:
        try:
            open_payload(b64u_decode(s["payload"]), record_key, record_info(s), s["suite"])
        except ValueError as exc:
            payload_error = (422, "bad_payload", str(exc))
    # The plaintext is dropped here: ingest only validates, payloads stay sealed at rest.
    return IngestItem(index=index, record_id=s["record_id"], seq=s["seq"], kind=s["kind"],
                      record_sha256=record_hash(record), record_text=canonical(record).decode("utf-8"),
                      payload_error=payload_error)


def ingest(central: Central, device_id: str, records: list[Any]) -> dict[str, Any]:
    device = central.repo.device(device_id=device_id)
    assert device is not None  # authenticated just before
    device_key = ed25519_public(device.public_key)
    outcomes: dict[int, IngestOutcome] = {}
    items: list[IngestItem] = []
    for index, record in enumerate(records):
        checked = _precheck(central, device_id, device_key, index, record)
        if isinstance(checked, IngestOutcome):
            outcomes[index] = checked
        else:
            items.append(checked)
    received_at = central.now_text()
    receipt_key = central.keyring.keys.receipt
    by_index = {item.index: records[item.index] for item in items}

    def make_receipt(item: IngestItem) -> str:
        return canonical(build_receipt(receipt_key, by_index[item.index], received_at)).decode("utf-8")

    if items:
        for outcome in central.repo.ingest(device_id=device_id, items=items, received_at=received_at,
                                           make_receipt=make_receipt):
            outcomes[outcome.index] = outcome
    results = []
    for index, record in enumerate(records):
        outcome = outcomes[index]
        result: dict[str, Any] = {"index": index, "record_id": _record_id(record), "status": outcome.status}
        if outcome.receipt_text is not None:
            result["receipt"] = json.loads(outcome.receipt_text)  # re-encoded by C(x): byte-identical
        else:
            result["error"] = outcome.error
        results.append(result)
    return {"results": results, "server_time": central.now_text()}
