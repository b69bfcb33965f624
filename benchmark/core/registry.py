"""Name -> object registries for strategies, scenarios, loaders, metrics and models.

Built-in entries register themselves with a decorator when their module is imported;
a registry imports its built-in modules lazily on first lookup, so importing the
engine stays cheap and has no side effects. Third-party packages add entries
through an entry-point group (e.g. ``forgetbench.strategies``).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from benchmark.core.errors import UserError

T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    """One registered object with its name and a one-line description."""

    name: str
    obj: T
    description: str
    meta: dict[str, Any] = field(default_factory=dict)


def first_docstring_line(obj: object) -> str:
    """Returns the first non-empty line of an object's docstring, or ''."""
    doc = getattr(obj, "__doc__", None) or ""
    for line in doc.strip().splitlines():
        if line.strip():
            return line.strip().replace("``", "")
    return ""


class Registry(Generic[T]):
    """A named collection of pluggable objects of one kind.

    Args:
        kind: What the registry holds, used in messages ("strategy").
        where: Where the user typed the name, used in messages ("--strategies").
        builtin_modules: Modules whose import registers the built-in entries.
        entry_point_group: Entry-point group third-party packages register through.
    """

    def __init__(
        self,
        kind: str,
        *,
        where: str,
        builtin_modules: tuple[str, ...] = (),
        entry_point_group: str | None = None,
    ) -> None:
        self.kind = kind
        self.where = where
        self._builtin_modules = builtin_modules
        self._entry_point_group = entry_point_group
        self._entries: dict[str, Entry[T]] = {}
        self._loaded = False

    def register(self, name: str, *, description: str | None = None, **meta: Any) -> Callable[[T], T]:
        """Class/function decorator that registers the decorated object under ``name``."""

        def decorate(obj: T) -> T:
            self.add(name, obj, description=description, **meta)
            return obj

        return decorate

    def add(self, name: str, obj: T, *, description: str | None = None, **meta: Any) -> None:
        """Registers ``obj`` under ``name``; a second, different object under one name is a bug."""
        existing = self._entries.get(name)
        if existing is not None and existing.obj is not obj:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        text = description if description is not None else first_docstring_line(obj)
        self._entries[name] = Entry(name=name, obj=obj, description=text, meta=meta)

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtin_modules:
            importlib.import_module(module)
        if self._entry_point_group:
            for ep in entry_points(group=self._entry_point_group):
                try:
                    loaded = ep.load()
                except Exception as exc:  # a broken plugin must not take the harness down silently
                    raise UserError(
                        f"the {self.kind} plugin {ep.name!r} (entry point {ep.value!r} in group "
                        f"{self._entry_point_group!r}) failed to import ({exc}); fix or uninstall that package"
                    ) from exc
                if ep.name not in self._entries:
                    self.add(ep.name, loaded)

    def entry(self, name: str) -> Entry[T]:
        """Returns the entry for ``name`` or raises a one-line UserError with close matches."""
        self._ensure_loaded()
        if name in self._entries:
            return self._entries[name]
        close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "none is close"
        raise UserError(
            f"unknown {self.kind} {name!r} in {self.where}; {hint} "
            f"(`python run_benchmark.py --list` shows all {len(self._entries)} registered)"
        )

    def get(self, name: str) -> T:
        """Returns the object registered under ``name`` (see :meth:`entry`)."""
        return self.entry(name).obj

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        self._ensure_loaded()
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return [e.name for e in self]
