"""The one exception type for mistakes a user can fix.

Every error a user can cause (a bad name, a malformed file, a missing package) is
raised as :class:`UserError` with one sentence that says what is wrong, where, and
how to fix it. The CLI prints that sentence and exits with status 2; nothing is
written before the input has been validated.
"""

from __future__ import annotations

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in the user's input, reported as one clear sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class MissingFiles(UserError):
    """Files a source needs that are not there.

    Raised per task with the sentence for that task alone; a scenario's preparation
    collects them over all its tasks, so that one message names every missing file
    instead of one per attempt.

    Attributes:
        paths: The missing files, as the user should create them.
    """

    def __init__(self, message: str, paths: list[str]) -> None:
        super().__init__(message)
        self.paths = list(paths)
