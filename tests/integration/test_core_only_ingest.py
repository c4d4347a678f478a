"""A core-only install (no web stack, no CLI) builds a catalog from a CSV through the plugin's API and recommends from it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SHOP = (
    "sku,name,desc,tags\n"
    "h1,The Haunting of Hill House,A family is stalked by the ghosts of the house they grew up in,Horror\n"
    "h2,Salem's Lot,Vampires take over a small town in Maine one house at a time,Horror\n"
    "s1,Hyperion,Pilgrims cross a far planet to face a creature outside time,Sci-Fi\n"
    "s2,Neuromancer,A hacker is hired for one last job inside cyberspace,Sci-Fi\n"
    "r1,Persuasion,A woman meets again the naval officer she refused years ago,Romance\n"
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
        plugin.observe("alice", "I love ghost stories and vampires, but romance bores me")
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
    assert result["added"] == 5 and result["stages"] == ["embed", "heads"]
    assert set(result["recs"]) == {"shop:h1", "shop:h2"}  # the two horror titles, from a profile built in this process
    assert result["loaded"] == []
