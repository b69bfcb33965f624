"""Atomic file writes: a reader sees the old file or the whole new one, never a part.

Write to a temporary file in the target's directory, fsync it, rename it over the
target (atomic on POSIX within one file system), then fsync the directory so the
rename itself survives a crash.

A temporary file's name carries this host and process (``.<target>.<host>-<pid>.<random>.tmp``),
so that :func:`remove_stale_temp_files` can delete those of processes that were killed
mid-write without touching those of a writer that is still at work.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from benchmark.core.errors import UserError
from benchmark.core.hashing import name_number


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


TEMP_SUFFIX = ".tmp"


def _host_tag() -> str:
    return f"{name_number(socket.gethostname()):08x}"


def _writer_is_gone(name: str) -> bool:
    """True for a temporary file of a process of this host that no longer runs."""
    parts = name[: -len(TEMP_SUFFIX)].rsplit(".", 2)
    host, _, pid = parts[1].partition("-") if len(parts) == 3 else ("", "", "")
    if host != _host_tag() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False



def remove_stale_temp_files(directory: str | Path) -> list[Path]:
    """Deletes the temporary files that killed writers of this host left in ``directory``; returns them."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    removed = []
    for candidate in folder.glob(f".*{TEMP_SUFFIX}"):
        if candidate.is_file() and _writer_is_gone(candidate.name):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


DEFAULT_FIX = "free space or fix permissions there, or choose another location"


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None], *, fix: str = DEFAULT_FIX) -> None:
    """Calls ``write(file)`` on a temporary file and renames it to ``path`` once complete.

    Raises:
        UserError: When ``path`` is a directory or another non-regular file (a device, a
            pipe), or the file system refuses the write (full, read-only, no permission);
            nothing is left behind, and an existing file at ``path`` is untouched.
            ``fix`` ends its message: how the user gets out of it.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        kind = "a directory" if target.is_dir() else "not a regular file"
        raise UserError(f"cannot write {str(target)!r}: it is {kind}; name a file path instead")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{_host_tag()}-{os.getpid()}.", suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise _write_failed(target, exc, fix) from exc
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp creates 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _write_failed(target, exc, fix) from exc
        raise
    _fsync_directory(target.parent)


def _write_failed(target: Path, exc: OSError, fix: str) -> UserError:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "a folder on its path is a file"
    else:
        reason = exc.strerror or str(exc) or type(exc).__name__
    return UserError(f"could not write {str(target)!r} ({reason}); {fix}")


def atomic_write_bytes(path: str | Path, data: bytes, *, fix: str = DEFAULT_FIX) -> None:
    """Writes ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(data), fix=fix)


def atomic_write_json(path: str | Path, obj: Any, *, fix: str = DEFAULT_FIX) -> None:
    """Writes ``obj`` as indented UTF-8 JSON to ``path`` atomically (see :func:`atomic_write`)."""
    text = json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"), fix=fix)
