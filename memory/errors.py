"""The error for input a caller can fix: the API answers it 422 with its message, every other error 500."""

from __future__ import annotations


class InvalidInputError(ValueError):
    """Input that cannot be taken as given (a bad user id, another catalog's item id, a bad timestamp); says why."""
