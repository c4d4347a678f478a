"""Building one bench.scale point, in its own process (timed, but never part of a bot's start-up).

    python -m bench.scale_build '<JSON spec>'

Steps, each optional (the spec names them): `heads` trains classifier heads once and saves them; `catalog`
ingests the workload's items into Chroma through Catalog.ingest with an embed function that returns the
precomputed synthetic vectors, and copies the heads to heads_dir(data_dir, catalog); `events` replays the
workload's history, in time order and in batches, into the count store the plugin opens
(memory.sqldb.sql_location: counts.sqlite in the data dir, or PostgreSQL). Progress bars go to stderr; the
JSON report is the last stdout line.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.scale_workload import GENRES, Shape, Workload, item_id, user_id

CATALOG_BATCH = 1000  # records per Chroma upsert


def train_heads_once(out: Path) -> dict[str, Any]:
    """Classifier heads for the 18 ML-100k genres, trained on 400 synthetic items and saved in `out`.

    The plugin refuses to open a catalog without heads; the benchmark never reads chat (it records feedback and
    ranks), so small training sets do: no review corpus, no authored lines, 20 template clauses per genre."""
    from interest_bot.plugins.interest.config import PluginConfig
    from interest_bot.plugins.interest.encoding.encoder import encoder_for
    from interest_bot.plugins.interest.understanding.classifier import train_heads

    started = time.perf_counter()
    items = list(Workload(Shape(items=400, users=4, events=4)).catalog_items())
    assert {c for it in items for c in it.categories} == set(GENRES)
    encoder = encoder_for(PluginConfig(device="cpu"))
    classifier = train_heads(items, encoder, use_reviews=False, use_lines=False, chat_per_category=20, progress=True)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    classifier.save(tmp)
    tmp.rename(out)  # whole or not at all: a cache that a killed run left half-written is never used
    return {"heads_s": round(time.perf_counter() - started, 1)}


def ingest_catalog(spec: dict[str, Any], workload: Workload) -> dict[str, Any]:
    """Catalog.ingest of every item (synthetic vectors), its meta.json, and the heads beside it."""
    from interest_bot.memory.catalog import Catalog
    from interest_bot.memory.chroma import open_client
    from interest_bot.plugins.interest.understanding.classifier import heads_dir

    data_dir = Path(spec["data_dir"])
    client = open_client(data_dir, spec.get("chroma_url", ""))
    catalog = Catalog(client, spec["catalog"])
    report = catalog.ingest(workload.catalog_items(), workload.embed, batch_size=CATALOG_BATCH, progress=True, source="bench.scale synthetic")
    catalog.write_meta_json(data_dir)
    target = heads_dir(data_dir, spec["catalog"])
    if not target.exists():
        shutil.copytree(spec["heads"], target)
    return {"catalog_items": report.total, "catalog_ingest_s": round(report.seconds, 1), "catalog_items_per_s": round(report.items_per_s, 1)}


def copy_rows(spec: dict[str, Any]) -> dict[str, Any]:
    """The catalog's ranking rows copied from Chroma into the SQL row store (what ingest_catalog does for a large
    catalog), so a bot's start-up does not do it."""
    from interest_bot.memory.catalog import Catalog
    from interest_bot.memory.chroma import open_client
    from interest_bot.memory.item_rows import ItemRowStore
    from interest_bot.memory.sqldb import sql_location
    from interest_bot.plugins.interest.ranking.recommender import CandidateConfig

    data_dir = Path(spec["data_dir"])
    client = open_client(data_dir, spec.get("chroma_url", ""))
    store = ItemRowStore.open(sql_location(data_dir, spec.get("sql_url", "")))
    started = time.perf_counter()
    try:
        n = Catalog(client, spec["catalog"], row_store=store).index_rows_if_larger(CandidateConfig().whole_catalog)
    finally:
        store.close()
    if not n:
        return {}  # ranked whole: its rows are read from Chroma once, at open
    seconds = time.perf_counter() - started
    return {"rows_copied": n, "rows_copy_s": round(seconds, 1), "rows_copy_items_per_s": round(n / max(seconds, 1e-9), 1)}


def ingest_events(spec: dict[str, Any], workload: Workload) -> dict[str, Any]:
    """The history through CountStore.add_events in batches, timed; copies of the SQLite store at each checkpoint."""
    from tqdm.auto import tqdm

    from interest_bot.memory.counts import CountEvent, CountStore
    from interest_bot.memory.sqldb import sql_location

    location = sql_location(spec["data_dir"], spec.get("sql_url", ""))
    history = workload.history
    checkpoints = sorted(int(n) for n in spec.get("checkpoints", []) if 0 < int(n) < len(history))
    batch = int(spec.get("batch", 1000))
    store = CountStore.open(location)
    busy = 0.0  # seconds inside add_events only: checkpoint copies are not ingest
    saved = {}
    bar = tqdm(total=len(history), desc=f"counts {spec['catalog']}", unit="event", unit_scale=True)
    for lo in range(0, len(history), batch):
        hi = min(lo + batch, len(history))
        # Item ids as Catalog.qualify spells them: "<catalog>:<raw id>".
        events = [CountEvent(user_id(int(u)), f"{spec['catalog']}:{item_id(int(i))}", float(t), f"h{k}", True)
                  for k, u, i, t in zip(range(lo, hi), history.user[lo:hi], history.item[lo:hi], history.ts[lo:hi])]
        started = time.perf_counter()
        store.add_events(events)
        busy += time.perf_counter() - started
        bar.update(hi - lo)
        if checkpoints and hi >= checkpoints[0]:
            store.close()
            saved[str(checkpoints.pop(0))] = str(snapshot(Path(location), hi))
            store = CountStore.open(location)
    bar.close()
    store.close()
    return {"events_ingest_s": round(busy, 1), "ingest_events_per_s": round(len(history) / busy, 1), "checkpoints": saved, "event_batch": batch}


def snapshot(path: Path, events: int) -> Path:
    """A copy of a closed SQLite store as it holds the first `events` events (only SQLite stores are copied)."""
    if not path.exists():
        raise ValueError("history checkpoints need the SQLite count store (no sql_url)")
    target = path.with_name(f"counts-{events}.sqlite")
    shutil.copyfile(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            shutil.copyfile(side, target.with_name(target.name + suffix))
    return target


def build(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the steps the spec names; a report of their timings."""
    out: dict[str, Any] = {}
    if "heads" in spec.get("steps", []):
        out.update(train_heads_once(Path(spec["heads"])))
    steps = set(spec.get("steps", []))
    workload = Workload(Shape(**spec["shape"])) if {"catalog", "events"} & steps else None
    if workload is not None and "catalog" in steps:
        out.update(ingest_catalog(spec, workload))
    if "rows" in steps:  # before the events: history checkpoints copy the SQLite file, rows included
        out.update(copy_rows(spec))
    if workload is not None and "events" in steps:
        out.update(ingest_events(spec, workload))
    return out


def main() -> None:
    """Build from the JSON spec in argv[1]; print the report as the last line."""
    spec = json.loads(sys.argv[1])
    print(json.dumps(build(spec)), flush=True)


if __name__ == "__main__":
    main()
