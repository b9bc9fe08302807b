"""The incremental cache of a batch: what a form rendered to, stored as raw bytes beside JSON metadata.

In: the content that determines a form's output — its validated data (canonical JSON by alias), the
templates (the whole override folder and the built-ins), jixiao's version — and a format. Out: the bytes
of that format (``grid`` stores the form's grid as JSON, for the combined DOCX and XLSX).

Layout under ``OUT/.jixiao-cache/``::

    ab/ab12…ef.pdf.bin     the bytes
    ab/ab12…ef.pdf.json    {"sha256": …, "size": …, "pages": …}  (written last: it commits the entry)

Nothing here is pickled or evaluated: a planted cache file can at worst be refused. An entry whose
metadata is unreadable, or whose bytes do not match its size and SHA-256, is treated as missing and
removed, so the form is rendered again; a damaged cache never crashes a run or reaches an output file.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from . import grid
from .output import write_atomic

CACHE_DIR = ".jixiao-cache"
MAX_META = 64 * 1024  # a metadata file is a few hundred bytes; anything larger is not ours


def digest(*parts: bytes | str) -> str:
    """SHA-256 (hex) of several parts, each length-prefixed so that no two lists collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def canonical_json(data: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, Unicode kept."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def form_key(data: dict, templates_hash: str, version: str) -> str:
    """The key of one form: its data (by alias), the templates it is laid out with, jixiao's version."""
    return digest("jixiao-form", version, templates_hash, canonical_json(data))


@lru_cache(maxsize=1)
def _grid_adapter() -> TypeAdapter:
    return TypeAdapter(grid.FormGrid)


def grid_to_bytes(value: grid.FormGrid) -> bytes:
    """A form's grid as JSON bytes."""
    return _grid_adapter().dump_json(value)


def grid_from_bytes(data: bytes) -> grid.FormGrid:
    """The grid stored by :func:`grid_to_bytes` (raises ValueError when the JSON does not fit)."""
    return _grid_adapter().validate_json(data)


class Cache:
    """Entries in one folder, addressed by (key, format)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _paths(self, key: str, fmt: str) -> tuple[Path, Path]:
        base = self.folder / key[:2] / f"{key}.{fmt}"
        return base.with_name(base.name + ".bin"), base.with_name(base.name + ".json")

    def get(self, key: str, fmt: str) -> tuple[bytes, dict] | None:
        """The bytes and metadata of an entry, or None when it is missing or damaged (then removed)."""
        data_path, meta_path = self._paths(key, fmt)
        try:
            if meta_path.stat().st_size > MAX_META:
                raise ValueError("metadata too large")
            meta = json.loads(meta_path.read_bytes())
            data = data_path.read_bytes()
            if (not isinstance(meta, dict) or meta.get("size") != len(data)
                    or meta.get("sha256") != hashlib.sha256(data).hexdigest()):
                raise ValueError("checksum mismatch")
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self.discard(key, fmt)
            return None
        return data, meta

    def meta(self, key: str, fmt: str) -> dict | None:
        """An entry's metadata alone (e.g. a PDF's page count): a few hundred bytes read, the data neither
        read nor verified. None when missing or unreadable."""
        try:
            meta_path = self._paths(key, fmt)[1]
            if meta_path.stat().st_size > MAX_META:
                return None
            meta = json.loads(meta_path.read_bytes())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def has(self, key: str, fmt: str) -> bool:
        """True when a valid entry exists (its checksum is verified)."""
        return self.get(key, fmt) is not None

    def put(self, key: str, fmt: str, data: bytes, **meta: Any) -> None:
        """Store an entry: bytes first, then the metadata that makes it valid."""
        data_path, meta_path = self._paths(key, fmt)
        write_atomic(data_path, data)
        record = {**meta, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        write_atomic(meta_path, json.dumps(record).encode("utf-8"))

    def discard(self, key: str, fmt: str) -> None:
        """Remove an entry (quietly: a cache that cannot be cleaned is only a slower cache)."""
        for path in self._paths(key, fmt):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
