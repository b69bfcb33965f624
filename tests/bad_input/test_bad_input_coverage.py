"""The table-driven bad-input cases stay many: a new class of mistake gets a row, not a comment."""

from __future__ import annotations

from tests.bad_input.test_bad_input import CASES
from tests.bad_input.test_bad_input_data import DATA_CASES
from tests.bad_input.test_leaderboard_bad_input import BAD_RECORDS, OUTPUTS


def test_there_are_at_least_90_table_driven_bad_input_cases() -> None:
    assert len(CASES) + len(DATA_CASES) + len(BAD_RECORDS) + len(OUTPUTS) >= 90
