"""The lexicon feature: VADER's list with the film-talk slang supplement read over it."""

from __future__ import annotations

from interest_bot.plugins.interest.understanding import lexicon


def test_the_supplement_takes_precedence_over_vader() -> None:
    words = lexicon.lexicon()
    assert words["wicked"] > 0  # VADER reads it as evil; in film talk it praises
    assert words["banger"] > 0 and words["naff"] < 0 and words["pish"] < 0  # slang VADER lacks
    assert "mid" not in words and "mint" not in words  # "mid-calf", a mint top: left out on purpose
    assert words["love"] > 0 and words["hate"] < 0  # VADER's own entries are still there


def test_slang_moves_the_feature_and_negation_flips_it() -> None:
    banger, naff, negated, plain = lexicon.features(["that film is a banger", "that film is naff", "it's not a banger", "that film is long"])
    assert banger[2] > 0.5 and naff[2] < -0.5  # net valence (tanh)
    assert negated[2] < 0 and negated[3] == 1.0  # the negator flips the next words and is flagged
    assert plain[0] == plain[1] == 0.0  # no valenced word, no mass


def test_every_supplement_line_parses() -> None:
    for line in lexicon.INFORMAL_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, value = line.split("\t")
            assert word == word.lower() and -4.0 <= float(value) <= 4.0
