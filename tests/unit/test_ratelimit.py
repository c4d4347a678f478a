"""The public UI's per-identity turn limit."""

from interest_bot.ui.ratelimit import TurnLimit


def test_turns_over_the_limit_are_refused_until_the_minute_passes() -> None:
    limit = TurnLimit(per_minute=3, max_identities=2)
    assert [limit.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limit.allow("b", now=3)  # another identity has its own budget
    assert limit.allow("a", now=60.5)  # the first turn left the window
    limit.allow("c", now=61)
    assert len(limit._seen) == 2  # only the most recent identities are remembered
