"""ReDial test rows for the conversational replay: loading, the seeker's new lines per row, scoring, in-run baselines."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The repository's copy of shared/data/crs/redial (same files, same hashes: see bench/data/redial/README.md).
DATA = Path(__file__).resolve().parent / "data" / "redial"
TEST_SHA = "11e07db4b9178bd778669baf8be02aa4b3e20291cce6a3a89bc510dc9ecb063b"


SEEKER, RECOMMENDER = "seeker", "recommender"


@dataclass(frozen=True)
class Row:
    """One recommender turn: the dialogue so far (line, speaker), what was mentioned before it, the targets, the reply."""

    dialog_id: str
    turn_id: int
    lines: tuple[tuple[str, str], ...]  # (speaker, text) of every context line, in dialogue order
    prev_entity: tuple[int, ...]
    rec: tuple[int, ...]
    resp_entity: tuple[int, ...] = ()  # what the recommender's own utterance names (not the seeker's words)
    resp: str = ""  # the recommender's utterance at this turn (known only after the turn is scored)

    @property
    def seeker_lines(self) -> tuple[str, ...]:
        """The seeker's lines so far."""
        return tuple(text for speaker, text in self.lines if speaker == SEEKER)


def speakers(context: list[str]) -> tuple[tuple[str, str], ...]:
    """(speaker, text) for a row's context lines, the speaker read from the line's distance to the row's reply.

    The `User:` / `System:` labels of `input` are positional (odd context index = `User:`), not speakers: in the
    dialogues whose recommender spoke first (883 of 1,322) `User:` is the recommender. The dialogues alternate (each
    speaker's consecutive messages are merged): every row's reply sits at index len(context) in every later row of
    its dialogue, and all rows of a dialogue agree on parity. So a line an even distance before the reply slot is
    the recommender's, an odd distance the seeker's. context[0] is always an empty placeholder and is skipped."""
    n = len(context)
    return tuple((RECOMMENDER if (n - j) % 2 == 0 else SEEKER, text) for j, text in enumerate(context) if j > 0 and text.strip())


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_rows(folder: Path = DATA) -> list[Row]:
    """Every row of test.jsonl in turn_id order."""
    rows = []
    for line in (folder / "test.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["context"] and r["context"][0]:
            raise ValueError(f"row {r['turn_id']}: context[0] is not the empty placeholder")
        rows.append(Row(r["dialog_id"], int(r["turn_id"]), speakers(r["context"]), tuple(r["prev_entity"]), tuple(r["rec"]), tuple(r["entity"]), r["resp"]))
    rows.sort(key=lambda r: r.turn_id)
    check_alternation(rows)
    return rows


def check_alternation(rows: list[Row]) -> None:
    """Raise unless each dialogue's rows extend one another and each reply sits where the next row's context has it:
    the speakers `speakers` reads from positions are right only then."""
    last: dict[str, Row] = {}
    for row in rows:
        prev = last.get(row.dialog_id)
        if prev is not None:
            n = len(prev.lines)
            if row.lines[:n] != prev.lines or len(row.lines) <= n or row.lines[n] != (RECOMMENDER, prev.resp):
                raise ValueError(f"dialog {row.dialog_id}: row {row.turn_id} does not continue row {prev.turn_id} with its reply")
        last[row.dialog_id] = row


def load_item_ids(folder: Path = DATA) -> set[int]:
    """The ids that are movies (the candidate set)."""
    return set(json.loads((folder / "item_ids.json").read_text(encoding="utf-8")))


@dataclass
class Scores:
    """Recall@k and NDCG@10 per (row, target) pair, accumulated per slice."""

    pairs: int = 0
    hits: Counter = field(default_factory=Counter)
    ndcg10: float = 0.0

    def add(self, ranked: Sequence[int], targets: Sequence[int]) -> None:
        """Score one row's ranked list against each of its targets."""
        pos = {item: i for i, item in enumerate(ranked)}
        for t in targets:
            self.pairs += 1
            rank = pos.get(t)
            if rank is None:
                continue
            for k in (1, 5, 10, 20):
                if rank < k:
                    self.hits[k] += 1
            if rank < 10:
                self.ndcg10 += 1.0 / math.log2(rank + 2)

    def recall(self, k: int) -> float:
        """Share of pairs whose target is in the top k."""
        return round(self.hits[k] / self.pairs, 4) if self.pairs else 0.0

    def ndcg(self) -> float:
        """Mean NDCG@10 over pairs."""
        return round(self.ndcg10 / self.pairs, 4) if self.pairs else 0.0


class MentionBaselines:
    """The in-run baselines: "most mentioned so far" and "co-mentioned with this dialogue's movies" (both causal)."""

    def __init__(self, items: set[int]):
        self.items = items
        self.mentions: Counter = Counter()
        self.co: dict[int, Counter] = defaultdict(Counter)
        self.known: dict[str, set[int]] = defaultdict(set)

    def most_mentioned(self, exclude: set[int], k: int) -> list[int]:
        """The k movies mentioned most in earlier turns of every dialogue."""
        return [i for i, _ in sorted(((i, c) for i, c in self.mentions.items() if i not in exclude), key=lambda t: (-t[1], t[0]))[:k]]

    def co_mentioned(self, context: Sequence[int], exclude: set[int], k: int) -> list[int]:
        """Movies mentioned in the same earlier dialogues as this dialogue's movies; ties and the rest by mentions."""
        s: Counter = Counter()
        for a in context:
            for b, c in self.co[a].items():
                s[b] += c
        ranked = [i for i, _ in sorted(((i, v) for i, v in s.items() if i not in exclude), key=lambda t: (-t[1], -self.mentions[t[0]], t[0]))]
        fill = [i for i in self.most_mentioned(exclude | set(ranked), k)]
        return (ranked + fill)[:k]

    def learn(self, row: Row) -> None:
        """After scoring: the row's movies (mentioned before it and recommended in it) become known."""
        now = {e for e in row.prev_entity + row.rec if e in self.items}
        seen = self.known[row.dialog_id]
        for b in now - seen:
            self.mentions[b] += 1
            for a in seen:
                self.co[a][b] += 1
                self.co[b][a] += 1
        seen |= now
