"""The project's one stable hash and its one seed derivation.

Every fingerprint, cache key and data hash is SHA-256 over a text or JSON form
(:func:`digest`, :func:`stable_hash`); every seed taken from other numbers and names
comes from :func:`derived_seed`, so that no two components can draw from one stream
by accident and none depends on Python's per-process string hashing.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any


def digest(*chunks: str | bytes, length: int | None = None) -> str:
    """Hex SHA-256 of the chunks one after another (UTF-8 for text), cut to ``length`` characters."""
    sha = hashlib.sha256()
    for chunk in chunks:
        sha.update(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    return sha.hexdigest()[:length]


def stable_hash(parts: Any, length: int = 24) -> str:
    """A hash of JSON-able ``parts`` that is the same on every machine and Python (keys sorted, others as str)."""
    return digest(json.dumps(parts, sort_keys=True, default=str), length=length)


def name_number(text: str) -> int:
    """A 32-bit number of ``text`` (CRC-32): stable across processes, unlike ``hash``."""
    return zlib.crc32(text.encode("utf-8"))


def derived_seed(*parts: int | str) -> int:
    """A 31-bit seed derived from integers and names (run seed, task position, a component's name, ...)."""
    return name_number(",".join(str(p) for p in parts)) & 0x7FFFFFFF
