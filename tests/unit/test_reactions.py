"""Replies to the bot's suggestions read as feedback on what was shown."""

import pytest

from interest_bot.plugins.interest.understanding.reactions import Reaction, read_reaction


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("seen it", Reaction.SEEN),
        ("I've already watched that one", Reaction.SEEN),
        ("sounds good, thanks!", Reaction.LIKED),
        ("I'll check it out", Reaction.LIKED),
        ("not that one", Reaction.DECLINED),
        ("no thanks, seen it", Reaction.DECLINED),
        ("I love heist movies", None),
        ("what else do you have?", None),
    ],
)
def test_read_reaction(text: str, want: Reaction | None) -> None:
    assert read_reaction(text) is want
