"""Durable file operations (the Maildir pattern): tmp → fsync → rename → fsync(dir)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TMP_PREFIX = ".tmp-"


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(directory: Path, name: str, data: bytes, *, mode: int = 0o600) -> Path:
    """Write `data` as directory/name so that after return it survives a power cut, whole or not at all."""
    # A fresh name, created exclusively and never through a link: the directory may be writable by
    # a less trusted user than the writer (root re-provisioning the service user's sync dir), who
    # could otherwise plant a symlink at a predictable name and have the write land elsewhere.
    tmp = directory / f"{TMP_PREFIX}{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        final = directory / name
        os.replace(tmp, final)
    except BaseException:  # a full disk retried in a loop must not leave a temp file per attempt
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)
    return final


def remove_durably(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


def move_durably(source: Path, target_dir: Path) -> Path:
    target = target_dir / source.name
    os.replace(source, target)
    fsync_dir(target_dir)
    fsync_dir(source.parent)
    return target
