"""Uploaded employee lists kept between preview and confirmation (instance/imports/)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

MAX_AGE_SECONDS = 3600
_ID_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass(frozen=True)
class StoredUpload:
    """The bytes of an upload as previewed, with who uploaded them and when."""

    upload_id: str
    data: bytes
    sha256: str
    filename: str
    user_id: int
    created: float


def _folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def store(data: bytes, filename: str, user_id: int) -> StoredUpload:
    """Keep an upload for confirmation; old ones are removed on the way."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    prune()
    upload_id = secrets.token_urlsafe(24)
    sha256 = hashlib.sha256(data).hexdigest()
    created = time.time()
    meta = {"sha256": sha256, "filename": filename, "user_id": user_id, "created": created}
    _write(folder / upload_id, data)
    _write(folder / f"{upload_id}.json", json.dumps(meta).encode("utf-8"))
    return StoredUpload(upload_id, data, sha256, filename, user_id, created)


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load(upload_id: str, user_id: int) -> StoredUpload | None:
    """Return an upload of this user that is under an hour old and unaltered, else None."""
    if not _ID_RE.fullmatch(upload_id or ""):
        return None
    folder = _folder()
    try:
        meta = json.loads((folder / f"{upload_id}.json").read_text("utf-8"))
        data = (folder / upload_id).read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user_id or time.time() - meta["created"] > MAX_AGE_SECONDS:
        return None
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        return None
    return StoredUpload(upload_id, data, meta["sha256"], meta["filename"], user_id, meta["created"])


def delete(upload_id: str) -> None:
    """Remove an upload (after it was committed)."""
    if not _ID_RE.fullmatch(upload_id or ""):
        return
    for path in (_folder() / upload_id, _folder() / f"{upload_id}.json"):
        path.unlink(missing_ok=True)


def prune(now: float | None = None) -> None:
    """Remove uploads older than an hour."""
    folder = _folder()
    if not folder.is_dir():
        return
    cutoff = (now or time.time()) - MAX_AGE_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # another worker removed it first
