"""An argparse parser whose usage mistakes are one-sentence user errors (exit 2, no usage dump)."""

from __future__ import annotations

import argparse
from typing import NoReturn

from benchmark.core.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` that raises :class:`UserError` instead of printing usage and exiting.

    argparse's own report is two lines (usage, then the error); every other mistake a
    user can make is one sentence, so this one is too, and it ends with where to look.
    """

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message}; see `{self.prog} --help`")
