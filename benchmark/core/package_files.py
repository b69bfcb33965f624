"""Files shipped inside installed PyPI packages (the offline default model and data)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from benchmark.core.errors import UserError


def find_package_file(package: str, relative: str, *, install: str) -> Path:
    """Path of ``relative`` inside installed package ``package``.

    The package is located with ``importlib.util.find_spec``, which does not run its
    ``__init__`` (some of these packages import things forgetbench does not install).

    Args:
        package: Import name of the package.
        relative: Path of the file inside the package folder.
        install: The pip command that installs the right version, for the error message.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"this needs the package {package!r}, which is not installed; run `{install}`")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise UserError(f"{relative!r} is missing from the installed package {package!r}; reinstall it with `{install}`")
    return path
