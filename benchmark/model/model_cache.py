"""Model folders built once into the cache (a converted or unpacked packaged model), published atomically.

A folder is built in a private staging directory beside its target and renamed into
place, so no reader ever sees half of it; a damaged copy is renamed away before it
is deleted, for the same reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TypeVar

from safetensors import SafetensorError

from benchmark.core.cache import CACHE_FIX
from benchmark.core.errors import UserError
from benchmark.core.notices import notice

Loaded = TypeVar("Loaded")


def package_version(distribution: str) -> str:
    """The installed version of ``distribution`` (``unknown`` if it is not installed): it names the cached folder."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def load_cached(target: Path, build: Callable[[], None], load: Callable[[Path], Loaded], *, name: str, rebuilt_from: str) -> Loaded:
    """``load(target)``, building the folder first if it is not there, and once again if the cached copy cannot be read.

    Args:
        target: The cached model folder (complete once it holds ``config.json``).
        build: Builds ``target`` (atomically, with :func:`publish_folder`).
        load: Reads the model from the folder.
        name: The model's name, for the notice.
        rebuilt_from: What the folder is rebuilt from, for the notice.
    """
    if not (target / "config.json").is_file():
        build()
    try:
        return load(target)
    except Exception as exc:  # noqa: BLE001 - any way a damaged copy fails to load (truncated safetensors, broken JSON)
        notice(f"the cached copy of {name} in {target} could not be read ({type(exc).__name__}); it was rebuilt from {rebuilt_from}")
        discard(target)
        build()
        return load(target)


def publish_folder(target: Path, build: Callable[[Path], None], *, what: str) -> None:
    """Runs ``build(staging)`` and renames the staging folder to ``target`` (another process finishing first is fine).

    Args:
        target: The folder to create; it holds a ``config.json`` once complete.
        build: Writes the folder's files into the path it is given.
        what: The model and its size, for the error on a full or read-only cache.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise cache_unwritable(target, exc, what) from exc
    staging.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
    try:
        build(staging)
        try:
            os.rename(staging, target)  # atomic; fails if another process finished first, which is fine
        except OSError:
            if not (target / "config.json").is_file():
                raise
    except (OSError, SafetensorError) as exc:  # a full or read-only cache
        raise cache_unwritable(target, exc, what) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def cache_unwritable(target: Path, exc: Exception, what: str) -> UserError:
    """The one-sentence error for a cache folder that could not be written."""
    reason = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return UserError(f"could not write {what} to the cache {str(target)!r} ({reason}); {CACHE_FIX}")


def discard(target: Path) -> None:
    """Moves a damaged cached copy out of the way (a rename, so no reader sees half of it), then deletes it."""
    doomed = target.with_name(f".{target.name}.damaged-{os.getpid()}")
    try:
        os.rename(target, doomed)
    except FileNotFoundError:
        return  # another process already moved it
    shutil.rmtree(doomed, ignore_errors=True)
