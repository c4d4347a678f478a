"""The plugin's share of a turn on two commits side by side: this tree and an older one, alternating on one machine.

    python -m bench.latency_commits [--old 27237ae] [--turns 1000] [--rounds 3]

Each round runs `bench.latency`'s plugin measurement (observe + recommend on real chit-chat turns, a fresh plugin
over the ingested ML-100k catalog) once per commit, in a subprocess that imports that commit's code; the order
alternates between rounds, so drift on a shared machine falls on both. The older commit is exported with
`git archive` under data/bench-cache (its own catalog template is ingested there by its own code on first use).
Writes bench/results/latency_commits.json: every run, and per commit the median of its runs' p50 / p95 / p99.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

from bench.common import write_result

ROOT = Path(__file__).resolve().parents[1]
# The older commit compared with by default.
DEFAULT_OLD = "27237ae"
PACKAGES = ("bot", "memory", "plugins", "ui")
_MEASURE = (
    "import json, sys\n"
    "from bench.latency import chitchat_turns, run_plugin\n"
    "result = run_plugin({}, chitchat_turns(int(sys.argv[1])))\n"
    "stray = sorted(m.__file__ for n, m in sys.modules.items() if n.startswith('interest_bot.') and getattr(m, '__file__', None)\n"
    "               and not __import__('os').path.realpath(m.__file__).startswith(__import__('os').path.realpath(sys.argv[2])))\n"
    "assert not stray, f'modules from another tree: {stray[:5]}'\n"
    "print(json.dumps(result))\n"
)


def _resolve(commit: str) -> str:
    return subprocess.run(["git", "rev-parse", commit], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def export_commit(commit: str) -> Path:
    """The tree of `commit` under data/bench-cache (exported once), with the prepared models linked in."""
    sha = _resolve(commit)
    tree = ROOT / "data" / "bench-cache" / f"tree-{sha[:12]}"
    if not (tree / ".complete").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", "--format=tar", sha], cwd=ROOT, check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        (tree / ".complete").write_text(sha + "\n")
    models = tree / "data" / "models"
    if not models.exists():
        models.parent.mkdir(parents=True, exist_ok=True)
        models.symlink_to(ROOT / "data" / "models", target_is_directory=True)
    return tree


def _shim(tree: Path) -> Path:
    """A folder that makes `import interest_bot.<package>` load this tree's code (the editable install points at
    the main checkout)."""
    shim = tree / "data" / "bench-cache" / "import-shim"
    (shim / "interest_bot").mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        link = shim / "interest_bot" / package
        if not link.is_symlink():
            link.symlink_to(tree / package, target_is_directory=True)
    return shim


def measure(tree: Path, turns: int) -> dict:
    """One plugin measurement with the code of `tree`, in its own process (which checks it imported that code)."""
    env = {**os.environ, "PYTHONPATH": str(_shim(tree))}
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(turns), str(tree)], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the measurement in {tree} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    return {f"{q}_ms": round(statistics.median(r[f"total_{q}_ms"] for r in runs), 3) for q in ("p50", "p95", "p99")}


def main() -> None:
    """Alternate the two commits for --rounds rounds and write bench/results/latency_commits.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", default=DEFAULT_OLD, help="the older commit (default: before the hardening work)")
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--name", default="latency_commits")
    args = parser.parse_args()
    trees = {"old": export_commit(args.old), "new": ROOT}
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(args.rounds):
        for which in ("old", "new") if r % 2 == 0 else ("new", "old"):
            runs[which].append(measure(trees[which], args.turns))
            print(f"round {r + 1} {which}: p50 {runs[which][-1]['total_p50_ms']} ms, p99 {runs[which][-1]['total_p99_ms']} ms", file=sys.stderr)
    old, new = _summary(runs["old"]), _summary(runs["new"])
    write_result(
        args.name,
        {
            "old_commit": _resolve(args.old),
            "new_commit": _resolve("HEAD"),
            # The new side runs the working tree: uncommitted changes, if any, are part of it.
            "new_tree_dirty": bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout.strip()),
            "turns": args.turns,
            "rounds": args.rounds,
            "old": old,
            "new": new,
            "new_over_old_p50": round(new["p50_ms"] / old["p50_ms"], 3),
            "new_over_old_p99": round(new["p99_ms"] / old["p99_ms"], 3),
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
