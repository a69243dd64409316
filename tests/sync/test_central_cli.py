"""`estation-central` CLI (SYNC.md §3, §7, §8) and the uploader's backoff."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import httpx
import pytest
from conftest import free_port  # at import time: later, `conftest` is another folder's (tests/ui)

from sync.central.cli import main
from sync.uploader import Backoff


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_token_operator_token_and_keys(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/c.db"
    code, out, _ = run(["token", "create", "--db", db, "--uses", "3", "--ttl", "600", "--label", "A"], capsys)
    assert code == 0 and re.fullmatch(r"et_[A-Za-z0-9_-]{32}\n", out)
    code, out, _ = run(["operator-token", "create", "--db", db], capsys)
    assert code == 0 and len(out.strip().splitlines()) == 1
    token = out.strip()
    code, listed, _ = run(["operator-token", "list", "--db", db], capsys)
    token_id = listed.split()[0]
    assert code == 0 and re.fullmatch(r"[0-9a-f]{12}", token_id) and token not in listed
    code, _, err = run(["operator-token", "revoke", "--db", db, "ffffffffffff0"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no single operator token" in err
    code, out, _ = run(["operator-token", "revoke", "--db", db, token_id], capsys)
    assert code == 0 and "revoked" in out
    assert run(["operator-token", "list", "--db", db], capsys)[1] == ""
    code, out, _ = run(["keys", "--db", db], capsys)
    lines = out.splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == ["receipt", "record", "feed"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", line.split()[1]) for line in lines)
    assert run(["keys", "--db", db], capsys)[1] == out  # keys are made once, at DB initialisation


@pytest.mark.parametrize("argv", [
    ["token", "create", "--db", "mysql://x"], ["token", "create", "--db", "sqlite:///x", "--uses", "0"],
    ["token", "create", "--db", "sqlite:///x", "--ttl", "abc"], ["keys"], ["nonsense"],
    ["serve", "--db", "sqlite:///x", "--host", "127.0.0.1", "--port", "99999"],
])
def test_bad_input_exit_2_one_error_line(argv, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")


def test_feeds_publish_rotate_and_serve(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/c.db"
    content = tmp_path / "jobs.json"
    content.write_text(json.dumps({"jobs": [{"title": "保洁"}]}), encoding="utf-8")
    assert run(["feeds", "publish", "--db", db, "--name", "jobs", "--file", str(content)], capsys)[1] == \
        "published jobs version 1\n"
    assert run(["feeds", "publish", "--db", db, "--name", "jobs", "--file", str(content)], capsys)[1] == \
        "published jobs version 2\n"
    code, out, _ = run(["feeds", "rotate-key", "--db", db], capsys)
    assert code == 0 and out.startswith("feed key rotated ")
    content.write_text("[1.5]")
    assert run(["feeds", "publish", "--db", db, "--name", "jobs", "--file", str(content)], capsys)[0] == 2
    assert run(["feeds", "publish", "--db", db, "--name", "Jobs!", "--file", str(content)], capsys)[0] == 2


def test_serve_subprocess_answers_on_loopback(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sync.central.cli", "serve", "--db", f"sqlite:///{tmp_path}/c.db",
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    pytest.fail(proc.stderr.read().decode())
                import time
                time.sleep(0.05)
        assert r.json() == {"status": "ok"}
        assert "/v1/records" in httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["paths"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_backoff_doubles_with_jitter_up_to_the_cap():
    backoff = Backoff(base_s=1, cap_s=300, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    for n, delay in enumerate(delays):
        ceiling = min(300, 2 ** n)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays[9:]}) == 3  # jitter: capped delays still differ
    backoff.reset()
    assert backoff.next_delay() <= 1


def test_receipt_check_exit_codes(tmp_path, capsys):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.ports import RecordDraft
    from kiosk.receipts import make_receipt
    from sync.central.enrollment import enroll
    from sync.central.service import Central
    from sync.central.settings import Settings
    from sync.identity import DeviceIdentity
    from sync.protocol import signed as sig
    from sync.protocol.b64u import b64u_encode

    db = f"sqlite:///{tmp_path}/c.db"
    central = Central(Settings(db_url=db))
    identity = DeviceIdentity.from_key(Ed25519PrivateKey.generate())
    token, _ = central.create_enroll_token()
    assert enroll(central, sig.sign_object(identity.key, sig.ENROLL, {
        "token": token, "device_key": b64u_encode(identity.public), "hardware_id": "hw",
        "software_version": "0"}))[0] == 201
    central.close()
    draft = RecordDraft("01943e2a-5c00-7000-8000-000000000001", "unemployment_registration", 1,
                        "2026-11-23T08:00:00.000Z", {})
    receipt = make_receipt(draft, seq=1, pack="xuchang", signer=identity).token
    code, out, _ = run(["receipt", "check", receipt, "--db", db], capsys)
    assert code == 0 and json.loads(out)["claims"]["k"] == "unemployment_registration"
    code, out, _ = run(["receipt", "check", "ES1:NOPE", "--db", db], capsys)
    assert code == 1 and json.loads(out)["reason"] == "not_a_token"
