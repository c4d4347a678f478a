"""A core-only install (no web stack, no CLI) builds a catalog from a CSV through the plugin's API and recommends from it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SHOP = (
    "sku,name,desc,tags\n"
    "b1,Dune,Desert planet epic with sandworms and interstellar empires,Sci-Fi\n"
    "b2,Foundation,A galactic empire falls and mathematicians plan its rebirth,Sci-Fi\n"
    "b3,The Shining,A haunted hotel drives a snowed-in caretaker to murder,Horror\n"
    "b4,It,A shape-shifting clown terrorises children in a small town,Horror\n"
    "b5,Pride and Prejudice,Two proud people fall in love in Regency England,Romance\n"
    "b6,Me Before You,A carer and a paralysed man fall in love,Romance\n"
)

# The app's packages (web stack and CLI) cannot be imported in the child: what it does, a core install can do.
CHILD = textwrap.dedent(
    """
    import importlib.abc, json, sys
    BLOCKED = {"gradio", "fastapi", "uvicorn", "starlette", "typer"}
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError("blocked in this test: " + name)
    sys.meta_path.insert(0, Block())
    from interest_bot.plugins.interest import InterestPlugin
    from interest_bot.plugins.interest.ingest import Columns

    csv, data_dir = sys.argv[1], sys.argv[2]
    stages = []
    result = InterestPlugin.ingest(
        csv, data_dir=data_dir, catalog="shop", columns=Columns(id="sku", title="name", text="desc", categories="tags"),
        progress=lambda stage, done, total: stages.append(stage),
    )
    plugin = InterestPlugin.open(data_dir=data_dir, catalog="shop")
    try:
        plugin.observe("alice", "I love haunted houses and scary clowns, but romance bores me")
        recs = [r.item_id for r in plugin.recommend("alice", k=2)]
    finally:
        plugin.close()
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps({"added": result.report.added, "stages": sorted(set(stages)), "recs": recs, "loaded": loaded}))
    """
)


def test_a_core_install_ingests_a_csv_and_recommends(tmp_path: Path) -> None:
    csv = tmp_path / "shop.csv"
    csv.write_text(SHOP)
    out = subprocess.run([sys.executable, "-c", CHILD, str(csv), str(tmp_path / "data")], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["added"] == 6 and result["stages"] == ["embed", "heads"]
    assert set(result["recs"]) == {"shop:b3", "shop:b4"}  # the two horror titles, from a profile built in this process
    assert result["loaded"] == []
