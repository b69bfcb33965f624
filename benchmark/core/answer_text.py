"""How an answer written by a model is compared with an answer string: one rule for scenarios, scoring and metrics."""

from __future__ import annotations

import re
import string


def normalise_answer(text: str) -> str:
    """Lower case, surrounding whitespace and punctuation stripped, inner whitespace collapsed: how greedy outputs are matched to answers."""
    return re.sub(r"\s+", " ", text.strip().strip(string.punctuation + " \n\t").lower())
