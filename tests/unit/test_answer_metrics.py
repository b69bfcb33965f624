"""Answer metrics pinned to values computed independently: published examples, hand computation, TRACE's own libraries."""

from __future__ import annotations

import pytest

from benchmark.core.errors import UserError
from benchmark.results.answer_metric_library import bleu, edit_similarity, exact_match, numeric, rouge_l
from benchmark.results.answer_metric_library import accuracy as answer_accuracy
from benchmark.results.answer_metrics import ANSWER_METRICS, extracted, register_answer_metric, score_outputs
from benchmark.results.sari import sari, sari_parts

SOURCE = "About 95 species are currently accepted."
OUTPUT = "About 95 you now get in."
REFERENCES = ["About 95 species are currently known.", "About 95 species are now accepted.", "95 species are now accepted."]


def test_sari_reproduces_the_values_hugging_faces_metric_card_publishes() -> None:
    # evaluate-metric/sari's card: {'sari': 26.953601953601954, 'keep': 22.527472527472526, 'del': 50.0, 'add': 8.333333333333332}
    assert 100 * sari(SOURCE, OUTPUT, REFERENCES) == pytest.approx(26.953601953601954, abs=1e-12)
    keep, delete, add = (100 * v for v in sari_parts(SOURCE, OUTPUT, REFERENCES))
    assert (keep, delete, add) == pytest.approx((22.527472527472526, 50.0, 8.333333333333332), abs=1e-12)
    same = "About 95 species are currently accepted ."
    assert 100 * sari(same, same, [same]) == 100.0  # the card's perfect match


def test_sari_over_two_sentences_is_their_mean_as_in_the_metric_discussion() -> None:
    # evaluate-metric/sari discussion #2: the two-sentence corpus scores 29.13266517433184
    second = sari("The cat perched on the mat.", "Cat on mat.", ["The cat sat on the mat.", "The cat is on the mat.", "The cat sat."])
    assert 100 * (sari(SOURCE, OUTPUT, REFERENCES) + second) / 2 == pytest.approx(29.13266517433184, abs=1e-12)


def test_rouge_l_is_the_lcs_f_measure_computed_by_hand() -> None:
    # LCS("the cat on the mat", "the cat sat on the mat") = 5 words: P = 5/5, R = 5/6, F = 10/11
    assert rouge_l("the cat on the mat", ["the cat sat on the mat"]) == pytest.approx(10 / 11)
    assert rouge_l("the cat on the mat", ["dogs bark", "the cat sat on the mat"]) == pytest.approx(10 / 11)  # best reference
    assert rouge_l("   ", ["anything"]) == 0.0


def test_edit_similarity_is_fuzzywuzzys_ratio_without_its_rounding() -> None:
    # Indel distance 2 over 26 characters; fuzzywuzzy 0.18.0's fuzz.ratio (TRACE's Py150 metric) gives 92 and 70 for these pairs
    assert edit_similarity("def foo(bar):", ["def foo(baz):"]) == pytest.approx(1 - 2 / 26)
    assert round(100 * edit_similarity("def foo(bar):", ["def foo(baz):"])) == 92
    assert round(100 * edit_similarity("return x + 1", ["return y"])) == 70


def test_bleu_is_the_geometric_mean_of_ngram_precisions_computed_by_hand() -> None:
    # 1- to 4-gram precisions 5/6, 3/5, 2/4, 1/3; equal lengths, so no brevity penalty: (1/12) ** (1/4)
    assert bleu("the cat sat on the mat", ["the cat sat on a mat"]) == pytest.approx((1 / 12) ** 0.25, abs=1e-12)
    assert bleu("the cat sat on the mat", ["the cat sat on the mat"]) == pytest.approx(1.0)


@pytest.mark.parametrize(("output", "references", "expected"), [
    ("The Answer!", ["answer"], 1.0), ("an answer", ["the answer."], 1.0), ("answers", ["answer"], 0.0), ("", [""], 0.0),
])
def test_exact_match_normalises_as_squad_and_superni_do(output: str, references: list[str], expected: float) -> None:
    assert exact_match(output, references) == expected


def test_accuracy_matches_an_answer_up_to_case_spaces_and_punctuation() -> None:
    assert answer_accuracy(" Hawkish.", ["hawkish"]) == 1.0
    assert answer_accuracy("hawkish stance", ["hawkish"]) == 0.0


@pytest.mark.parametrize(("output", "reference", "expected"), [
    ("The total is 1,234.5 apples", "1234.5", 1.0), ("-3 degrees", "-3", 1.0), ("about 7", "8", 0.0), ("none", "8", 0.0),
])
def test_numeric_compares_the_first_number(output: str, reference: str, expected: float) -> None:
    assert numeric(output, [reference]) == expected


def test_the_answer_pattern_extracts_its_first_group_and_an_unmatched_output_scores_as_empty() -> None:
    pattern = r"Answer:\s*([A-D])"
    assert extracted("Answer: B\nBecause the wax ...", pattern) == "B"
    assert score_outputs("exact_match", ["Answer: B\nBecause ...", "I think B"], [["B"], ["B"]], pattern=pattern) == [1.0, 0.0]


def test_the_answer_pattern_reads_references_too_as_traces_scienceqa_scoring_does() -> None:
    pattern = r"Answer: (.)"  # TRACE takes the one character after "Answer: " from the output and the reference alike
    references = [["Answer: A\nBecause experiments can be designed ..."], ["Answer: B\nBecause ..."], ["C"]]
    outputs = ["Answer: A\nBecause the wax makes it faster.", "Answer: A\nBecause ...", "Answer: C"]
    assert score_outputs("accuracy", outputs, references, pattern=pattern) == [1.0, 0.0, 1.0]  # a bare reference is kept whole


def test_a_plugin_metric_is_scored_and_an_unknown_name_is_refused_with_close_matches() -> None:
    @register_answer_metric("length_match_test")
    def length_match(output: str, references: list[str], source: str | None = None) -> float:
        """1 if the output is as long as the first reference."""
        return float(len(output) == len(references[0]))

    try:
        assert score_outputs("length_match_test", ["abc", "ab"], [["xyz"], ["xyz"]]) == [1.0, 0.0]
        with pytest.raises(UserError, match="did you mean 'rouge_l'"):
            score_outputs("rouge-l", ["a"], [["a"]])
    finally:
        ANSWER_METRICS._entries.pop("length_match_test", None)
