"""Device identity (SYNC.md §2): the Ed25519 device key, made once, mode 0600, never exported."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.errors import ConfigError
from sync.durable import fsync_dir
from sync.protocol.keys import device_id_of, raw_private, raw_public

KEY_FILE_MODE = 0o600


@dataclass(frozen=True)
class DeviceIdentity:
    key: Ed25519PrivateKey
    public: bytes
    device_id: str

    @classmethod
    def from_key(cls, key: Ed25519PrivateKey) -> "DeviceIdentity":
        public = raw_public(key)
        return cls(key, public, device_id_of(public))

    def sign(self, message: bytes) -> bytes:  # kiosk.ports.Signer
        return self.key.sign(message)


def load_identity(path: Path) -> DeviceIdentity:
    try:
        mode = path.stat().st_mode & 0o777
        seed = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("", f"{path}: no device key", hint="run `estation provision` first") from None
    if mode & 0o077:
        raise ConfigError("", f"{path}: device key is readable by others (mode {mode:o})",
                          hint=f"chmod 600 {path}")
    if len(seed) != 32:
        raise ConfigError("", f"{path}: not a device key (expected 32 bytes)")
    return DeviceIdentity.from_key(Ed25519PrivateKey.from_private_bytes(seed))


def load_or_create_identity(path: Path) -> tuple[DeviceIdentity, bool]:
    """The device key at `path`, made first when absent; (identity, created)."""
    if path.exists():
        return load_identity(path), False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    # O_EXCL + mode at creation: the key is never readable by others, not even for an instant.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:  # another provision raced us: use its key
        return load_identity(path), False
    try:
        os.write(fd, raw_private(key))
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)
    return DeviceIdentity.from_key(key), True
