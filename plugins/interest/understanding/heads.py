"""Small trainable heads on the sentence embedding (plus hashed n-grams): logistic, saved as plain arrays."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy import sparse

from .lexicon import NEGATION_WINDOW, NEGATORS

HASH_FEATURES = 2**16  # hashed word 1-2-grams; no vocabulary to save, so heads reload in milliseconds.
FORMAT_VERSION = 3  # 2: negation-marked grams; 3: a negated liking or disliking verb marked, a negator in another's scope cancels it


_TOKEN = re.compile(r"(?u)\b\w[\w']*\b")
# Verb forms whose negation states a taste ("didn't like", "never hated"); "care" is left out ("I don't care what").
_LIKING = frozenset(f"{v}{e}" for v in ("lik", "lov") for e in ("e", "es", "ed", "ing")) | {"enjoy", "enjoys", "enjoyed", "enjoying"}
_DISLIKING = frozenset(f"{v}{e}" for v in ("hat", "dislik") for e in ("e", "es", "ed", "ing")) | {
    "mind", "minded", "regret", "regretted", "tire", "tired",
}
_VERB_ADVERBS = {"really", "even", "ever", "much", "actually", "particularly", "exactly", "always", "truly", "i", "we"}
# Words before "not" / "never" that make it a verb's negation ("I do not like", "we never liked", "I've never enjoyed");
# "nothing like it" and "is not like" are not. A sentence may open with one ("Never liked musicals").
_SUBJECTS = {
    "", "do", "did", "does", "i", "we", "they", "really", "just", "honestly", "still", "would", "could", "will", "have", "has",
    "had", "i've", "we've", "they've", "i'd", "we'd", "i'm", "i'll", "we'll",
}
# "isn't like anything", "wasn't like I cared": a copula's negation, and "who doesn't love ...": a question of praise.
_NOT_VERB_NEGATION = {"isn't", "wasn't", "aren't", "weren't", "ain't", "isnt", "wasnt", "arent", "werent", "aint"}
_ASKING = {"who", "what", "don't", "doesn't", "didn't"}
_BREAK = re.compile(r"[,.;:!?()]|\s-\s")
# A leading "no" or a list's "nor" repeats a negation rather than undoing the one before it.
_NO_CANCEL = {"no", "nor", "nah", "neither"}


def grams(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Word 1-2-grams of text with the character span each covers (contractions like "don't" stay whole).

    Words within a few words after a negator also appear marked ("not_tired" in "never get tired of it"), so a
    linear head can learn that a negated complaint is praise; the plain word stays for the category head. A liking or
    disliking verb that a negator governs also carries one mark shared by all such verbs ("not_liking" in "I do not
    like", "not_disliking" in "didn't hate"): the chat lines negate "like" in many senses, the mark keeps the verb's.
    A negator in the same phrase as another's scope cancels it ("not that I don't like comedies" reads "like" plain).
    """
    lowered = text.lower()
    tokens = [(m.group(), m.span()) for m in _TOKEN.finditer(lowered)]
    out = tokens + [(f"{a} {b}", (sa[0], sb[1])) for (a, sa), (b, sb) in zip(tokens, tokens[1:])]
    negated_until = -1
    negator_at = -9
    verb_negation = False
    for j, (tok, span) in enumerate(tokens):
        negator = tok in NEGATORS or tok.endswith("n't") or tok.endswith("nt") and tok[:-2] + "n't" in NEGATORS
        if j <= negated_until and not negator:
            out.append((f"not_{tok}", span))
            mark = "not_liking" if tok in _LIKING else "not_disliking" if tok in _DISLIKING else None
            if mark and verb_negation and all(t in _VERB_ADVERBS for t, _ in tokens[negator_at + 1 : j]):
                out.append((mark, span))
        if negator:
            # A sentence or phrase may open with it ("Not a fan, never liked them"): nothing stands before it then.
            before = tokens[j - 1][0] if j and not _BREAK.search(lowered, tokens[j - 1][1][1], span[0]) else ""
            asks = before in _ASKING or j + 1 < len(tokens) and tokens[j + 1][0] in ("you", "u")  # "who doesn't love", "don't you love"
            verb_negation = not asks and (
                tok == "cannot" or tok.endswith(("n't", "nt")) and tok not in _NOT_VERB_NEGATION or tok in ("not", "never") and before in _SUBJECTS
            )
            same_phrase = j <= negated_until and not _BREAK.search(lowered, tokens[negator_at][1][1], span[0])
            negated_until = -1 if same_phrase and tokens[negator_at][0] not in _NO_CANCEL and tok not in _NO_CANCEL else j + NEGATION_WINDOW
            negator_at = j
    return out


@lru_cache(maxsize=2**16)
def bucket(gram: str) -> int:
    """The hashed feature index of one n-gram (murmurhash3)."""
    from sklearn.utils import murmurhash3_32

    return int(murmurhash3_32(gram, seed=0, positive=True)) % HASH_FEATURES  # int(): sklearn is untyped


def gram_counts(found: list[tuple[str, tuple[int, int]]]) -> tuple[dict[int, float], float]:
    """Per hashed feature, how often its grams occur; and the L2 norm hashed() divides them by."""
    counts: dict[int, float] = {}
    for gram, _ in found:
        h = bucket(gram)
        counts[h] = counts.get(h, 0.0) + 1.0
    return counts, float(np.sqrt(sum(v * v for v in counts.values()))) or 1.0


def hashed(texts: list[str]) -> sparse.csr_matrix:
    """Hashed, L2-normalised word 1-2-gram counts."""
    indptr: list[int] = [0]
    indices: list[int] = []
    values: list[float] = []
    for text in texts:
        counts, norm = gram_counts(grams(text))
        indices.extend(counts)
        values.extend(v / norm for v in counts.values())
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(values, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(texts), HASH_FEATURES),
    )


class Progress(Protocol):
    """A progress bar as fit_head advances it (tqdm's update)."""

    def update(self, n: int = 1) -> object: ...


@dataclass
class LinearHead:
    """Independent logistic outputs over [embedding, lexical_scale * hashed n-grams]."""

    labels: list[str]
    weight: np.ndarray  # (k, dim) on the embedding
    lexical: sparse.csr_matrix | None  # (k, HASH_FEATURES) on hashed n-grams, or None
    bias: np.ndarray  # (k,)
    lexical_scale: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION  # the n-gram features it was trained on (grams() as of that version)
    _lexical_t: np.ndarray | None = field(default=None, repr=False, compare=False)

    def logits(self, emb: np.ndarray, lex: sparse.csr_matrix | None) -> np.ndarray:
        """Raw scores, one column per label."""
        out = emb @ self.weight.T + self.bias
        if self.lexical is not None and lex is not None:
            if self._lexical_t is None:
                # Sparse rows times a dense (features, k) matrix is far faster than sparse x sparse.
                self._lexical_t = np.ascontiguousarray(self.lexical.T.toarray(), dtype=np.float32)
            out = out + self.lexical_scale * (lex @ self._lexical_t)
        return np.asarray(out, dtype=np.float32)

    def proba(self, emb: np.ndarray, lex: sparse.csr_matrix | None) -> np.ndarray:
        """Independent probabilities (sigmoid) per label."""
        # Clipped: a 100,000-character input can push a logit past what exp() holds in float32.
        p: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(self.logits(emb, lex), -60.0, 60.0)))
        return p

    def save(self, path: Path) -> None:
        """Write the head as path.npz (+ sparse lexical weights) and path.json."""
        arrays: dict[str, Any] = {"weight": self.weight.astype(np.float32), "bias": self.bias.astype(np.float32)}
        np.savez(path.with_suffix(".npz"), **arrays)
        if self.lexical is not None:
            sparse.save_npz(path.with_suffix(".lex.npz"), self.lexical.astype(np.float32))
        meta = {"labels": self.labels, "lexical_scale": self.lexical_scale, "extra": self.extra, "version": self.version}
        path.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        """Read a head written by save()."""
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        arrays = np.load(path.with_suffix(".npz"))
        lex_path = path.with_suffix(".lex.npz")
        lexical = sparse.load_npz(lex_path).tocsr() if lex_path.exists() else None
        return cls(meta["labels"], arrays["weight"], lexical, arrays["bias"], meta["lexical_scale"], meta.get("extra", {}), _version(meta.get("version")))


def _version(value: object) -> int:
    """A saved head's feature version; heads saved before versions were written (or with a broken value) count as 1."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def fit_head(
    labels: list[str],
    emb: np.ndarray,
    lex: sparse.csr_matrix | None,
    targets: np.ndarray,
    sample_weight: np.ndarray | None = None,
    c: float = 4.0,
    lexical_scale: float = 1.0,
    progress: Progress | None = None,  # a tqdm bar, advanced once per label
) -> LinearHead:
    """One logistic regression per label column of targets (n, k) on [emb, lexical_scale * lex]."""
    from sklearn.linear_model import LogisticRegression

    use_lex = lex is not None and lexical_scale > 0
    x = sparse.hstack([sparse.csr_matrix(emb), lexical_scale * lex]).tocsr() if use_lex and lex is not None else emb  # use_lex implies lex
    dim = emb.shape[1]
    weights: list[np.ndarray] = []
    lexicals: list[np.ndarray] = []
    biases: list[float] = []
    for j in range(targets.shape[1]):
        y = targets[:, j].astype(int)
        if y.min() == y.max():
            # A label with no positive (or no negative) example: a constant, very confident output.
            coef = np.zeros(x.shape[1], dtype=np.float32)
            bias = 8.0 if y[0] == 1 else -8.0
        else:
            # A fixed seed: liblinear shuffles its coordinates, and unseeded heads differ from one training to the next.
            model = LogisticRegression(
                C=c, max_iter=2000, class_weight="balanced", solver="liblinear" if use_lex else "lbfgs", random_state=0
            )
            model.fit(x, y, sample_weight=sample_weight)
            coef, bias = model.coef_[0].astype(np.float32), float(model.intercept_[0])
        weights.append(coef[:dim])
        if use_lex:
            lexicals.append(coef[dim:] * lexical_scale)
        biases.append(bias)
        if progress is not None:
            progress.update(1)
    lexical = sparse.csr_matrix(np.vstack(lexicals)) if use_lex else None
    # Lexical weights were learned on the scaled features; scale is folded into them above.
    return LinearHead(labels, np.vstack(weights), lexical, np.asarray(biases, dtype=np.float32), 1.0)
