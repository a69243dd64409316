"""What the kiosk keeps after enrollment: pinned central keys, limits, clock offset (no secrets)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from kiosk.errors import ConfigError
from sync.durable import write_durably
from sync.protocol.b64u import b64u_decode


@dataclass(frozen=True)
class Enrollment:
    central_url: str
    device_id: str
    label: str
    receipt_key: str  # b64u, pinned
    record_key: str  # b64u
    record_key_id: str
    feed_key: str  # b64u, pinned (re-pinned along the rotation chain)
    heartbeat_interval_s: int
    max_body_bytes: int
    max_batch: int
    clock_offset_s: float = 0.0  # server − local; a Pi without RTC adopts central's clock

    def receipt_public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(b64u_decode(self.receipt_key))

    def record_public(self) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(b64u_decode(self.record_key))

    def with_offset(self, offset: float) -> "Enrollment":
        return replace(self, clock_offset_s=offset)


def enrollment_path(sync_dir: Path) -> Path:
    return sync_dir / "enrollment.json"


def save_enrollment(sync_dir: Path, enrollment: Enrollment) -> None:
    data = json.dumps(asdict(enrollment), indent=2, sort_keys=True).encode("utf-8")
    write_durably(sync_dir, enrollment_path(sync_dir).name, data)


def load_enrollment(sync_dir: Path) -> Enrollment:
    path = enrollment_path(sync_dir)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return Enrollment(**data)
    except FileNotFoundError:
        raise ConfigError("", f"{path}: not enrolled", hint="run `estation provision --central URL --token T`") \
            from None
    except (ValueError, TypeError) as exc:
        raise ConfigError("", f"{path}: unreadable enrollment: {exc}", hint="provision again") from None
