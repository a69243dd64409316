"""The policy feed end to end: an operator publishes a city pack (data only) on a real central, the
kiosk's sync process checks and adopts it and materialises it under feeds/policy-pack, and the
station's Session evaluates with it from the next visit on.  Refusals (code, a pack that does not
load, another format) keep the last good pack; a feed for another city is adopted but not used."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kiosk.policy.pack import PACKS_DIR

from kiosk import intents as I
from kiosk.cli.station import build_session
from policy_feed_helpers import FED_VERSION, XINYU_4050, policy_content, stricter_xinyu
from sync.central.feeds import publish
from sync.enrollment import load_enrollment
from sync.feeds import FeedClient, policy_pack_dir
from sync.runner import SyncRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "kiosk" / "session"))
from session_harness import ListSink, card  # noqa: E402

INSTALLED_XINYU = "2023.82-1"
LI_XIUYING = 2  # sample card: a Xinyu woman born 1985-06-09, eligible only through "4050" (women from 40)


@pytest.fixture
def central(sqlite_central):
    return sqlite_central


def sync_pass(kiosk: Path) -> dict[str, str]:
    runner = SyncRunner(kiosk)
    try:
        result = runner.run_pass()
        assert result.error is None
        return result.feeds
    finally:
        runner.close()


def put_policy(central, content: dict) -> int:
    """Publish as an operator does: PUT /v1/feeds/policy with an operator token."""
    token = central.central.create_operator_token()
    r = httpx.put(central.url + "/v1/feeds/policy", json={"content": content, "expires_in_s": 3600},
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return r.json()["signed"]["version"]


def station(kiosk: Path, city: str = "xinyu"):
    return build_session(city=city, station_id="ws-0001", sink=ListSink(), signer=None,
                         jobs_index=kiosk.parent / "jobs.sqlite", policy_dir=policy_pack_dir(kiosk))


def visit(session, index: int = LI_XIUYING) -> bool | None:
    """One visit up to the results; returns employment_difficulty's outcome and ends the visit."""
    for intent in (I.CardPlaced(card(index)), I.Continue(), I.Consent(True)):
        session.handle(intent)
    while session.question is not None:
        q = session.question
        yes_no = {"able_to_work": "yes", "wants_work": "yes"}
        session.handle(I.Answer(q.fact, yes_no.get(q.fact, "no" if q.choices[0].id == "yes" else q.choices[-1].id)))
    outcome = next(r.eligible for r in session.evaluation.results if r.program == "employment_difficulty")
    session.handle(I.Cancel())
    assert session.visit is None
    return outcome


def materialised(kiosk: Path) -> tuple[str, dict]:
    link = policy_pack_dir(kiosk)
    return os.readlink(link), json.loads((link / "feed.json").read_text())


# ----------------------------------------------------------------------------- adopted and used

def test_published_pack_is_adopted_and_the_station_evaluates_with_it(central, kiosk, caplog):
    assert visit(station(kiosk)) is True  # the installed rule: women from 40
    version = put_policy(central, stricter_xinyu())
    assert sync_pass(kiosk) == {"policy": "adopted"}
    target, meta = materialised(kiosk)
    assert meta == {"feed": "policy", "version": version, "packs": ["xinyu"],
                    "snapshot_sha256": meta["snapshot_sha256"]}
    assert sorted(p.name for p in (policy_pack_dir(kiosk) / "xinyu").iterdir()) == ["messages.toml", "pack.toml"]
    with caplog.at_level(logging.INFO, logger="estation.station"):
        session = station(kiosk)
    assert session.pack.version == FED_VERSION and visit(session) is False  # the fed rule: women from 45
    used = [r for r in caplog.records if r.getMessage() == "policy pack in use"]
    assert [(r.pack, r.pack_version, r.source) for r in used] == [("xinyu", FED_VERSION, f"feed v{version}")]
    # a station that is not given the feed directory (or the installed pack by name) is unchanged
    plain = build_session(city="xinyu", station_id="ws-0001", sink=ListSink(), signer=None,
                          jobs_index=kiosk.parent / "jobs.sqlite")
    assert plain.pack.version == INSTALLED_XINYU and visit(plain) is True


def test_a_new_pack_takes_effect_at_the_next_visit_never_during_one(central, kiosk):
    session = station(kiosk)
    assert session.pack.version == INSTALLED_XINYU
    session.handle(I.CardPlaced(card(LI_XIUYING)))  # a visit under way
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    for intent in (I.Continue(), I.Consent(True), I.Tick()):
        session.handle(intent)
    assert session.pack.version == INSTALLED_XINYU  # not swapped under the resident
    session.handle(I.Cancel())
    assert visit(session) is False and session.pack.version == FED_VERSION  # the next visit
    # a later version replaces it the same way; the pack it replaced is kept, older ones removed
    publish(central.central, "policy", policy_content("xinyu", version="2026.2-feed"), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    assert visit(session) is True and session.pack.version == "2026.2-feed"
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    feeds = kiosk / "feeds"
    assert len([p for p in feeds.iterdir() if p.name.startswith("policy-pack.v")]) == 2
    assert not [p for p in feeds.iterdir() if p.name.startswith(".")]


def test_feed_for_another_city_is_adopted_but_ignored(central, kiosk, caplog):
    publish(central.central, "policy", policy_content("wenzhou", version="2026.9-feed"), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    with caplog.at_level(logging.INFO, logger="estation.station"):
        xinyu = station(kiosk, "xinyu")
    assert xinyu.pack.name == "xinyu" and xinyu.pack.version == INSTALLED_XINYU and visit(xinyu) is True
    used = [r for r in caplog.records if r.getMessage() == "policy pack in use"]
    assert used[-1].source == "installed" and "no pack for 'xinyu'" in used[-1].reason
    assert station(kiosk, "wenzhou").pack.version == "2026.9-feed"


def test_one_feed_carries_the_packs_of_several_cities(central, kiosk):
    """A central serving a province publishes every city's pack in one feed; each station takes its own."""
    packs = {"packs": {"xinyu": stricter_xinyu()["files"],
                       "wenzhou": policy_content("wenzhou", version="2026.9-feed")["files"]}}
    version = put_policy(central, packs)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    target, meta = materialised(kiosk)
    assert meta["packs"] == ["wenzhou", "xinyu"] and meta["version"] == version
    xinyu = station(kiosk, "xinyu")
    assert xinyu.pack.version == FED_VERSION and visit(xinyu) is False  # the fed rule: women from 45
    assert station(kiosk, "wenzhou").pack.version == "2026.9-feed"
    assert station(kiosk, "xuchang").pack.name == "xuchang"  # not in the feed: the installed pack
    # one bad pack refuses the whole snapshot: a province's kiosks never run half a publication
    broken = {"packs": {**packs["packs"], "liaocheng": {"pack.toml": "[pack\n"}}}
    refused(central, kiosk, broken, "'liaocheng' does not load")
    refused(central, kiosk, {"packs": {}}, "not 1 to 64")
    refused(central, kiosk, {"packs": {"xinyu": packs["packs"]["xinyu"], "wenzhou": {"hooks.py": ""}}},
            "wenzhou: 'hooks.py': code is not accepted")
    refused(central, kiosk, {"packs": ["xinyu"]}, "expected exactly")
    refused(central, kiosk, {"pack": ["xinyu"], "files": {}}, "pack name is not a string")


def test_a_station_reads_a_pack_materialised_by_older_software(central, kiosk):
    """feed.json of 0.1.0 named one `pack`; the station still takes it after an upgrade."""
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    meta_file = policy_pack_dir(kiosk) / "feed.json"
    meta = json.loads(meta_file.read_text())
    meta["pack"] = meta.pop("packs")[0]
    meta_file.write_text(json.dumps(meta))
    assert station(kiosk).pack.version == FED_VERSION


# ----------------------------------------------------------------------------- refused

def refused(central, kiosk: Path, content, needle: str) -> None:
    before = materialised(kiosk)
    adopted = FeedClient(kiosk).current("policy")
    publish(central.central, "policy", content, 3600)
    assert sync_pass(kiosk) == {"policy": "bad_content"}
    feeds = FeedClient(kiosk)
    assert feeds.current("policy").snapshot_bytes == adopted.snapshot_bytes  # last good kept
    assert materialised(kiosk) == before
    assert needle in feeds.status()["policy"]["detail"], feeds.status()["policy"]
    assert not [p for p in (kiosk / "feeds").iterdir() if p.name.startswith(".")]  # no staging left


def test_code_or_unloadable_packs_are_refused_and_the_last_good_kept(central, kiosk):
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    hooks = "PREDICATES = {}\nimport os\nos.system('touch /tmp/pwned')\n"
    refused(central, kiosk, policy_content("xinyu", extra_files={"hooks.py": hooks}), "code is not accepted")
    refused(central, kiosk, policy_content("xinyu", extra_files={"x/../setup.py": ""}), "code is not accepted")
    refused(central, kiosk, policy_content("xinyu", extra_files={"README": "hi"}), "unknown file")
    refused(central, kiosk, {"packs": ["xinyu"]}, "expected exactly")
    refused(central, kiosk, {"pack": "../xinyu", "files": {}}, "pack name")
    refused(central, kiosk, {"pack": "xinyu", "files": {"messages.toml": ""}}, "pack.toml missing")
    refused(central, kiosk, policy_content("xinyu", replace=("[pack]", "[pack")), "does not load")
    refused(central, kiosk, policy_content("xinyu", replace=(XINYU_4050, "no_such_predicate(F=45)")),
            "does not load")
    refused(central, kiosk, policy_content("xinyu", replace=('id = "age_4050"', 'id = "age_4555"')),
            "does not load")  # no message for the new condition id
    refused(central, kiosk, policy_content("xinyu", replace=('name = "xinyu"', 'name = "wenzhou"')),
            "says 'wenzhou'")
    messages = (PACKS_DIR / "xinyu" / "messages.toml").read_text("utf-8")
    for bad in ("{1}", "{0:>999999999}", "no slot"):  # would raise or allocate mid-visit, or lose the reason
        trap = messages.replace("[zh]\n", f'[zh]\nunknown = "{bad}"\n', 1)
        refused(central, kiosk, policy_content("xinyu", extra_files={"messages.toml": trap}), "does not load")
    # the station still evaluates with the last good fed pack, and a good new version is adopted
    assert visit(station(kiosk)) is False
    publish(central.central, "policy", policy_content("xinyu", version="2026.3-feed"), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"} and FeedClient(kiosk).status()["policy"] is None
    assert station(kiosk).pack.version == "2026.3-feed"


def test_a_pack_installed_with_hooks_is_not_replaced_by_the_feed(central, kiosk, tmp_path, monkeypatch):
    import kiosk.policy.pack as pack_module

    packs = tmp_path / "packs"
    shutil.copytree(pack_module.PACKS_DIR, packs)
    (packs / "xinyu" / "hooks.py").write_text("PREDICATES = {}\n")
    monkeypatch.setattr(pack_module, "PACKS_DIR", packs)
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "bad_content"}
    assert "has hooks.py" in FeedClient(kiosk).status()["policy"]["detail"]
    assert not policy_pack_dir(kiosk).exists()


def test_station_falls_back_to_the_installed_pack(central, kiosk, monkeypatch):
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    fed = policy_pack_dir(kiosk)
    # code planted in the materialised directory is never run: the fed pack is loaded with hooks off
    (fed / "xinyu" / "hooks.py").write_text("raise SystemExit('ran')\n")
    assert station(kiosk).pack.version == INSTALLED_XINYU
    (fed / "xinyu" / "hooks.py").unlink()
    (fed / "xinyu" / "pack.toml").write_text("[pack\n")  # damaged on disk: the installed pack, no crash
    assert station(kiosk).pack.version == INSTALLED_XINYU
    fed.unlink()  # materialised afresh from the adopted snapshot: the fed pack is back
    assert FeedClient(kiosk).ensure_policy_pack() == "rebuilt" and station(kiosk).pack.version == FED_VERSION
    # the installed pack with hooks is never replaced, even by a fed pack that loads
    import kiosk.cli.station as station_module

    packs = kiosk.parent / "packs"
    shutil.copytree(station_module.PACKS_DIR, packs)
    (packs / "xinyu" / "hooks.py").write_text("PREDICATES = {}\n")
    monkeypatch.setattr(station_module, "PACKS_DIR", packs)
    assert station(kiosk).pack.version == INSTALLED_XINYU


def test_a_software_update_with_newer_rules_wins_over_an_older_fed_pack(central, kiosk, caplog):
    """The feed can move a kiosk forward from its installed pack, never back behind it."""
    publish(central.central, "policy", policy_content("xinyu", replace=(XINYU_4050, "age_at_least(F=45, M=50)"),
                                                      version="2023.9-1"), 3600)  # 9 < 82: older
    assert sync_pass(kiosk) == {"policy": "adopted"}
    with caplog.at_level(logging.INFO, logger="estation.station"):
        session = station(kiosk)
    assert session.pack.version == INSTALLED_XINYU and visit(session) is True  # the installed rule
    [used] = [r for r in caplog.records if r.getMessage() == "policy pack in use"]
    assert used.source == "installed" and "is newer than 2023.9-1" in used.reason
    for newer in ("2023.82-2", "2024.1-1", "2026.1-feed"):
        publish(central.central, "policy", policy_content("xinyu", replace=(XINYU_4050, "age_at_least(F=45, M=50)"),
                                                          version=newer), 3600)
        assert sync_pass(kiosk) == {"policy": "adopted"}
        assert station(kiosk).pack.version == newer


def test_pack_versions_order_by_their_numbers():
    from kiosk.policy.pack import version_order

    assert version_order("2023.9-1") < version_order("2023.82-1") < version_order("2023.82-2") \
        < version_order("2026.1-feed")
    assert version_order("draft") == ()  # no numbers: no order, the fed pack is used as before


def test_materialised_pack_is_rebuilt_from_the_adopted_snapshot(central, kiosk):
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    feeds = FeedClient(kiosk)
    assert feeds.ensure_policy_pack() == "current"
    policy_pack_dir(kiosk).unlink()  # e.g. adopted by software that did not materialise packs
    assert feeds.ensure_policy_pack() == "rebuilt" and station(kiosk).pack.version == FED_VERSION
    assert sync_pass(kiosk) == {}  # nothing newer on central; the pack stays
    assert feeds.ensure_policy_pack() == "current"


def test_old_format_snapshot_adopted_before_the_check_is_not_used(central, kiosk, caplog):
    """A kiosk upgraded with a policy snapshot adopted when its content was not checked."""
    from sync.durable import write_durably
    from sync.protocol import signed as sig
    from sync.protocol.jsonprofile import canonical
    from sync.protocol.keys import key_id, raw_public
    from sync.protocol.timefmt import format_unix

    key = central.central.keyring.keys.feed
    now = time.time()
    snap = sig.sign_object(key, sig.FEED, {"name": "policy", "version": 1, "issued_at": format_unix(now),
                                           "expires_at": format_unix(now + 3600), "key_id": key_id(raw_public(key)),
                                           "content": {"packs": ["xinyu"]}})
    feeds = FeedClient(kiosk)
    write_durably(kiosk / "feeds", "policy.snapshot", canonical(snap))
    with caplog.at_level(logging.WARNING, logger="estation.sync.feeds"):
        assert feeds.ensure_policy_pack() == "bad_content"
        assert feeds.ensure_policy_pack() == "bad_content"
    assert len([r for r in caplog.records if "no usable pack" in r.getMessage()]) == 1
    assert station(kiosk).pack.version == INSTALLED_XINYU
    assert load_enrollment(kiosk)  # untouched


def test_a_disk_that_refuses_the_pack_never_stops_uploads(central, kiosk, monkeypatch):
    """Disk full while materialising the pack: logged, the pass goes on, records still go out."""
    import sync.feeds as feeds_module
    from sync.runner import SyncRunner

    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    link = feeds_module.policy_pack_dir(kiosk)
    link.unlink()  # the next pass must materialise it again...

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(feeds_module, "write_durably", disk_full)  # ...and the disk refuses
    assert FeedClient(kiosk).ensure_policy_pack() == "bad_content"
    from kiosk.ports import RecordDraft
    from sync.enrollment import load_enrollment
    from sync.identity import load_identity
    from sync.outbox import Outbox

    with Outbox(kiosk, load_identity(kiosk / "device.key"), load_enrollment(kiosk)) as outbox:
        outbox.append(RecordDraft("01943e2a-5c00-7000-8000-00000000beef", "feedback", 1,
                                  "2026-11-23T08:00:00.000Z", {"rating": 5}))
    result = SyncRunner(kiosk).run_pass()
    assert result.error is None and result.heartbeat_ok and result.upload.stored == 1



def test_a_refused_feed_shows_on_the_operators_dashboard_until_a_good_one_is_adopted(central, kiosk):
    """The kiosk reports its last refusal in the heartbeat (`feed_refusals`, codes only); the operator
    who published a broken pack sees "refused: bad_content" on that kiosk's row."""
    token = central.central.create_operator_token()
    device_id = load_enrollment(kiosk).device_id

    def dashboard_row() -> str:
        page = httpx.get(central.url + "/dashboard?problem=feed_refused", headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200
        return page.text.split(f'data-device="{device_id}"', 1)[1].split("</tr>", 1)[0] \
            if f'data-device="{device_id}"' in page.text else ""

    def beat() -> dict:
        sync_pass(kiosk)
        r = httpx.get(f"{central.url}/v1/devices/{device_id}", headers={"Authorization": f"Bearer {token}"})
        return r.json()["last_heartbeat"]

    publish(central.central, "policy", policy_content("xinyu", extra_files={"hooks.py": "X = 1\n"}), 3600)
    assert sync_pass(kiosk) == {"policy": "bad_content"}
    refusals = beat()["feed_refusals"]  # the refusal goes out with the next heartbeat
    assert list(refusals) == ["policy"] and refusals["policy"]["error"] == "bad_content"
    assert set(refusals["policy"]) == {"error", "at"}  # no detail text leaves the kiosk
    row = dashboard_row()
    assert 'data-problems="feed_refused"' in row and "refused: bad_content" in row
    publish(central.central, "policy", stricter_xinyu(), 3600)
    assert sync_pass(kiosk) == {"policy": "adopted"}
    assert beat()["feed_refusals"] == {}
    assert dashboard_row() == ""  # gone from the filtered table


def test_an_operator_makes_the_feed_from_pack_directories_and_publishes_it(central, kiosk, tmp_path):
    """`estation policy feed DIR…` → `estation-central feeds publish` → the kiosk adopts → the station uses it."""
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).resolve().parents[2])

    edited = tmp_path / "xinyu"
    shutil.copytree(PACKS_DIR / "xinyu", edited, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    toml = (edited / "pack.toml").read_text("utf-8").replace(XINYU_4050, "age_at_least(F=45, M=50)")
    (edited / "pack.toml").write_text(toml.replace('version = "2023.82-1"', 'version = "2026.5-1"'), "utf-8")
    made = cli("kiosk", "policy", "feed", str(edited), str(PACKS_DIR / "wenzhou"))
    assert made.returncode == 0, made.stderr
    content = tmp_path / "policy.json"
    content.write_text(made.stdout, "utf-8")
    assert sorted(json.loads(made.stdout)["packs"]) == ["wenzhou", "xinyu"]
    published = cli("sync.central.cli", "feeds", "publish", "--db", central.central.settings.db_url,
                    "--name", "policy", "--file", str(content))
    assert published.returncode == 0, published.stderr
    assert sync_pass(kiosk) == {"policy": "adopted"}
    session = station(kiosk)
    assert session.pack.version == "2026.5-1" and visit(session) is False
    # what no kiosk would take is refused before it reaches the fleet: one error line, exit 2
    (edited / "hooks.py").write_text("PREDICATES = {}\n")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pack.toml").write_text("[pack\n", "utf-8")
    for args, message in ((str(edited),), "has hooks.py"), ((str(broken),), "does not load as a pack"), \
            ((str(tmp_path),), "no pack.toml"), ((str(PACKS_DIR / "xinyu"), str(PACKS_DIR / "xinyu")), "given twice"):
        refused = cli("kiosk", "policy", "feed", *args)
        assert refused.returncode == 2 and refused.stdout == "" and message in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
