"""The user cache directory (converted models, tokenised data)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$FORGETBENCH_CACHE`` if set, else ``~/.cache/forgetbench``."""
    configured = os.environ.get("FORGETBENCH_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "forgetbench"


CACHE_FIX = "free space there or set FORGETBENCH_CACHE to a writable folder"
"""How a user gets out of a cache that cannot be written (the end of that error's sentence)."""
