"""How far the harness's ROUGE-L and edit similarity are from the packages TRACE scored with, on stored free-text outputs.

TRACE's metrics.py scores ROUGE-L with the ``rouge`` package (``Rouge(metrics=["rouge-l"])``,
F of the summary-level LCS) and Py150 with fuzzywuzzy's ``fuzz.ratio`` (an integer
percent); the harness uses Google's ``rouge-score`` and ``rapidfuzz``. For every stored
output of every ``rouge_l`` and ``edit_similarity`` task in the records of
``--results`` (runs of ``--formulation generate``), this scores the output against its
first reference both ways, as TRACE calls them (reference first, output second; an
empty output or reference skipped and counted as 0), and prints, per task, the mean of
each, the mean and largest absolute difference, and the share of outputs that differ
by more than 0.01. The references packages are needed only here:

    .venv/bin/pip install rouge==1.0.1 fuzzywuzzy==0.18.0
    .venv/bin/python benchmarks/trace_metrics.py --results results/
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.environment import git_hash  # noqa: E402
from benchmark.results.answer_metric_library import edit_similarity, rouge_l  # noqa: E402
from benchmark.results.answer_metrics import extracted  # noqa: E402
from benchmark.results.generations import SERIES, decode_generations, decode_references  # noqa: E402
from leaderboard.loading import load_records  # noqa: E402


def trace_rouge_l(reference: str, output: str) -> float:
    """ROUGE-L F as TRACE's ``score_rouge`` computes it (the ``rouge`` package); 0 for an empty text, as TRACE skips it."""
    from rouge import Rouge

    if not reference.strip() or not output.strip():
        return 0.0
    try:
        return float(Rouge(metrics=["rouge-l"]).get_scores(reference, output, avg=True)["rouge-l"]["f"])
    except ValueError:  # the package refuses a text with no word after its own cleaning (e.g. only punctuation)
        return 0.0


def trace_fuzz(reference: str, output: str) -> float:
    """fuzzywuzzy's ``fuzz.ratio`` on a 0-1 scale (it returns a rounded percent); 0 for an empty text, as TRACE skips it."""
    from fuzzywuzzy import fuzz

    return 0.0 if not output or not reference else fuzz.ratio(output, reference) / 100


OURS = {"rouge_l": rouge_l, "edit_similarity": edit_similarity}
THEIRS = {"rouge_l": trace_rouge_l, "edit_similarity": trace_fuzz}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True, help="a results folder with runs of --formulation generate")
    args = parser.parse_args()
    try:
        import fuzzywuzzy  # noqa: F401
        import rouge  # noqa: F401
    except ImportError:
        sys.exit("this comparison needs TRACE's packages: .venv/bin/pip install rouge==1.0.1 fuzzywuzzy==0.18.0")
    pairs: dict[str, list[tuple[float, float]]] = {}
    loaded = load_records(args.results)
    for record in loaded.records:
        stored = record.extra.get("references") or {}
        for row in record.measures.get(SERIES) or []:
            for j, cell in enumerate(row or []):
                if cell is None:
                    continue
                against = decode_references(stored[record.tasks[j]])
                if against.metric not in OURS:
                    continue
                for output, refs in zip(decode_generations(cell).outputs, against.references):
                    answer = extracted(output, against.answer_pattern)
                    pairs.setdefault(f"{record.tasks[j]} ({against.metric})", []).append(
                        (OURS[against.metric](answer, [refs[0]]), THEIRS[against.metric](refs[0], answer)))
    print(f"records: {len(loaded.records)} from {args.results}; commit {git_hash()}")
    print("| task (metric) | outputs | harness mean | TRACE's package mean | mean abs. difference | largest | share differing > 0.01 |")
    print("|---|---|---|---|---|---|---|")
    for name, scored in sorted(pairs.items()):
        diffs = [abs(a - b) for a, b in scored]
        print(f"| {name} | {len(scored)} | {statistics.mean(a for a, _ in scored):.4f} | {statistics.mean(b for _, b in scored):.4f} | "
              f"{statistics.mean(diffs):.4f} | {max(diffs):.4f} | {sum(d > 0.01 for d in diffs) / len(diffs):.1%} |")


if __name__ == "__main__":
    main()
