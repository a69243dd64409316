"""A ceiling for the ingest bench, not a service: per record only the work every ingest must do
(verify the device signature, open the payload, sign the receipt, C(x) of the stored texts) and one
COPY + commit per request, as a raw ASGI app under the same uvicorn.  No request authentication, no
shape checks, no duplicate or seq look-ups, no error answers: it trusts its input completely.

bench_sync serves it with `uvicorn --workers 2` after the real ingest, on the same database (records
emptied) and the same backlogs, so "the central vs this" says how much of the gap to the crypto floor
is our service and how much is Python, HTTP and PostgreSQL on this machine.
"""

from __future__ import annotations

import hashlib
import json
import os

import psycopg

from sync.central.keyring import load_keys
from sync.central.storage import open_repository
from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode
from sync.protocol.keys import ed25519_public, key_id, raw_public
from sync.protocol.records import receipt_text, record_info, record_signing_input
from sync.protocol.sealing import open_payload

RECEIVED_AT = "2025-01-01T00:00:00.000Z"
COPY = "COPY records (record_id, device_id, seq, kind, record_sha256, record, received_at, receipt) FROM STDIN"

_db = os.environ["ESTATION_BARE_DB"]
_keys = load_keys(open_repository(_db))
_receipt_key_id = key_id(raw_public(_keys.receipt))
_conn = psycopg.connect(_db, autocommit=True)
_devices = {d: ed25519_public(bytes(k)) for d, k in _conn.execute("SELECT device_id, public_key FROM devices")}


def _store(body: bytes) -> bytes:
    rows, results = [], []
    for index, record in enumerate(json.loads(body)["records"]):
        s = record["signed"]
        signing = record_signing_input(s)
        _devices[s["device_id"]].verify(b64u_decode(record["sig"]), signing)
        open_payload(b64u_decode(s["payload"]), _keys.record, record_info(s))
        sha = hashlib.sha256(signing).hexdigest()
        receipt = receipt_text(_keys.receipt, record, RECEIVED_AT, record_sha256=sha, receipt_key_id=_receipt_key_id)
        rows.append((s["record_id"], s["device_id"], s["seq"], s["kind"], sha, sig.signed_text(record["sig"], signing),
                     RECEIVED_AT, receipt))
        results.append(f'{{"index":{index},"receipt":{receipt},"status":201}}')
    with _conn.transaction(), _conn.cursor().copy(COPY) as copy:
        for row in rows:
            copy.write_row(row)
    return ('{"results":[' + ",".join(results) + "]}").encode("utf-8")


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    answer = b'{"status":"ok"}' if scope["path"] == "/healthz" else _store(b"".join(chunks))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})
