"""POST /v1/records (SYNC.md §5): the numbered per-record rules, in order, first failure wins.

Rules 1-3 and the crypto of rule 6 need no database, so they run first; rules 4-7 then run
in order inside one transaction (sync/central/storage/repository.py), so a record sees the
earlier ones of its batch and the answer goes out only after the commit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sync.central.errors import ApiError
from sync.central.service import LIMITS, Central
from sync.central.storage.repository import IngestItem, IngestOutcome
from sync.protocol import signed as sig
from sync.protocol.keys import key_id, raw_public, verify_ed25519
from sync.protocol.records import (UUID7, RecordShapeError, RecordTooLarge, checked_record, receipt_text, record_info,
                                   record_signing_input)
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
    """Rules 1, 2, 3 and the crypto half of 6.

    Each piece is decoded or encoded once (b64u in rule 1, C(signed) for the signature, the hash
    and the stored text): at thousands of records a second every extra pass shows in the figures.
    """
    try:
        decoded = checked_record(record)
    except RecordTooLarge as exc:
        return IngestOutcome(index, 413, "record_too_large", str(exc))
    except RecordShapeError as exc:
        return IngestOutcome(index, 400, "invalid_record", str(exc))
    s = record["signed"]
    if s["device_id"] != device_id:
        return IngestOutcome(index, 403, "device_mismatch", "record signed for another device")
    signing = record_signing_input(s)  # C(signed), written out: rule 1 has just passed
    if not verify_ed25519(device_key, decoded.signature, signing):
        return IngestOutcome(index, 422, "bad_signature", "record signature does not verify")
    payload_error = None
    record_key = central.keyring.record_key(s["rk"])
    if record_key is None:
        payload_error = (422, "unknown_record_key", "rk names no record key of this central")
    else:
        try:
            open_payload(decoded.payload, record_key, record_info(s), s["suite"])
        except ValueError as exc:
            payload_error = (422, "bad_payload", str(exc))
    # The plaintext is dropped here: ingest only validates, payloads stay sealed at rest.
    return IngestItem(index=index, record_id=s["record_id"], seq=s["seq"], kind=s["kind"],
                      record_sha256=hashlib.sha256(signing).hexdigest(),
                      record_text=sig.signed_text(record["sig"], signing), payload_error=payload_error)


def _result_text(index: int, record_id: str | None, outcome: IngestOutcome) -> str:
    """C(one result), keys in sorted order; the receipt goes in as the stored text."""
    parts = [] if outcome.error is None else ['"error":' + json.dumps(outcome.error)]
    parts.append(f'"index":{index}')
    if outcome.receipt_text is not None:
        parts.append('"receipt":' + outcome.receipt_text)
    parts.append('"record_id":' + ("null" if record_id is None else '"' + record_id + '"'))  # UUIDv7: no escapes
    parts.append(f'"status":{outcome.status}')
    return "{" + ",".join(parts) + "}"


def ingest(central: Central, device_id: str, records: list[Any]) -> bytes:
    """The answer to a batch: C({"results": [...], "server_time": ...}) as bytes, assembled from
    the receipt texts as stored, so a replayed record gets its first receipt byte for byte."""
    device_key = central.device_key(device_id)  # authenticated just before
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
    receipt_key_id = key_id(raw_public(receipt_key))

    def make_receipt(item: IngestItem) -> str:
        return receipt_text(receipt_key, records[item.index], received_at, record_sha256=item.record_sha256,
                            receipt_key_id=receipt_key_id)

    if items:
        for outcome in central.repo.ingest(device_id=device_id, items=items, received_at=received_at,
                                           make_receipt=make_receipt):
            outcomes[outcome.index] = outcome
    results = ",".join(_result_text(i, _record_id(r), outcomes[i]) for i, r in enumerate(records))
    return f'{{"results":[{results}],"server_time":"{central.now_text()}"}}'.encode("utf-8")
