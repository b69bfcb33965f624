"""One-line notes to the user about something the harness repaired or skipped on its own."""

from __future__ import annotations

import sys


def notice(message: str) -> None:
    """Prints ``note: <message>`` on standard error (never standard output, which tables may fill)."""
    print(f"note: {message}", file=sys.stderr)
