"""Leave-one-author-out validation on the training text only; bench/data is never read here.

Templates (the default): for each blind author of plugins/interest/data/templates.json, train the heads without that
author's templates and score the polarity sign of theirs, filled with catalog category phrases and their own
things. This is how the polarity head's settings were chosen.

Chat lines (`--lines`): for each author of plugins/interest/data/chat_lines.jsonl, train the heads without that
author's lines and score theirs the way bench.blind_chat scores the blind sets (polarity overall and per kind,
category, preference AUC against their `none` lines). `--without t12,t13` leaves authors out of training and
scoring alike (the figure before their lines were added); `--held t1,t2` scores only those authors.

Run `python -m bench.polarity_authors` (about 5 minutes on 2 cores); `--smoke` runs a tiny version.
Writes bench/results/polarity_authors.json (`--lines`: polarity_authors_lines.json) and prints it as the last line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import numpy as np

from bench.blind_chat import KINDS, BlindLine, parse_lines, score_blind
from bench.classifier import ml100k_titles, read_ml100k
from bench.common import finish
from interest_bot.plugins.interest import classifier, polarity_data
from interest_bot.plugins.interest.embed_cache import CachedEncoder
from interest_bot.plugins.interest.encoder import load_encoder

# The shipped setting and the one it replaced, side by side in one run.
SETTINGS = {"shipped": dict(classifier.HEAD_PARAMS["polarity"]), "previous": {"c": 2.0, "lexical_scale": 0.5}}


def held_out_clauses(author: str, categories: list[str], seed: int = 0, fills: int = 6) -> list[tuple[str, int]]:
    """The author's templates, each filled with `fills` category phrases and up to 3 of their own things."""
    rng = random.Random(seed)
    written = polarity_data.templates([author])
    phrases = polarity_data.category_phrases(categories)
    things = written["things"] or ["this film"]
    out = []
    for sign, key in ((1, "positive"), (-1, "negative")):
        for template in written[key]:
            topics = [rng.choice(phrases[c]) for c in rng.sample(categories, min(fills, len(categories)))]
            for topic in topics + rng.sample(things, min(3, len(things))):
                out.append((template.replace("{x}", topic), sign))
    return out


def score_author(clf: classifier.InterestClassifier, clauses: list[tuple[str, int]]) -> float:
    """Share of clauses whose first signal has the expected polarity sign."""
    signals = clf.analyze_batch([text for text, _ in clauses])
    hits = [bool(sigs) and (sigs[0].polarity > 0) == (sign > 0) for sigs, (_, sign) in zip(signals, clauses)]
    return float(np.mean(hits))


def chat_lines_by_author() -> dict[str, list[BlindLine]]:
    """The training chat lines grouped by author, in author order (t1, t2, ..., t10)."""
    lines = parse_lines((polarity_data.DATA / "chat_lines.jsonl").read_text(encoding="utf-8"))
    out: dict[str, list[BlindLine]] = {}
    for line in lines:
        out.setdefault(line.author, []).append(line)
    return dict(sorted(out.items(), key=lambda kv: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", kv[0])]))


def lines_main(args: argparse.Namespace, t0: float) -> None:
    """Leave-one-author-out over the chat-line authors, scored like the blind sets."""
    encoder = CachedEncoder(load_encoder(), max_items=100_000)
    ml = read_ml100k()
    items = [(text, genres) for _, text, genres in ml][:: 20 if args.smoke else 1]
    titles = ml100k_titles(ml)
    without = {a for a in (args.without or "").split(",") if a}
    by_author = {a: ls for a, ls in chat_lines_by_author().items() if a not in without}
    authors = list(by_author)
    held_list = [a for a in args.held.split(",") if a] if args.held else authors
    held_list = held_list[:1] if args.smoke else held_list
    per_author: dict[str, dict] = {}
    hits: dict[str, list[float]] = {}
    cat_hits: list[float] = []
    for held in held_list:
        if args.load_heads:
            # Heads kept by an earlier --save-heads run of the same folds: only the reading of the text is measured anew.
            clf = classifier.InterestClassifier.load(Path(args.load_heads) / held, encoder)
        else:
            clf = classifier.train_heads(
                items, encoder, line_authors=[a for a in authors if a != held],
                reviews_per_class=200 if args.smoke else 1500, chat_per_category=20 if args.smoke else 120, progress=False,
            )
        if args.save_heads:
            clf.save(Path(args.save_heads) / held)
        lines = by_author[held][:: 10 if args.smoke else 1]
        r = score_blind(clf.analyze, lines, titles)
        r.pop("_misses")
        per_author[held] = {k: r[k] for k in ("polarity_acc", "polarity_by_kind", "category_acc", "preference_auc", "tastes")}
        for kind in KINDS:
            n = sum(len(x.tastes) for x in lines if x.kind == kind)
            if n:
                hits.setdefault(kind, []).append(round(r["polarity_by_kind"][kind] * n))
                hits.setdefault(kind + "_n", []).append(n)
        cat_hits.append(round(r["category_acc"] * r["tastes"]))
        print(held, json.dumps(per_author[held]), flush=True)
    by_kind = {k: round(sum(hits[k]) / sum(hits[k + "_n"]), 4) for k in KINDS if k in hits}
    n_tastes = sum(v["tastes"] for v in per_author.values())
    result = {
        "mode": "lines", "smoke": args.smoke, "heads_from": args.load_heads or "trained in this run", "without": sorted(without), "authors": authors, "held": held_list,
        "polarity_acc": round(sum(sum(hits[k]) for k in by_kind) / n_tastes, 4),
        "polarity_by_kind": by_kind,
        "polarity_min_kind": min(by_kind.values()),
        "category_acc": round(sum(cat_hits) / n_tastes, 4),
        "preference_auc_mean": round(float(np.mean([v["preference_auc"] for v in per_author.values()])), 4),
        "tastes": n_tastes,
        "by_author": per_author,
        "wall_s": round(time.time() - t0, 1),
    }
    finish(args.out or "polarity_authors_lines", result, args.smoke)


def main() -> None:
    """Train without each blind author in turn and score that author's templates (or chat lines, with --lines)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument("--lines", action="store_true", help="leave one chat-line author out (chat_lines.jsonl) instead of templates")
    parser.add_argument("--without", help="with --lines: comma-separated authors left out of training and scoring")
    parser.add_argument("--held", help="with --lines: comma-separated authors to hold out in turn (default: all)")
    parser.add_argument("--save-heads", help="with --lines: keep each fold's heads in DIR/<held author> (to try inference-only changes)")
    parser.add_argument("--load-heads", help="with --lines: score with the fold heads a --save-heads run kept in DIR instead of training them")
    parser.add_argument("--out", help="with --lines: result name under bench/results (default polarity_authors_lines)")
    args = parser.parse_args()
    t0 = time.time()
    if args.lines:
        lines_main(args, t0)
        return
    # Catalog, reviews and most chat clauses are the same in every fold: embed them once.
    encoder = CachedEncoder(load_encoder(), max_items=100_000)
    items = [(text, genres) for _, text, genres in read_ml100k()][:: 20 if args.smoke else 1]
    categories = sorted({g for _, genres in items for g in genres})
    authors = polarity_data.template_authors()
    blind = [a for a in authors if a != "project"]
    result: dict = {"authors": authors, "smoke": args.smoke, "by_setting": {}}
    for name, params in SETTINGS.items():
        per_author = {}
        for held in blind[:1] if args.smoke else blind:
            clf = classifier.train_heads(
                items, encoder, template_authors=[a for a in authors if a != held], head_params={"polarity": params},
                reviews_per_class=200 if args.smoke else 1500, chat_per_category=20 if args.smoke else 120, progress=False,
            )
            clauses = held_out_clauses(held, categories, fills=1 if args.smoke else 6)
            per_author[held] = round(score_author(clf, clauses), 4)
        result["by_setting"][name] = {"params": params, "acc_by_held_out_author": per_author, "mean": round(float(np.mean(list(per_author.values()))), 4)}
    result["wall_s"] = round(time.time() - t0, 1)
    finish("polarity_authors", result, args.smoke)


if __name__ == "__main__":
    main()
