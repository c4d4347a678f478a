"""The ReDial catalog: titles and years from DBpedia names, enrichment joined from installed packages only."""

from pathlib import Path

import numpy as np

from interest_bot.memory.sources import dbpedia_title, load_redial_catalog
from interest_bot.plugins.interest.ranking.talk import TalkIndex

REDIAL = Path(__file__).resolve().parents[2] / "bench" / "data" / "redial"


def test_dbpedia_title() -> None:
    assert dbpedia_title("<http://dbpedia.org/resource/Water_(1985_film)>") == ("Water", 1985)
    assert dbpedia_title("<http://dbpedia.org/resource/Varsity_Blues_(film)>") == ("Varsity Blues", None)
    assert dbpedia_title("<http://dbpedia.org/resource/Rambo:_First_Blood_Part_II>") == ("Rambo: First Blood Part II", None)
    assert dbpedia_title("<http://dbpedia.org/resource/You're_Not_You>") == ("You're Not You", None)


def test_redial_catalog_joins_without_dialogue_data() -> None:
    items, reports = load_redial_catalog(REDIAL)
    assert len(items) == 6281
    ml = reports[0]
    assert ml.source == "ml-100k" and ml.matched > 600
    by_title = {(it.title, it.metadata.get("year")): it for it in items}
    toy = by_title.get(("Toy Story", 1995))
    assert toy is not None and "Animation" in toy.categories and toy.popularity > 400
    assert all(it.title for it in items)
    # "Unknown" (2011) is a real film here, unlike ML-100k's title-less placeholder: its year tells them apart.
    assert all("year" in it.metadata for it in items if it.title.lower() == "unknown")


def test_talk_index_nearest_other_users_and_forget() -> None:
    idx = TalkIndex(dim=4)
    idx.add("a", 1.0, np.array([1, 0, 0, 0]))
    idx.add("b", 2.0, np.array([0.9, 0.1, 0, 0]))
    idx.add("c", 3.0, np.array([0, 1, 0, 0]))
    q = idx.latest("a")
    assert q is not None
    hits = idx.nearest(q, k=2, exclude_user="a")
    assert [h[0] for h in hits] == ["b", "c"]
    idx.remove_user("b")
    assert [h[0] for h in idx.nearest(q, k=2, exclude_user="a")] == ["c"]
    assert idx.latest("b") is None
