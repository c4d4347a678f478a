"""Per-word contributions to a message's top interest category, for the UI's "why" view.

Two methods:
- "occlusion" (default): drop each word in turn and measure how much the top category's
  probability falls; one batched pass of the same (quantized) encoder, so it explains exactly
  what analyze() computed.
- "gradient": gradient x input on the fp32 encoder (loaded lazily, once), summed over the
  embedding dimension and merged from word pieces into words, plus the exact contribution of
  each word's n-grams to the head's linear lexical part (the head sees both).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from .text import normalize

if TYPE_CHECKING:
    from ..encoding.encoder import TorchEncoder
    from .classifier import InterestClassifier

MAX_WORDS = 64  # occlusion costs one encoder row per word; longer messages are explained on their start.
_WORD = re.compile(r"\S+")


def _top_category(clf: InterestClassifier, text: str) -> tuple[int, float] | None:
    """Index and probability of the most probable category over the message's clauses."""
    signals = clf.analyze(text)
    if not signals or not clf.categories:
        return None
    best = max(signals, key=lambda s: max(s.categories.values(), default=0.0))
    label = best.top_category
    return (clf.categories.index(label), best.categories[label]) if label else None


def explain_occlusion(clf: InterestClassifier, text: str) -> list[tuple[str, float]]:
    """Leave-one-word-out drop of the top category's probability, scaled to max |weight| = 1."""
    words = _WORD.findall(text)[:MAX_WORDS]
    top = _top_category(clf, text)
    if not words or top is None:
        return []
    j, _ = top
    variants = [" ".join(words)] + [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
    probs = clf.score_clauses(variants)["categories"][:, j]
    weights = probs[0] - probs[1:]
    return _scaled(words, weights)


def explain_gradient(clf: InterestClassifier, text: str) -> list[tuple[str, float]]:
    """Gradient x input of the top category's logit on the fp32 encoder, merged into words."""
    import torch

    top = _top_category(clf, text)
    if top is None:
        return []
    j, _ = top
    enc = _fp32_encoder(clf)
    batch = enc.tokenizer([text], truncation=True, max_length=128, return_tensors="pt", return_offsets_mapping=True)
    offsets = batch.pop("offset_mapping")[0].tolist()
    embeds = enc.model.get_input_embeddings()(batch["input_ids"]).detach().requires_grad_(True)
    hidden = enc.model(inputs_embeds=embeds, attention_mask=batch["attention_mask"], token_type_ids=batch.get("token_type_ids")).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    weight = torch.from_numpy(clf.category.weight[j, : pooled.shape[1]].astype(np.float32))
    (pooled[0] @ weight).backward()
    token_scores = (embeds.grad[0] * embeds[0]).sum(-1).detach().numpy()
    # Merge word pieces into the whitespace words they came from (special tokens have empty offsets).
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)][:MAX_WORDS]
    scores = np.zeros(len(spans), dtype=np.float32)
    for (start, end), score in zip(offsets, token_scores):
        if end <= start:
            continue
        for k, (ws, we, _) in enumerate(spans):
            if ws <= start < we:
                scores[k] += score
                break
    scores += _lexical_scores(clf, j, text, spans)
    return _scaled([w for _, _, w in spans], scores)


def _lexical_scores(clf: InterestClassifier, j: int, text: str, spans: list[tuple[int, int, str]]) -> np.ndarray:
    """Each word's share of the category logit's hashed n-gram term (linear, so exact; bigrams split evenly)."""
    from .heads import bucket, gram_counts, grams

    scores = np.zeros(len(spans), dtype=np.float32)
    lexical = clf.category.lexical
    if lexical is None:
        return scores
    row = lexical.getrow(j)
    weights = dict(zip(row.indices.tolist(), row.data.tolist()))
    found = grams(text)
    # hashed() L2-normalises the counts: one occurrence of a gram is worth 1/norm of a feature.
    unit = 1.0 / gram_counts(found)[1]
    scale = clf.category.lexical_scale
    for gram, (start, end) in found:
        w = weights.get(bucket(gram), 0.0) * unit * scale
        covered = [k for k, (ws, we, _) in enumerate(spans) if ws < end and start < we]
        for k in covered:
            scores[k] += w / len(covered)
    return scores


def _fp32_encoder(clf: InterestClassifier) -> TorchEncoder:
    """The fp32 torch MiniLM, loaded on first use and kept on the classifier."""
    if clf._explainer is None:
        from ..encoding.encoder import TorchEncoder

        clf._explainer = TorchEncoder(device="cpu", quantization="none")
    return clf._explainer


def _scaled(words: list[str], weights: np.ndarray) -> list[tuple[str, float]]:
    """Pair words with weights scaled so the largest magnitude is 1."""
    peak = float(np.max(np.abs(weights))) if len(weights) else 0.0
    scale = 1.0 / peak if peak > 0 else 0.0
    return [(w, round(float(v) * scale, 4)) for w, v in zip(words, weights)]


def explain(clf: InterestClassifier, text: object, method: str = "occlusion") -> list[tuple[str, float]]:
    """Per-word weights toward the message's top category ([] when there is nothing to explain)."""
    clean = normalize(text, clf.max_chars)
    if not clean:
        return []
    if method == "occlusion":
        return explain_occlusion(clf, clean)
    if method == "gradient":
        return explain_gradient(clf, clean)
    raise ValueError(f"unknown explain method {method!r}: expected 'occlusion' or 'gradient'")
