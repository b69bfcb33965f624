"""SARI (Xu et al. 2016, "Optimizing Statistical Machine Translation for Text Simplification"), one sentence at a time.

Written here because no maintained package that installs offline provides it: ``easse``
is not on PyPI, and Hugging Face's ``evaluate.load("sari")`` fetches its script from the
hub at run time. This follows the definition as Hugging Face's metric computes it (the
implementation TRACE scores 20Minuten with): text lower-cased and tokenised with
sacrebleu's ``13a`` tokenizer, then for n = 1..4

- keep: F1 of the n-grams the output keeps from the source, each weighted by how many
  references keep it (counts of source and output multiplied by the number of references);
- deletion: precision of the n-grams the output deletes from the source;
- addition: F1 of the n-grams the output adds that are not in the source;

with 0/0 taken as 1 (an output equal to the references scores 100), each averaged over
n, and SARI = (keep + deletion + addition) / 3. Golden tests pin it to the values the
metric's card publishes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

MAX_ORDER = 4
_tokenize = Tokenizer13a()


def _normalised_tokens(text: str) -> list[str]:
    return _tokenize(text.lower()).split()


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[k : k + n]) for k in range(len(tokens) - n + 1)]


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, with an empty denominator counting as perfect (the metric's 0/0 = 1)."""
    return numerator / denominator if denominator else 1.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _order_scores(source: list[tuple[str, ...]], output: list[tuple[str, ...]], references: list[list[tuple[str, ...]]]) -> tuple[float, float, float]:
    """(keep F1, deletion precision, addition F1) of one n-gram order."""
    refs = len(references)
    in_references = Counter(g for grams in references for g in grams)
    source_counts = Counter({g: c * refs for g, c in Counter(source).items()})
    output_counts = Counter({g: c * refs for g, c in Counter(output).items()})

    kept = source_counts & output_counts
    kept_right = kept & in_references
    keepable = source_counts & in_references
    keep_precision = _ratio(sum(kept_right[g] / kept[g] for g in kept), len(kept))
    keep_recall = _ratio(sum(kept_right.values()), sum(keepable.values()))

    deleted = source_counts - output_counts
    deleted_right = deleted - in_references
    delete_precision = _ratio(sum(deleted_right[g] / deleted[g] for g in deleted), len(deleted))

    added = set(output_counts) - set(source_counts)
    addable = set(in_references) - set(source_counts)
    added_right = len(added & set(in_references))
    add_f1 = _f1(_ratio(added_right, len(added)), _ratio(added_right, len(addable)))
    return _f1(keep_precision, keep_recall), delete_precision, add_f1


def sari_parts(source: str, output: str, references: Sequence[str]) -> tuple[float, float, float]:
    """(keep, deletion, addition) of one output, each averaged over n-gram orders 1-4, on a 0-1 scale."""
    tokens = [_normalised_tokens(text) for text in (source, output)]
    reference_tokens = [_normalised_tokens(r) for r in references]
    totals = [0.0, 0.0, 0.0]
    for n in range(1, MAX_ORDER + 1):
        scores = _order_scores(_ngrams(tokens[0], n), _ngrams(tokens[1], n), [_ngrams(r, n) for r in reference_tokens])
        totals = [t + s for t, s in zip(totals, scores)]
    keep, delete, add = (t / MAX_ORDER for t in totals)
    return keep, delete, add


def sari(source: str, output: str, references: Sequence[str]) -> float:
    """SARI of one output against its source and references, on a 0-1 scale."""
    return sum(sari_parts(source, output, references)) / 3
