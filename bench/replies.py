"""Reply benchmark: blind-authored conversations through the real agent and local model, every reply scored.

    python -m bench.replies            # shipped, previous and every candidate model -> bench/results/replies.json
    python -m bench.replies --smoke    # a few conversations (make test)
    python -m bench.replies --audit    # fold the blind auditor's labels into replies.json
    python -m bench.replies --shipped-only --set seen   # development: every reply on the seen set, printed

Three frozen sets (bench/data/replies/README.md): the headline figures come from "blind", which nobody working on the
pipeline has read; "seen" was read and tuned against and is reported beside it as `seen_set`; "first" is an older
tuning set for development runs.

Scores are computed on the model's own words (the reply before the card block), by a detector written apart from
the output guard (bench/reply_scoring.py). "Previous" is the landed behaviour this replaces: the old system prompt
and context, no guard, 96 new tokens, run on the same model in the same process.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .common import finish, results_dir, write_result
from .reply_scoring import ReplyScorer, own_words

DATA = Path(__file__).parent / "data" / "replies"
# Frozen sets by name: "blind" was committed unread before the pipeline was last tuned and gives the headline
# figures; "seen" (the previous blind set) was run and read, then tuned against, and is reported beside it;
# "first" (the first blind set) was tuned against earlier and is kept for development runs.
SETS: dict[str, tuple[str, str]] = {
    "blind": ("blind3.jsonl", "cd0bcc2b065ddc2be549d54a950724f71ff39a6c80934bc7e46dfc6ee269d021"),
    "seen": ("blind2.jsonl", "70647adf7ec45abe92306cfec2a4d5aeab4169ffdd74f311a4b3fa01dd5eb4ee"),
    "first": ("conversations.jsonl", "2e944417368d1cdb48a81833202edd5202c8b5978aeea836ca73713781ae2b84"),
}
AUDIT_SAMPLE = "replies_audit_sample.jsonl"
AUDIT_LABELS = DATA / "audit_labels.jsonl"
SMOKE_CONVERSATIONS = 3

# The landed prompt and context (before grounded replies), reproduced for the side-by-side "previous_" figures.
PREVIOUS_SYSTEM = (
    "You are a warm, concise assistant that helps people find movies and articles they will enjoy. "
    "Answer in two or three sentences. Only mention titles you were given."
)


@dataclass
class Turn:
    """One scripted user line and its labels."""

    user: str
    taste: bool
    about: list[str]


@dataclass
class Conversation:
    """One blind-authored conversation."""

    cid: str
    turns: list[Turn]


@dataclass
class ReplyRecord:
    """What one turn produced and how it scored."""

    cid: str
    turn: int
    user: str
    reply: str
    cards: list[str]
    seconds: float
    ttft: float | None
    fallback: bool
    scores: dict[str, bool] = field(default_factory=dict)


def load_conversations(name: str = "blind", path: Path | None = None) -> list[Conversation]:
    """A frozen set by name (refuses a file whose hash changed), or another file of the same form (a dev set)."""
    file, frozen = SETS[name]
    raw = (path or DATA / file).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if path is None and digest != frozen:
        raise ValueError(f"{file} changed since it was frozen (sha256 {digest}, frozen {frozen})")
    out = []
    for row in map(json.loads, raw.decode("utf-8").splitlines()):
        out.append(Conversation(row["conversation"], [Turn(t["user"], bool(t["taste"]), list(t["about"])) for t in row["turns"]]))
    return out


# -- the systems under test ---------------------------------------------------------------------------------
Replier = Callable[[str, str], Iterator[dict[str, Any]]]


def shipped_replier(settings: Any, plugin: Any, model: Any) -> tuple[Replier, Callable[[str], bool]]:
    """The product path: the agent with the interest middleware, streamed as the UI and /v1/chat/stream do."""
    from interest_bot.bot.agent import build_agent
    from interest_bot.bot.chat import ChatService, thread_id

    bundle = build_agent(settings, plugin, model=model)
    service = ChatService(bundle)

    def fell_back(user_id: str) -> bool:
        state = bundle.agent.get_state({"configurable": {"thread_id": thread_id(user_id)}})
        report = state.values["messages"][-1].response_metadata.get("reply_guard") or {}
        return bool(report.get("fallback"))

    return service.stream, fell_back


def previous_replier(plugin: Any, model: Any) -> tuple[Replier, Callable[[str], bool]]:
    """The landed behaviour: observe, recommend, the old context in the system prompt, the model unguarded."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    histories: dict[str, list[Any]] = {}

    def context(user_id: str, recs: list[Any]) -> str:
        likes, dislikes = plugin.top_interests(user_id)
        parts = []
        if likes:
            parts.append("The user likes: " + ", ".join(likes) + ".")
        if dislikes:
            parts.append("The user dislikes: " + ", ".join(dislikes) + ".")
        hint = plugin.cold_start_hint(user_id)
        if hint:
            parts.append(hint)
        if recs:
            parts.append(f"Items you may suggest: {'; '.join(r.title for r in recs)}. Do not invent other titles.")
        return " ".join(parts)

    def stream(user_id: str, message: str) -> Iterator[dict[str, Any]]:
        plugin.observe(user_id, message)
        recs = plugin.recommend(user_id, k=5)
        history = histories.setdefault(user_id, [])
        history.append(HumanMessage(message))
        system = SystemMessage(PREVIOUS_SYSTEM + "\n\n" + context(user_id, recs))
        text = ""
        for chunk in model.stream([system, *history[-6:]]):
            if chunk.text:
                text += chunk.text
                yield {"type": "token", "text": chunk.text}
        history.append(AIMessage(text))
        yield {"type": "done", "reply": text.strip(), "recommendations": [r.to_dict() for r in recs]}

    return stream, lambda _user: False


# -- running and scoring ----------------------------------------------------------------------------------------
def run_conversations(conversations: list[Conversation], replier: Replier, fell_back: Callable[[str], bool], tag: str) -> list[ReplyRecord]:
    """Play every conversation through one system; each conversation is a new user."""
    records = []
    for conv in tqdm(conversations, desc=f"replies: {tag}", unit="conversation"):
        user_id = re.sub(r"[^A-Za-z0-9_.@:-]+", "-", f"{tag}-{conv.cid}")  # a valid user id whatever the model name
        for i, turn in enumerate(conv.turns):
            started, first, done = time.perf_counter(), None, None
            for event in replier(user_id, turn.user):
                if event["type"] == "token" and first is None:
                    first = time.perf_counter() - started
                if event["type"] == "done":
                    done = event
            seconds = time.perf_counter() - started
            assert done is not None
            records.append(
                ReplyRecord(
                    conv.cid, i, turn.user, done["reply"], [r["title"] for r in done["recommendations"]], seconds, first, fell_back(user_id)
                )
            )
    return records


def score(records: list[ReplyRecord], conversations: list[Conversation], scorer: ReplyScorer) -> dict[str, Any]:
    """The rates and latencies of one system's replies."""
    by_conv = {c.cid: c for c in conversations}
    cards_so_far: dict[str, list[str]] = {}
    for rec in records:
        conv = by_conv[rec.cid]
        turn = conv.turns[rec.turn]
        shown = cards_so_far.setdefault(rec.cid, [])
        shown += rec.cards
        users = [t.user for t in conv.turns[: rec.turn + 1]]
        words = own_words(rec.reply)
        rec.scores = {
            "invented": bool(scorer.invented(words, allowed_titles=shown, user_lines=users)),
            "loop": scorer.loops(words),
            "cut": scorer.cut(words),
            "empty": not words.strip(),
        }
        if turn.taste:
            rec.scores["acknowledged"] = scorer.acknowledges(words, turn.about)
    n = len(records)
    taste = [r for r in records if "acknowledged" in r.scores]
    secs = [r.seconds for r in records]
    ttft = [r.ttft for r in records if r.ttft is not None]
    return {
        "invented_title_rate": round(sum(r.scores["invented"] for r in records) / n, 4),
        "loop_rate": round(sum(r.scores["loop"] for r in records) / n, 4),
        "cut_rate": round(sum(r.scores["cut"] for r in records) / n, 4),
        "empty_reply_rate": round(sum(r.scores["empty"] for r in records) / n, 4),
        "acknowledge_rate": round(sum(r.scores["acknowledged"] for r in taste) / max(1, len(taste)), 4),
        "guard_fallback_rate": round(sum(r.fallback for r in records) / n, 4),
        "reply_p50_s": round(float(np.percentile(secs, 50)), 3),
        "reply_p95_s": round(float(np.percentile(secs, 95)), 3),
        "ttft_p50_s": round(float(np.percentile(ttft, 50)), 3) if ttft else None,
        "replies": n,
        "taste_turns": len(taste),
    }


def _examples(records: list[ReplyRecord], k: int = 6) -> list[dict[str, Any]]:
    """A few replies as they came out, for the README and the closing note."""
    return [{"user": r.user, "reply": own_words(r.reply), "scores": r.scores} for r in records[:k]]


def write_audit_sample(records: list[ReplyRecord], conversations: list[Conversation], n: int = 100, seed: int = 7) -> Path:
    """100 shipped replies with their context, for a blind auditor who never saw the guard."""
    by_conv = {c.cid: c for c in conversations}
    shown: dict[str, list[str]] = {}
    rows = []
    for rec in records:
        shown.setdefault(rec.cid, []).extend(rec.cards)
        users = [t.user for t in by_conv[rec.cid].turns[: rec.turn + 1]]
        rows.append({"id": f"{rec.cid}#{rec.turn}", "user_lines": users, "cards_shown_so_far": list(shown[rec.cid]), "reply": own_words(rec.reply)})
    sample = random.Random(seed).sample(rows, min(n, len(rows)))
    path = results_dir() / AUDIT_SAMPLE
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample))
    return path


def auditor_rate(sample: Path, labels: Path) -> float | None:
    """The share of sampled replies the blind auditor marked as naming an invented title (None before the audit)."""
    if not labels.exists() or not sample.exists():
        return None
    wanted = {json.loads(line)["id"]: json.loads(line)["reply"] for line in sample.read_text().splitlines()}
    marks = {}
    for row in map(json.loads, labels.read_text().splitlines()):
        if wanted.get(row["id"]) == row.get("reply"):
            marks[row["id"]] = bool(row["invented"])
    if len(marks) < len(wanted):
        return None  # labels for another sample: stale
    return round(sum(marks.values()) / len(marks), 4)


# -- models --------------------------------------------------------------------------------------------------------
def candidate_models(models_dir: Path) -> dict[str, Path]:
    """Other local chat models found installed (their GGUF converted once into the models dir)."""
    from .candidate_models import installed_candidates

    return installed_candidates(models_dir)


def _candidates_into_result(n: int) -> None:
    """Candidate models on the first n conversations, added to the existing replies.json with the shipped model's
    figures on the same n conversations beside them (a slow candidate need not hold up the whole run)."""
    from interest_bot.bot.config import Settings
    from interest_bot.bot.models import load_chat_model
    from interest_bot.plugins.interest.plugin import InterestPlugin

    from .datadir import fresh_data_dir

    path = results_dir() / "replies.json"
    result = json.loads(path.read_text())
    conversations = load_conversations()[:n]
    data_dir = fresh_data_dir("ibot-replies-")
    settings = Settings(data_dir=data_dir)
    plugin = InterestPlugin.open(config=settings.plugin_config())
    scorer = ReplyScorer.for_catalog(plugin)
    shipped = run_conversations(conversations, *shipped_replier(settings, plugin, load_chat_model(settings)), tag="shipped-subset")
    result["models_subset"] = {"conversations": n, result["model"]: score(shipped, conversations, scorer)}
    for name, model_path in candidate_models(settings.models_dir).items():
        candidate_settings = Settings(data_dir=data_dir, chat_backend=f"hf:{model_path}", reply_style="short")
        records = run_conversations(conversations, *shipped_replier(candidate_settings, plugin, load_chat_model(candidate_settings)), tag=f"cand-{name}")
        result["models_subset"][name] = score(records, conversations, scorer) | {"examples": _examples(records, 3)}
    plugin.close()
    shutil.rmtree(data_dir.parent, ignore_errors=True)
    result.pop("partial", None)
    write_result("replies", {k: v for k, v in result.items() if k != "machine"} | {"machine": result.get("machine")})


def main() -> None:
    """Run the benchmark and write bench/results/replies.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few conversations, shipped and previous only")
    parser.add_argument("--audit", action="store_true", help="fold the blind auditor's labels into replies.json")
    parser.add_argument("--limit", type=int, default=0, help="only the first N conversations")
    parser.add_argument("--dev", type=Path, help="score a development set of the same form instead (printed, not written)")
    parser.add_argument("--set", choices=sorted(SETS), default="blind", help="the frozen set for --shipped-only runs")
    parser.add_argument("--shipped-only", action="store_true", help="only the shipped system (for development runs)")
    parser.add_argument("--skip-candidates", action="store_true", help="leave the candidate models to a --candidates run")
    parser.add_argument(
        "--candidates", type=int, metavar="N", help="run only the candidate models, on the first N conversations, into replies.json"
    )
    args = parser.parse_args()
    if args.candidates:
        _candidates_into_result(args.candidates)
        return
    if args.audit:
        path = results_dir() / "replies.json"
        saved = json.loads(path.read_text())
        saved["auditor_invented_rate"] = auditor_rate(results_dir() / AUDIT_SAMPLE, AUDIT_LABELS)
        write_result("replies", {k: v for k, v in saved.items() if k != "machine"} | {"machine": saved.get("machine")})
        return

    from langchain_openai import ChatOpenAI

    from interest_bot.bot.config import Settings
    from interest_bot.bot.local_llm import LocalChatModel
    from interest_bot.bot.models import load_chat_model
    from interest_bot.plugins.interest.plugin import InterestPlugin

    from .datadir import fresh_data_dir

    conversations = load_conversations(args.set, args.dev)
    if args.smoke:
        # the smoke run (make test) stays on the seen set, so tests never print the blind set's replies
        conversations = load_conversations("seen")[:SMOKE_CONVERSATIONS]
    elif args.limit:
        conversations = conversations[: args.limit]
    data_dir = fresh_data_dir("ibot-replies-")
    settings = Settings(data_dir=data_dir)
    plugin = InterestPlugin.open(config=settings.plugin_config())
    scorer = ReplyScorer.for_catalog(plugin)
    model = load_chat_model(settings)
    assert isinstance(model, (LocalChatModel, ChatOpenAI))  # the two kinds load_chat_model makes (both name their model)
    set_name = "seen" if args.smoke else args.set
    result: dict[str, Any] = {"model": model.model_name, "conversations": len(conversations), "set": set_name, "test_sha256": SETS[set_name][1]}
    if args.dev:
        result |= {"set": str(args.dev), "test_sha256": None}

    if args.shipped_only or args.dev:
        shipped = run_conversations(conversations, *shipped_replier(settings, plugin, model), tag="shipped")
        result |= score(shipped, conversations, scorer)
        for rec in shipped:
            print(json.dumps({"user": rec.user, "reply": own_words(rec.reply), "scores": rec.scores, "s": round(rec.seconds, 2)}, ensure_ascii=False))
        print(json.dumps(result, sort_keys=True))
        return
    # The previous behaviour first, then the shipped one, back to back on the same machine state.
    previous_model = model.model_copy(update={"max_new_tokens": 96, "no_repeat_ngram_size": 0, "prefix": None})
    previous = run_conversations(conversations, *previous_replier(plugin, previous_model), tag="previous")
    shipped = run_conversations(conversations, *shipped_replier(settings, plugin, model), tag="shipped")
    result |= score(shipped, conversations, scorer)
    result["examples"] = _examples(shipped)
    result |= {f"previous_{k}": v for k, v in score(previous, conversations, scorer).items()}
    result["previous_examples"] = _examples(previous)
    result["models"] = {model.model_name: {k: result[k] for k in score(shipped, conversations, scorer)} | {"reply_style": settings.resolved_reply_style}}
    if not args.smoke:
        sample = write_audit_sample(shipped, conversations)
        write_result("replies", result | {"auditor_invented_rate": auditor_rate(sample, AUDIT_LABELS), "partial": True})
        print(f"audit sample written: {sample}", flush=True)
        for name, path in ({} if args.skip_candidates else candidate_models(settings.models_dir)).items():
            candidate_settings = Settings(data_dir=data_dir, chat_backend=f"hf:{path}", reply_style="short")
            candidate = load_chat_model(candidate_settings)
            records = run_conversations(conversations, *shipped_replier(candidate_settings, plugin, candidate), tag=f"cand-{name}")
            result["models"][name] = score(records, conversations, scorer) | {"reply_style": "short", "examples": _examples(records, 3)}
            del candidate
        result["auditor_invented_rate"] = auditor_rate(sample, AUDIT_LABELS)
        seen = load_conversations("seen")
        result["seen_set"] = score(run_conversations(seen, *shipped_replier(settings, plugin, model), tag="seen"), seen, scorer)
        result["seen_set"] |= {"conversations": len(seen), "test_sha256": SETS["seen"][1]}
    else:
        result["auditor_invented_rate"] = None
    plugin.close()
    shutil.rmtree(data_dir.parent, ignore_errors=True)
    finish("replies", result, args.smoke)


if __name__ == "__main__":
    main()
