"""No 5xx for any client input (SYNC.md §9, invariant 4): hypothesis-generated bodies and headers
against every endpoint of a real central (uvicorn, SQLite)."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import start_central
from sync_helpers import Device

ENDPOINTS = [("POST", "/v1/enroll"), ("POST", "/v1/records"), ("POST", "/v1/heartbeats"),
             ("GET", "/v1/feeds/jobs"), ("PUT", "/v1/feeds/jobs"), ("GET", "/v1/devices"),
             ("POST", "/v1/devices/x/revoke"), ("POST", "/v1/enroll-tokens"), ("GET", "/v1/keys"),
             ("GET", "/v1/feed-keys"), ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/dashboard"),
             ("POST", "/dashboard/login"), ("POST", "/dashboard/logout")]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    running = start_central(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/c.db")
    token, _ = running.central.create_enroll_token(uses=5)
    device = Device(running.url)
    device.enroll(token)
    operator = running.central.create_operator_token()
    yield running, device, operator
    running.stop()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()),
                                                           st.binary(max_size=200)),
       signed=st.booleans(), as_operator=st.booleans(),
       content_type=st.sampled_from(["application/json", "text/plain", None]))
def test_no_5xx_on_any_input(fuzz_target, endpoint, body, signed, as_operator, content_type):
    running, device, operator = fuzz_target
    method, path = endpoint
    headers = {"Authorization": f"Bearer {operator}"} if as_operator else {}
    if signed:
        r = device.send(method, path, body, content_type=content_type, headers=headers)
    else:
        if content_type:
            headers["Content-Type"] = content_type
        r = device.http.request(method, path, content=body, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text)
    if r.status_code >= 400 and not path.startswith("/dashboard"):  # the dashboard answers in HTML
        assert set(r.json()) >= {"error", "detail"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(json_values, min_size=1, max_size=4))
def test_no_5xx_on_any_record(fuzz_target, records):
    running, device, _ = fuzz_target
    r = device.send("POST", "/v1/records", json.dumps({"records": records}).encode())
    assert r.status_code < 500, r.text
