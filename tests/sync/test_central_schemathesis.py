"""No 5xx on any input, driven by the published OpenAPI schema (schemathesis, offline) against a real
central (uvicorn on 127.0.0.1, SQLite).  Every generated request is sent with a fresh SYNC.md §4
device signature and an operator token, so generation reaches past authentication into the body
checks; unauthenticated fuzzing is in test_central_fuzz.py.

schemathesis 4.32's pytest integration (`schemathesis.pytest.from_fixture`) fails under pytest 9
(`'Function' object has no attribute '_nodeid'`), so its per-operation Hypothesis strategies are
drawn directly, one parametrized test per operation of the schema."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import start_central
from sync.protocol.request_auth import sign_request
from sync_helpers import Device

OPERATIONS = ["POST /v1/enroll", "POST /v1/records", "POST /v1/heartbeats", "GET /v1/keys", "GET /v1/devices",
              "GET /v1/devices/{device_id}", "POST /v1/devices/{device_id}/revoke", "POST /v1/enroll-tokens",
              "GET /v1/feeds/{name}", "PUT /v1/feeds/{name}", "GET /v1/feed-keys", "POST /v1/receipt-tokens/check",
              "GET /healthz", "GET /metrics"]


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    running = start_central(f"sqlite:///{tmp_path_factory.mktemp('st')}/c.db")
    token, _ = running.central.create_enroll_token(uses=5)
    device = Device(running.url)
    assert device.enroll(token).status_code == 201
    operator = running.central.create_operator_token()
    yield running, device, operator
    device.http.close()
    running.stop()


@pytest.fixture(scope="module")
def api_schema(target):
    return schemathesis.openapi.from_url(target[0].url + "/openapi.json")


def test_schema_lists_every_endpoint(api_schema):
    labels = [op.ok().label for op in api_schema.get_all_operations()]
    assert sorted(labels) == sorted(OPERATIONS)  # a new endpoint must be added to the fuzz list


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_5xx_from_schema(label, api_schema, target):
    operation = next(op.ok() for op in api_schema.get_all_operations() if op.ok().label == label)

    strategies = [operation.as_strategy(mode) for mode in schemathesis.GenerationMode]  # valid and invalid

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def fuzz(data):
        send(data.draw(st.one_of(strategies)), target)

    fuzz()


def send(case, target) -> None:
    running, device, operator = target
    kwargs = case.as_transport_kwargs(base_url=running.url)
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode("utf-8")
    else:
        raw = kwargs.get("data") or kwargs.get("content") or b""
        body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    url = httpx.URL(kwargs["url"], params=kwargs.get("params") or None)
    headers = {k: str(v) for k, v in kwargs["headers"].items()}
    headers["Authorization"] = f"Bearer {operator}"
    headers.update(sign_request(device.key, device.device_id, case.method, url.raw_path.decode("ascii"), body,
                                timestamp=int(time.time()), nonce=os.urandom(16)))
    response = device.http.request(case.method, url, content=body, headers=headers)
    assert response.status_code < 500, (case.method, str(url), response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert set(response.json()) >= {"error", "detail"}
