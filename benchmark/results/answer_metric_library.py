"""The built-in answer metrics, each from a well-kept library where one exists.

Every function takes (output, references, source) and returns a score in [0, 1]; with
several references an output scores its best match (SuperNI's convention). An empty
output scores 0, as TRACE's scripts count it. Where TRACE's own scripts used another
library the difference is stated at the function (docs/concepts/metrics.md measures it).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from rapidfuzz import fuzz
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU

from benchmark.core.answer_text import normalise_answer
from benchmark.results.answer_metrics import register_answer_metric
from benchmark.results.sari import sari as sari_score

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
_bleu = BLEU(effective_order=True)


def squad_normalised(text: str) -> str:
    """Lower case, punctuation and English articles removed, whitespace collapsed (SQuAD's and SuperNI's exact-match rule)."""
    text = text.lower().translate(_NO_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


@register_answer_metric("exact_match")
def exact_match(output: str, references: Sequence[str], source: str | None = None) -> float:
    """1 if the output equals a reference after SQuAD/SuperNI normalisation (case, punctuation, articles, spaces), else 0."""
    got = squad_normalised(output)
    return float(bool(output.strip()) and any(got == squad_normalised(r) for r in references))


@register_answer_metric("accuracy")
def accuracy(output: str, references: Sequence[str], source: str | None = None) -> float:
    """1 if the output equals a reference up to case, surrounding punctuation and spaces (the text formulation's rule), else 0."""
    got = normalise_answer(output)
    return float(bool(got) and any(got == normalise_answer(r) for r in references))


@register_answer_metric("rouge_l")
def rouge_l(output: str, references: Sequence[str], source: str | None = None) -> float:
    """ROUGE-L F-measure (Google's rouge-score, its default tokenizer, no stemming); the best over references.

    TRACE used the ``rouge`` package, which splits on whitespace and keeps non-ASCII
    letters; rouge-score drops every character outside [a-z0-9], so the two differ on
    text with accents or umlauts (``benchmarks/trace_metrics.py`` measures by how much).
    """
    if not output.strip():
        return 0.0
    return max(_rouge.score(r, output)["rougeL"].fmeasure for r in references)


@register_answer_metric("edit_similarity")
def edit_similarity(output: str, references: Sequence[str], source: str | None = None) -> float:
    """Normalised Indel similarity of the characters (rapidfuzz's fuzz.ratio / 100); the best over references.

    TRACE's Py150 used fuzzywuzzy's ``fuzz.ratio`` (a whole percent). TRACE's requirements
    do not install python-Levenshtein, without which fuzzywuzzy falls back to difflib's
    SequenceMatcher: another matching (Ratcliff-Obershelp), so the two differ beyond the
    rounding (``benchmarks/trace_metrics.py`` measures by how much).
    """
    if not output.strip():
        return 0.0
    return max(fuzz.ratio(output, r) for r in references) / 100


@register_answer_metric("bleu")
def bleu(output: str, references: Sequence[str], source: str | None = None) -> float:
    """Sentence BLEU (sacrebleu, 13a tokenizer, exponential smoothing, effective order) against all references, / 100."""
    if not output.strip():
        return 0.0
    return _bleu.sentence_score(output, list(references)).score / 100


@register_answer_metric("sari", needs_source=True)
def sari(output: str, references: Sequence[str], source: str | None = None) -> float:
    """SARI (Xu et al. 2016) against the source and the references, as Hugging Face's metric computes it, / 100."""
    if source is None:
        raise ValueError("sari needs the example's source text")
    if not output.strip():
        return 0.0
    return sari_score(source, output, references)


def first_number(text: str) -> float | None:
    """The first number written in ``text`` (thousands separators allowed), or None."""
    match = _NUMBER.search(text)
    return None if match is None else float(match.group().replace(",", ""))


@register_answer_metric("numeric")
def numeric(output: str, references: Sequence[str], source: str | None = None) -> float:
    """1 if the first number in the output equals the first number of a reference (to 1e-6), else 0."""
    got = first_number(output)
    wanted = [first_number(r) for r in references]
    return float(got is not None and any(w is not None and abs(got - w) <= 1e-6 * max(1.0, abs(w)) for w in wanted))
