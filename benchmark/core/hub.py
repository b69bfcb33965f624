"""Is the Hugging Face Hub reachable? If not, use only what is cached, and fail fast.

Without a network, transformers and datasets retry the Hub for about 25 seconds
before giving up. Checking once (DNS plus one TCP connect with a short timeout) lets
forgetbench go straight to the local cache and, when the cache lacks the model or
dataset, report it in one sentence.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
from collections.abc import Iterator

HUB_HOST = "huggingface.co"


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = 2.0) -> bool:
    """True if the Hub answers a TCP connection (False when HF_HUB_OFFLINE=1)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def cache_only() -> Iterator[None]:
    """Makes huggingface_hub and datasets use only their local caches inside the block."""
    import huggingface_hub.constants as hub_constants

    patches = [(hub_constants, "HF_HUB_OFFLINE", True)]
    try:
        import datasets.config as datasets_config

        patches.append((datasets_config, "HF_HUB_OFFLINE", True))
    except ImportError:
        pass
    saved = [(module, name, getattr(module, name, None)) for module, name, _ in patches]
    for module, name, value in patches:
        setattr(module, name, value)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
