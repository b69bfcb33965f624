"""Text that is safe to print to a terminal or write into a markdown file.

Names reach output from places a user controls (a model path, a plug-in strategy's
name, a hand-edited record): a control character among them (an ANSI escape, a
carriage return) would rewrite the terminal, so every one is shown as its escape
sequence instead (``\\x1b``), the way ``repr`` shows it.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: a name or a one-line message holds neither), DEL, and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character."""
    return bool(_CONTROL.search(text))


def printable(text: str) -> str:
    """``text`` with every control character written as its escape (``\\x1b``), everything else unchanged."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
