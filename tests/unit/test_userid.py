"""User-id validation: safe ids pass unchanged, everything else fails with a clear message."""

import pytest

from interest_bot.memory.userid import InvalidUserIdError, is_valid_user_id, validate_user_id


@pytest.mark.parametrize("uid", ["alice", "a", "user_42", "bob@example.com", "slack:U123-x.y", "x" * 128])
def test_valid_ids_pass_unchanged(uid: str) -> None:
    assert validate_user_id(uid) == uid


@pytest.mark.parametrize(
    ("uid", "why"),
    [
        ("", "empty"),
        ("x" * 129, "129 characters"),
        ("../etc/passwd", "'/'"),
        ("a/b", "'/'"),
        ("a\\b", "\\"),
        (".", "reserved"),
        ("..", "reserved"),
        ("alice bob", "' '"),
        ('{"$ne": ""}', "allowed characters"),
        ("nul\x00byte", "allowed characters"),
        ("é", "allowed characters"),
    ],
)
def test_bad_ids_raise_with_reason(uid: str, why: str) -> None:
    with pytest.raises(InvalidUserIdError) as err:
        validate_user_id(uid)
    assert why in str(err.value)
    assert isinstance(err.value, ValueError)
    assert not is_valid_user_id(uid)


@pytest.mark.parametrize("uid", [None, 42, {"$ne": ""}, ["alice"]])
def test_non_strings_are_rejected(uid: object) -> None:
    with pytest.raises(InvalidUserIdError, match="must be a string"):
        validate_user_id(uid)
