"""User-id validation: every store query for one user is built only from an id that passed here."""

from __future__ import annotations

import re

from .errors import InvalidInputError

MAX_USER_ID_LEN = 128
# No '/', '\\', NUL, spaces or quotes: an id can never act as a path, a filter operator or a record-id separator.
USER_ID_RE = re.compile(r"[A-Za-z0-9_.@:\-]{1,128}")


class InvalidUserIdError(InvalidInputError):
    """A user id that is empty, too long, or uses characters outside [A-Za-z0-9_.@:-]."""


def validate_user_id(user_id: object) -> str:
    """Return user_id unchanged if it is a safe id, else raise InvalidUserIdError saying why."""
    if not isinstance(user_id, str):
        raise InvalidUserIdError(f"user id must be a string, got {type(user_id).__name__}")
    if not user_id:
        raise InvalidUserIdError("user id must not be empty")
    if len(user_id) > MAX_USER_ID_LEN:
        raise InvalidUserIdError(f"user id is {len(user_id)} characters long; at most {MAX_USER_ID_LEN} are allowed")
    if not USER_ID_RE.fullmatch(user_id):
        bad = sorted({c for c in user_id if not USER_ID_RE.fullmatch(c)})
        raise InvalidUserIdError(
            f"user id {user_id[:40]!r} contains {''.join(bad)!r}; allowed characters are A-Z a-z 0-9 _ . @ : -"
        )
    if user_id in {".", ".."}:
        raise InvalidUserIdError(f"user id {user_id!r} is reserved (it names a directory)")
    return user_id


def is_valid_user_id(user_id: object) -> bool:
    """True when validate_user_id would accept user_id."""
    try:
        validate_user_id(user_id)
    except InvalidUserIdError:
        return False
    return True
