"""`interest-bot memory ...`: show, export and forget what was learned about a user."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from interest_bot.memory.chroma import ChromaDataError, ChromaUnavailableError, DataDirLockedError, open_client
from interest_bot.memory.interests import InterestMemory, UnknownInterestError
from interest_bot.memory.userid import InvalidUserIdError, validate_user_id
from interest_bot.plugins.interest.config import PluginConfig
from interest_bot.plugins.interest.stores import memory_for

from .config import Settings

if TYPE_CHECKING:  # imported where used: a core install has no LangGraph
    from interest_bot.bot.conversations import Conversations

app = typer.Typer(help="Inspect, export and forget a user's interest memory.", no_args_is_help=True)


def _config() -> PluginConfig:
    """The plugin configuration the server runs with (Settings: IBOT_ environment variables and .env)."""
    return Settings().plugin_config()


def _fail(msg: str, code: int = 1) -> None:
    typer.echo(msg, err=True)
    raise typer.Exit(code)


@contextmanager
def _memory() -> Iterator[InterestMemory]:
    """Open the interest memory the running configuration points at, with clear errors."""
    config = _config()
    try:
        client = open_client(Path(config.data_dir), config.chroma_url)
    except DataDirLockedError as exc:
        # The running server holds the data dir: the memory commands cannot open it beside that process.
        _fail(f"{exc}\nThe `memory` commands cannot open the data directory while that process runs.", 3)
    except (ChromaDataError, ChromaUnavailableError) as exc:
        _fail(str(exc), 2)
    # Embedded: this process holds the data dir, so it is the only writer and replays a crashed server's outbox. A
    # forget here shreds the user's key and revokes their tokens and browser identity, as the server's does.
    try:
        mem = memory_for(config, client)
    except ChromaDataError as exc:
        _fail(str(exc), 2)
    try:
        yield mem
    finally:
        mem.close()


@contextmanager
def _conversations() -> Iterator[Conversations | None]:
    """The conversation threads where the server keeps them (bot.conversations.Conversations), or None when no
    store that could hold any exists (none written yet, or IBOT_STORE_TEXT=false: they never leave the process)."""
    config = _config()
    data_dir, sql_url, store_text = Path(config.data_dir), config.sql_url, config.store_text
    try:
        from interest_bot.bot.agent import checkpoints_may_exist, open_checkpointer_at
        from interest_bot.bot.conversations import Conversations
    except ImportError as exc:  # a core install without the chat extras wrote no conversations
        if store_text and (sql_url or (data_dir / "conversations.sqlite").exists()):
            _fail(f"cannot open the conversations ({exc}): install 'interest-bot[app]'", 2)
        yield None
        return
    if not checkpoints_may_exist(data_dir, sql_url, store_text):
        yield None
        return
    store = Conversations(open_checkpointer_at(data_dir, sql_url, store_text))
    try:
        yield store
    finally:
        store.close()


def _forget_conversations(uid: str) -> int:
    """Delete the user's conversation threads, then check that none is left; returns how many were deleted."""
    with _conversations() as store:
        if store is None:
            return 0
        threads = store.owners.threads(uid)
        deleted = store.forget(uid)
        left = store.remaining(uid, threads)
    if left:
        _fail(f"not verified: conversation thread(s) {', '.join(left)} of {uid} are still stored", 1)
    return deleted


def _uid(user: str) -> str:
    try:
        return validate_user_id(user)
    except InvalidUserIdError as exc:
        _fail(f"invalid user id: {exc}", 2)
    raise AssertionError  # unreachable


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


@app.command("show")
def show(user: str, limit: int = typer.Option(10, "--limit", help="recent signals to list")) -> None:
    """Show a user's interests: category scores (short/long term), interest clusters, recent signals."""
    uid = _uid(user)
    with _memory() as mem:
        p = mem.profile(uid)
        recent = mem.events(uid, limit=limit)
    if p.is_empty:
        typer.echo(f"Nothing is stored about {uid}.")
        return
    typer.echo(f"User {uid}: {p.n_signals} signals, last update {_when(p.last_update)}\n")
    typer.echo(f"{'category':<24} {'score':>7} {'short':>8} {'long':>8}")
    for name, c in p.categories.items():
        typer.echo(f"{name[:24]:<24} {c.score:>7.3f} {c.short:>8.3f} {c.long:>8.3f}")
    for title, clusters in (("Interests", p.positive), ("Dislikes", p.negative)):
        if clusters:
            typer.echo(f"\n{title}:")
        for cluster in clusters:
            cats = ", ".join(list(cluster.categories)[:3]) or "-"
            said = next((t for t in cluster.texts if t), "")
            typer.echo(f"  {cluster.cluster_id:<6} weight {cluster.weight:6.3f}  {cluster.n_signals:>3} signals  [{cats}]" + (f'  "{said[:60]}"' if said else ""))
    typer.echo("\nRecent signals:")
    typer.echo(f"  {'when':<16} {'source':<8} {'pol':>5} {'top category':<16} {'item':<22} text / event id")
    for e in recent:
        label = e.text[:50] if e.text else e.event_id
        typer.echo(f"  {_when(e.ts):<16} {e.source:<8} {e.polarity:>5.2f} {(e.top_category or '-')[:16]:<16} {(e.item_id or '-')[:22]:<22} {label}")


@app.command("export")
def export(user: str) -> None:
    """Print everything stored about a user as JSON."""
    uid = _uid(user)
    with _memory() as mem:
        data = mem.export(uid)
    with _conversations() as store:
        data["conversations"] = store.export(uid) if store is not None else []
    typer.echo(json.dumps(data, indent=2, default=float))


@app.command("forget")
def forget(
    user: str,
    interest: str = typer.Option(None, "--interest", help="forget only this category or event id"),
) -> None:
    """Forget a user entirely (events, profile, counts contribution, conversations), or one interest with --interest."""
    uid = _uid(user)
    with _memory() as mem:
        if interest:
            try:
                out = mem.forget_interest(uid, interest)
            except UnknownInterestError as exc:
                _fail(f"not forgotten: {exc.args[0] if exc.args else exc}", 1)
            what = f"category {out['category']}" if out["kind"] == "category" else f"event {interest}"
            typer.echo(f"Forgot {what} of {uid}: {out['deleted_events']} event(s) deleted.")
        else:
            out = mem.forget(uid)
            threads = _forget_conversations(uid)
            typer.echo(
                f"Forgot {uid}: {out['events']} event(s), {out['profile_records']} profile record(s),"
                f" {out['count_events']} count event(s), {threads} conversation thread(s). Verified nothing is left."
            )
