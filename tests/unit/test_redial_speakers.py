"""ReDial rows for bench.crs: who said each context line (the `User:` labels are positions, not speakers)."""

from dataclasses import replace

import pytest

from bench.redial import RECOMMENDER, SEEKER, Row, check_alternation, load_rows, speakers


def test_speaker_is_read_from_the_distance_to_the_reply() -> None:
    # The reply comes at index 4: index 3 is the seeker's, 2 the recommender's, 1 the seeker's again.
    assert speakers(["", "hi", "hello, what do you like?", "horror, like Scream (1996)"]) == (
        (SEEKER, "hi"), (RECOMMENDER, "hello, what do you like?"), (SEEKER, "horror, like Scream (1996)"),
    )
    # The recommender spoke first: index 1 (labelled `User:` in `input`) is the recommender's.
    assert speakers(["", "Hello!", "Hello!", "What kind of movies do you like?", "I enjoyed Alien (1979)"])[0] == (RECOMMENDER, "Hello!")


def test_rows_that_do_not_continue_with_the_reply_are_refused() -> None:
    first = Row("d", 1, speakers(["", "hi"]), (), (1,), resp="Try Heat (1995)")
    second = Row("d", 2, speakers(["", "hi", "Try Heat (1995)", "seen it"]), (), (2,))
    check_alternation([first, second])
    with pytest.raises(ValueError):
        check_alternation([first, replace(second, lines=speakers(["", "hi", "something else", "seen it"]))])


def test_the_test_rows_alternate_and_most_labels_are_not_speakers() -> None:
    rows = load_rows()  # raises unless every dialogue alternates
    assert len(rows) == 3552
    last = {r.dialog_id: r for r in rows}
    first_speaker = [r.lines[0][0] for r in last.values()]
    assert first_speaker.count(RECOMMENDER) == 883  # there `User:` (odd context index) is the recommender
