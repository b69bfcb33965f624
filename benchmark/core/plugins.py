"""``--plugins``: import a user's modules before any registry is read.

A strategy, measure, metric, loader, model or scenario defined in a user's own file
registers itself when its module is imported; ``--plugins my_strategies`` (a dotted
module name on ``sys.path`` or the working directory) or ``--plugins ./my_strategies.py``
(a file) imports it first, so the shell can use what it registers. ``plugins:`` in a
suite YAML does the same. Installed packages use entry points instead (no flag needed).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from benchmark.core.errors import UserError


def _module_name(path: Path) -> str:
    """A module name for a plugin file, unique per resolved path (two files named alike stay two modules)."""
    return f"forgetbench_plugin_{path.stem}_{abs(hash(str(path))) % 10**8}"


def _import_file(path: Path) -> None:
    name = _module_name(path)
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def import_plugins(names: list[str]) -> None:
    """Imports every plugin (a dotted module name or a ``.py`` path) once per process.

    Raises:
        UserError: Naming the plugin when it cannot be found or fails while importing.
    """
    cwd = str(Path.cwd())
    if cwd not in sys.path:  # `python run_benchmark.py --plugins my_strategies` finds my_strategies.py beside the user
        sys.path.append(cwd)
    for name in names:
        path = Path(name).expanduser()
        is_file = name.endswith(".py") or "/" in name
        try:
            if is_file:
                if not path.is_file():
                    raise UserError(f"plugin {name!r} is not a file; pass --plugins a .py path that exists or a module name such as my_strategies")
                _import_file(path.resolve())
            else:
                importlib.import_module(name)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the user's module raises while importing is reported in one sentence
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise UserError(
                f"plugin {name!r} could not be imported ({type(exc).__name__}{': ' + detail if detail else ''}); "
                "check the module name or path given to --plugins (or plugins: in the config)"
            ) from exc
