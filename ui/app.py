"""The Gradio UI: streaming chat with recommendation cards and an interest-memory inspector.

The UI builds no models. `bot/server.py` hands it the plugin (per catalog) and a chat
function, then mounts it at `/`:

    from interest_bot.ui.app import mount_ui
    mount_ui(app, plugin_for=..., chat_stream=..., catalogs=..., secret=..., auth=...)

Who the user is comes from a server-signed browser token (see `identity.py`) or, when
`IBOT_UI_AUTH` is set, from the Gradio login; no handler takes a user id from the client.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from interest_bot.plugins.interest.config import DEFAULT_MAX_MESSAGE_CHARS

from . import identity
from .cards import CONVERSATION_JS, new_turn, render_conversation
from .plots import LOADING, PLOT_JS, render_explain, render_plot, render_signals
from .ratelimit import TurnLimit

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CSS = (HERE / "style.css").read_text(encoding="utf-8")
HEAD = '<meta name="viewport" content="width=device-width, initial-scale=1">'
STORAGE_KEY = "interest-bot-identity"
STREAM_INTERVAL = 0.05  # seconds between streamed re-renders
# The UI takes no files, but Gradio's upload route is always there: cap what anyone can store through it.
MAX_UPLOAD_BYTES = 1024 * 1024

STARTERS = {
    "movies": ["I love sci-fi", "Something funny, please", "Thrillers yes, horror no", "A classic from the 70s"],
    "news": ["Tech news interests me", "I follow football", "Politics bores me", "Anything about business"],
    "default": ["Here's what I like…", "Surprise me", "Something popular", "What can you recommend?"],
}


def starters_for(catalog: str | None) -> list[str]:
    """Starter chips that fit the catalog."""
    name = (catalog or "").lower()
    if "movie" in name or "ml-" in name:
        return STARTERS["movies"]
    if "news" in name or "bbc" in name:
        return STARTERS["news"]
    return STARTERS["default"]


def _titles(turns: list[dict[str, Any]]) -> dict[str, str]:
    return {r["item_id"]: r.get("title") or r["item_id"] for t in turns for r in t.get("recs") or []}


def export_link(data: dict[str, Any]) -> str:
    """A download link carrying the export in a data: URL, so the JSON is never written to a file (a temp dir or
    Gradio's cache would keep it after "Forget me", raw text included)."""
    payload = base64.b64encode(json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")).decode("ascii")
    return (
        f'<a class="ib-export-link" download="interest-bot-export.json" href="data:application/json;base64,{payload}">'
        "Download your data (JSON)</a>"
    )


def build_ui(
    plugin_for: Callable[[str | None], Any],
    chat_stream: Callable[[str, str, str | None], Iterator[dict[str, Any]]],
    catalogs: Callable[[], list[str]],
    secret: bytes,
    auth: Any = None,
    *,
    forget_user: Callable[[str], Any] | None = None,
    export_user: Callable[[str], dict[str, Any]] | None = None,
    history: Callable[[str], list[dict[str, str]]] | None = None,
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
    turns_per_minute: int | None = None,
    forgotten_at: Callable[[str], float | None] | None = None,
) -> gr.Blocks:
    """The Blocks app. `auth` only tells the handlers to use the login name; pass the pairs to `mount_ui`.

    `forget_user` / `export_user` default to the plugin's (the server passes versions that
    also cover conversations); `history` (optional) restores the user's past messages on reload;
    `forgotten_at` (optional: the plugin's) revokes browser identities whose user was forgotten.
    """
    auth_enabled = bool(identity.parse_auth(auth) if isinstance(auth, str) else auth)
    limit = TurnLimit(turns_per_minute) if turns_per_minute else None

    def who(token: Any, request: gr.Request | None) -> str | None:
        return identity.resolve(secret, token, request, auth_enabled, forgotten_at)

    def default_catalog() -> str | None:
        try:
            return plugin_for(None).catalog_name
        except Exception:  # the page still renders and says what is missing
            log.exception("no default catalog")
            return None

    def catalog_choices() -> list[str]:
        try:
            return list(catalogs())
        except Exception:
            log.exception("listing catalogs failed")
            return []

    def profile_of(uid: str | None, catalog: str | None) -> dict[str, Any]:
        if uid is None:
            return {"categories": {}, "recent_signals": [], "n_signals": 0}
        return plugin_for(catalog).profile_dict(uid)

    def panel(uid: str | None, catalog: str | None, turns: list[dict[str, Any]]) -> tuple[str, str, Any]:
        """Plot, signals and the starter chips' visibility for the current user."""
        profile = profile_of(uid, catalog)
        new_user = not turns and not profile.get("n_signals")
        return render_plot(profile), render_signals(profile, _titles(turns)), gr.update(visible=new_user)

    # -- handlers --------------------------------------------------------------------------------------
    def on_load(token: Any, catalog: str | None, request: gr.Request):
        if not auth_enabled and who(token, request) is None:
            token = identity.issue(secret)  # no token, a forged/foreign one, or a forgotten one: a fresh identity
        uid = who(token, request)
        choices = catalog_choices()
        catalog = catalog if catalog in choices else (default_catalog() or (choices[0] if choices else None))
        turns: list[dict[str, Any]] = []
        if history is not None and uid is not None:
            try:
                past = history(uid)
            except Exception:
                log.exception("history failed")
                past = []
            for message in past:
                if message.get("role") == "user":
                    turns.append(new_turn(message.get("content", "")) | {"pending": False})
                elif turns and message.get("role") == "assistant":
                    turns[-1]["reply"] = message.get("content", "")
        plot, signals, chips = panel(uid, catalog, turns)
        picker = gr.update(choices=choices, value=catalog, visible=len(choices) > 1)
        return token, turns, render_conversation(turns), plot, signals, chips, picker, catalog

    def chat(message: str, token: Any, turns: list[dict[str, Any]], catalog: str | None, request: gr.Request):
        message = (message or "").strip()
        if not message:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        uid = who(token, request)
        turns = list(turns or [])
        turn = new_turn(message[:max_message_chars])
        turns.append(turn)
        if uid is None:
            turn.update(pending=False, error="Your session has no identity yet: reload the page.")
            yield "", render_conversation(turns), turns, gr.skip(), gr.skip(), gr.skip(), message
            return
        if len(message) > max_message_chars:
            turn.update(pending=False, error=f"That message is longer than {max_message_chars} characters; please shorten it.")
            yield gr.skip(), render_conversation(turns), turns, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        if limit is not None and not limit.allow(uid):
            turn.update(pending=False, error="Too many messages from this browser in the last minute; please wait a little.")
            yield gr.skip(), render_conversation(turns), turns, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        yield "", render_conversation(turns), turns, gr.skip(), gr.skip(), gr.update(visible=False), message
        last = time.monotonic()
        try:
            for event in chat_stream(uid, message, catalog):
                if event.get("type") == "token":
                    turn["reply"] += str(event.get("text") or "")
                    now = time.monotonic()
                    if now - last >= STREAM_INTERVAL:
                        last = now
                        yield gr.skip(), render_conversation(turns), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                elif event.get("type") == "done":
                    turn["reply"] = str(event.get("reply") or turn["reply"])
                    turn["recs"] = [dict(r, state=None) for r in event.get("recommendations") or []]
        except Exception as exc:  # the user sees a short note; the log has the trace
            log.exception("chat turn failed")
            turn["error"] = f"Sorry, something went wrong ({type(exc).__name__}). Please try again."
        turn["pending"] = False
        plot, signals, _ = panel(uid, catalog, turns)
        yield "", render_conversation(turns), turns, plot, signals, gr.update(visible=False), message

    def on_feedback(token: Any, turns: list[dict[str, Any]], catalog: str | None, evt: gr.EventData, request: gr.Request):
        data = evt._data or {}  # the JS event's payload (gradio keeps it on the EventData)
        action, item, index = data.get("action"), data.get("item"), data.get("turn")
        uid = who(token, request)
        turns = list(turns or [])
        liked: dict[str, bool | None] = {"like": True, "dislike": False, "seen": None}  # "seen": watched, neutral
        if uid is None or not isinstance(index, int) or not 0 <= index < len(turns) or not isinstance(item, str) or action not in liked:
            return render_conversation(turns, scroll="keep"), turns, gr.skip(), gr.skip(), gr.skip()
        turn = turns[index]
        position = next((i for i, r in enumerate(turn["recs"]) if r.get("item_id") == item), None)
        if position is None:  # not an item this reply showed: nothing to do
            return render_conversation(turns, scroll="keep"), turns, gr.skip(), gr.skip(), gr.skip()
        plugin = plugin_for(catalog)
        plugin.feedback(uid, item, liked=liked[action])
        if action == "like":
            turn["recs"][position]["state"] = "liked"
        else:
            turn["dismissed"] = list(turn.get("dismissed") or []) + [item]
            shown = {r["item_id"] for r in turn["recs"]} | set(turn["dismissed"])
            fresh = next(
                (r for r in plugin.recommend(uid, k=len(shown) + 10) if r.item_id not in shown),
                None,
            )
            if fresh is None:
                turn["recs"].pop(position)
            else:
                plugin.record_impressions(uid, [fresh], join_latest=True)  # shown like any card, so a 👍 on it is credited
                turn["recs"][position] = dict(fresh.to_dict(), state=None, fresh=True)
        plot, signals, _ = panel(uid, catalog, turns)
        return render_conversation(turns, scroll="keep"), turns, plot, signals, gr.skip()

    def on_forget_interest(token: Any, turns: list[dict[str, Any]], catalog: str | None, evt: gr.EventData, request: gr.Request):
        category = (evt._data or {}).get("category")
        uid = who(token, request)
        if uid is not None and isinstance(category, str) and category:
            plugin_for(catalog).forget_interest(uid, category)
            gr.Info(f"Forgot {category}.", duration=3)
        plot, signals, _ = panel(uid, catalog, turns or [])
        return plot, signals

    def refresh(token: Any, turns: list[dict[str, Any]], catalog: str | None, request: gr.Request):
        uid = who(token, request)
        plot, signals, chips = panel(uid, catalog, turns or [])
        return plot, signals, chips

    def explain_last(last_message: str, catalog: str | None):
        if not last_message:
            return render_explain(None, None)
        try:
            weights = plugin_for(catalog).explain(last_message)
        except Exception:
            log.exception("explain failed")
            weights = []
        return render_explain(last_message, weights)

    def export(token: Any, catalog: str | None, request: gr.Request):
        uid = who(token, request)
        if uid is None:
            return gr.update(value="", visible=False)
        data = export_user(uid) if export_user is not None else plugin_for(catalog).export(uid)
        return gr.update(value=export_link(data), visible=True)

    def forget_me(token: Any, catalog: str | None, request: gr.Request):
        uid = who(token, request)
        if uid is not None:
            if forget_user is not None:
                forget_user(uid)
            else:
                plugin_for(catalog).forget(uid)
            gr.Info("Done: I forgot everything about you.", duration=4)
            if not auth_enabled:
                token = identity.issue(secret)  # the forgotten identity is revoked: carry on under a new one
        plot, signals, chips = panel(who(token, request), catalog, [])
        return token, [], render_conversation([]), plot, signals, chips, gr.update(visible=False), gr.update(value="", visible=False), ""

    # -- layout ----------------------------------------------------------------------------------------
    with gr.Blocks(title="interest-bot", fill_width=True, delete_cache=(900, 1800)) as demo:
        token = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=identity.browser_secret(secret))
        turns = gr.State([])
        last_message = gr.State("")
        current_catalog = gr.State(None)

        with gr.Row(elem_id="ib-header", equal_height=True):
            gr.HTML(
                '<div class="ib-brand"><h1>interest-bot</h1>'
                "<p>Chat about what you like. I learn as we talk and suggest things you might enjoy.</p></div>",
                elem_id="ib-title",
            )
            picker = gr.Dropdown(label="Catalog", choices=[], visible=False, scale=0, min_width=180, elem_id="ib-catalog")

        with gr.Row(elem_id="ib-main", equal_height=False):
            with gr.Column(scale=5, min_width=320, elem_id="ib-chat-col"):
                conv = gr.HTML(render_conversation([]), js_on_load=CONVERSATION_JS, elem_id="ib-conv", container=False)
                with gr.Row(elem_id="ib-chips", visible=False) as chips_row:
                    chip_buttons = [gr.Button(text, size="sm", variant="secondary", elem_classes="ib-chip", min_width=0) for text in starters_for(None)]
                msg = gr.Textbox(
                    placeholder="Tell me what you like, or ask for something…",
                    show_label=False,
                    lines=1,
                    max_lines=4,
                    submit_btn="Send",
                    elem_id="ib-input",
                    autofocus=True,
                )
            with gr.Column(scale=3, min_width=300, elem_id="ib-side"):
                gr.HTML('<h2 class="ib-side-title">What I\'ve learned</h2>', container=False)
                plot = gr.HTML(LOADING, js_on_load=PLOT_JS, elem_id="ib-plot", container=False)
                with gr.Accordion("Recent signals", open=True, elem_id="ib-signals-acc"):
                    signals = gr.HTML(render_signals({}), elem_id="ib-signals", container=False)
                with gr.Accordion("Why? Explain my last message", open=False, elem_id="ib-why-acc") as why_acc:
                    why = gr.HTML(render_explain(None, None), elem_id="ib-why", container=False)
                    why_btn = gr.Button("Explain", size="sm", elem_id="ib-why-btn")
                with gr.Row(elem_id="ib-data-row"):
                    export_btn = gr.Button("Export my data", size="sm", elem_id="ib-export", min_width=0)
                    forget_btn = gr.Button("Forget me", size="sm", variant="stop", elem_id="ib-forget-me", min_width=0)
                with gr.Group(visible=False, elem_id="ib-confirm") as confirm_box:
                    gr.HTML('<p class="ib-confirm-text">Delete everything I learned about you, and our conversation?</p>', container=False)
                    with gr.Row():
                        confirm_btn = gr.Button("Yes, forget me", size="sm", variant="stop", elem_id="ib-forget-yes", min_width=0)
                        cancel_btn = gr.Button("Cancel", size="sm", elem_id="ib-forget-no", min_width=0)
                export_file = gr.HTML("", visible=False, elem_id="ib-export-file", container=False)

        # -- wiring ------------------------------------------------------------------------------------
        demo.load(
            on_load,
            inputs=[token, current_catalog],
            outputs=[token, turns, conv, plot, signals, chips_row, picker, current_catalog],
            api_name="identify",
        )
        chat_outputs = [msg, conv, turns, plot, signals, chips_row, last_message]
        msg.submit(chat, inputs=[msg, token, turns, current_catalog], outputs=chat_outputs, api_name="chat", show_progress="hidden")
        for button in chip_buttons:
            button.click(lambda text=button.value: text, outputs=msg, api_visibility="private").then(
                chat, inputs=[msg, token, turns, current_catalog], outputs=chat_outputs, api_visibility="private", show_progress="hidden"
            )
        conv.feedback(on_feedback, inputs=[token, turns, current_catalog], outputs=[conv, turns, plot, signals, chips_row], api_name="feedback", show_progress="hidden")
        plot.forget(on_forget_interest, inputs=[token, turns, current_catalog], outputs=[plot, signals], api_name="forget_interest", show_progress="hidden")
        why_btn.click(explain_last, inputs=[last_message, current_catalog], outputs=why, api_name="explain")
        why_acc.expand(explain_last, inputs=[last_message, current_catalog], outputs=why, api_visibility="private")
        export_btn.click(export, inputs=[token, current_catalog], outputs=export_file, api_name="export")
        forget_btn.click(lambda: gr.update(visible=True), outputs=confirm_box, api_visibility="private")
        cancel_btn.click(lambda: gr.update(visible=False), outputs=confirm_box, api_visibility="private")
        confirm_btn.click(
            forget_me,
            inputs=[token, current_catalog],
            outputs=[token, turns, conv, plot, signals, chips_row, confirm_box, export_file, last_message],
            api_name="forget_me",
        )
        picker.change(lambda c: c, inputs=picker, outputs=current_catalog, api_visibility="private").then(
            refresh, inputs=[token, turns, current_catalog], outputs=[plot, signals, chips_row], api_visibility="private"
        )
    return demo


def launch_options(auth: Any = None) -> dict[str, Any]:
    """What `mount_gradio_app` / `launch` need besides the Blocks (Gradio 6 takes CSS and head there)."""
    pairs = identity.parse_auth(auth) if isinstance(auth, str) else auth
    options: dict[str, Any] = {
        "css": CSS,
        "head": HEAD,
        "footer_links": [],
        "theme": gr.themes.Soft(primary_hue="indigo"),
        "max_file_size": MAX_UPLOAD_BYTES,
    }
    if pairs:
        options["auth"] = pairs
        options["auth_message"] = "Sign in to interest-bot."
    return options


def mount_ui(
    app: Any,
    plugin_for: Callable[[str | None], Any],
    chat_stream: Callable[[str, str, str | None], Iterator[dict[str, Any]]],
    catalogs: Callable[[], list[str]],
    secret: bytes,
    auth: Any = None,
    path: str = "/",
    **kwargs: Any,
) -> Any:
    """Build the UI and mount it on an ASGI app (FastAPI) at `path`; returns the app."""
    blocks = build_ui(plugin_for, chat_stream, catalogs, secret, auth, **kwargs)
    return gr.mount_gradio_app(app, blocks, path=path, **launch_options(auth))
