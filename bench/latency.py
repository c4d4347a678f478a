"""End-to-end latency: the plugin's share of a turn on 1,000 real chit-chat turns (optimized vs naive, side by side),
the full agent with SmolLM2 (time to first token, whole reply), concurrency with and without batching, server RSS.

    python -m bench.latency [--turns 1000] [--agent-turns 20]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import numpy as np

from bench.common import percentile_ms, write_result
from bench.datadir import fresh_data_dir


def chitchat_turns(n: int, seed: int = 0) -> list[str]:
    """n real user utterances from the chitchat-dataset package (shuffled with a fixed seed)."""
    import importlib.util

    spec = importlib.util.find_spec("chitchat_dataset")
    assert spec is not None and spec.submodule_search_locations is not None, "chitchat-dataset is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    texts = [u["text"] for conv in data.values() for msg in conv["messages"] for u in msg if u.get("text", "").strip()]
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.permutation(len(texts))[:n]]


def run_plugin(config_overrides: dict, turns: list[str], users: int = 50) -> dict:
    """Observe + recommend for every turn through a fresh plugin; per-stage and total latencies."""
    from interest_bot.plugins.interest.config import PluginConfig
    from interest_bot.plugins.interest.plugin import InterestPlugin

    config = PluginConfig(data_dir=fresh_data_dir(), device="cpu", **config_overrides)
    plugin = InterestPlugin.open(config=config)
    stages: dict[str, list[float]] = {}
    plugin.add_listener(lambda event, **d: stages.setdefault(d["stage"], []).append(d["seconds"]) if event == "stage" else None)
    for text in turns[:20]:  # warm-up, not measured
        plugin.observe("warm", text)
    stages.clear()
    totals = []
    for i, text in enumerate(turns):
        user = f"user{i % users}"
        started = time.perf_counter()
        plugin.observe(user, text)
        plugin.recommend(user, k=5)
        totals.append(time.perf_counter() - started)
    out = {"total_p50_ms": percentile_ms(totals, 50), "total_p95_ms": percentile_ms(totals, 95), "total_p99_ms": percentile_ms(totals, 99)}
    for stage, samples in stages.items():
        out[f"{stage}_p50_ms"] = percentile_ms(samples, 50)
        out[f"{stage}_p95_ms"] = percentile_ms(samples, 95)
    plugin.close()
    return out


def run_concurrent(batch: bool, turns: list[str], threads: int = 4) -> dict:
    """`threads` users observing at once: does batching their encoder passes help?"""
    from interest_bot.plugins.interest.config import PluginConfig
    from interest_bot.plugins.interest.plugin import InterestPlugin

    plugin = InterestPlugin.open(config=PluginConfig(data_dir=fresh_data_dir(), device="cpu", batch_encoder=batch, embedding_cache=0))
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for text in turns[k::threads]:
            started = time.perf_counter()
            plugin.classifier.analyze(text)
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    plugin.close()
    return {"analyze_p50_ms": percentile_ms(latencies, 50), "analyze_p95_ms": percentile_ms(latencies, 95), "messages_per_s": round(len(turns) / wall, 1)}


def run_agent(n: int) -> dict:
    """n turns through the full agent with the default SmolLM2: time to first token and to the whole reply."""
    from interest_bot.bot.config import Settings
    from interest_bot.bot.services import Services

    data = fresh_data_dir()
    services = Services(Settings(data_dir=data, device="cpu"))
    chat = services.chat_for(services.plugin)
    prompts = ["I love sci-fi space adventures", "but I can't stand horror", "what should I watch tonight?",
               "I enjoyed Toy Story a lot", "any good westerns?"]
    list(chat.stream("agent-warm", "hello"))
    ttft, total = [], []
    for i in range(n):
        started = time.perf_counter()
        first = None
        for event in chat.stream(f"agent{i // 5}", prompts[i % len(prompts)]):
            if event["type"] == "token" and first is None:
                first = time.perf_counter() - started
        total.append(time.perf_counter() - started)
        ttft.append(first if first is not None else total[-1])
    return {"ttft_p50_s": round(float(np.median(ttft)), 3), "ttft_p95_s": round(float(np.percentile(ttft, 95)), 3),
            "reply_p50_s": round(float(np.median(total)), 3), "reply_p95_s": round(float(np.percentile(total, 95)), 3)}


def server_rss_mb() -> float:
    """Resident memory of a real `interest-bot serve` after warm-up (a few observes and one chat turn)."""
    import httpx

    from bench.server_process import serve

    data = fresh_data_dir()
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with serve(data, port, data.parent / "server.log", timeout_s=300) as server:
        for text in ["I love westerns", "I hate horror", "comedies are fun"]:
            httpx.post(server.url + "/v1/observe", json={"user_id": "rss", "message": text}, timeout=60).raise_for_status()
        httpx.post(server.url + "/v1/chat", json={"user_id": "rss", "message": "what should I watch?"}, timeout=600).raise_for_status()
        status = Path(f"/proc/{server.pid}/status").read_text()
        return round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024, 1)


def main() -> None:
    """Run every measurement in one process, side by side, and write bench/results/latency.json."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--agent-turns", type=int, default=20)
    parser.add_argument("--name", default="latency")
    args = parser.parse_args()
    turns = chitchat_turns(args.turns)
    optimized = run_plugin({}, turns)
    naive = run_plugin({"quantization": "none", "embedding_cache": 0, "batch_encoder": False}, turns)
    batched = run_concurrent(True, turns[:400])
    unbatched = run_concurrent(False, turns[:400])
    agent = run_agent(args.agent_turns)
    result = {
        "turns": len(turns),
        "plugin_p50_ms": optimized["total_p50_ms"],
        "plugin_p95_ms": optimized["total_p95_ms"],
        "plugin_p99_ms": optimized["total_p99_ms"],
        "naive_plugin_p50_ms": naive["total_p50_ms"],
        "naive_plugin_p95_ms": naive["total_p95_ms"],
        "stages": {"optimized": optimized, "naive": naive},
        "concurrent_4_threads": {"batched": batched, "unbatched": unbatched},
        **agent,
        "rss_mb": server_rss_mb(),
        "naive_config": "fp32 torch encoder, no embedding cache, no batching",
    }
    write_result(args.name, result)


if __name__ == "__main__":
    main()
