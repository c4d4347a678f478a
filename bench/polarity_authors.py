"""Leave-one-author-out validation of the polarity head, on the training templates only.

For each blind author of plugins/interest/understanding/data/templates.json, train the heads without that author's
templates and score the polarity sign of theirs, filled with catalog category phrases and their own
things. This is how the polarity head's settings were chosen; bench/data is never read here.

Run `python -m bench.polarity_authors` (about 5 minutes on 2 cores); `--smoke` runs a tiny version.
Writes bench/results/polarity_authors.json and prints it as the last line.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from bench.classifier import read_ml100k
from bench.common import finish
from interest_bot.plugins.interest.encoding.embed_cache import CachedEncoder
from interest_bot.plugins.interest.encoding.encoder import load_encoder
from interest_bot.plugins.interest.understanding import classifier, polarity_data

# The shipped setting and the one it replaced, side by side in one run.
SETTINGS: dict[str, classifier.HeadParams] = {"shipped": classifier.HEAD_PARAMS["polarity"].copy(), "previous": {"c": 2.0, "lexical_scale": 0.5}}


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


def main() -> None:
    """Train without each blind author in turn and score that author's templates."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    t0 = time.time()
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
