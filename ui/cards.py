"""The conversation as HTML: turns (message, reply) with the reply's recommendation cards.

Everything the user or the model wrote, and every catalog field, goes through `html.escape`
before it reaches the page: a message like `<img src=x onerror=alert(1)>` shows literally.
Buttons carry only escaped data attributes; the page's script turns clicks into a Gradio
`feedback` event and the server checks the item against the turn it claims to belong to.
"""

from __future__ import annotations

import html
import re
from typing import Any

BLOCK_TITLE = "Recommended for you"
# Inline SVG thumbs: they render the same everywhere (no emoji font needed on the machine).
_THUMB = (
    '<svg class="ib-ico" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false"{flip}>'
    '<path fill="currentColor" d="M2 21h4V9H2v12zm20-11c0-1.1-.9-2-2-2h-6.3l1-4.6V3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6'
    'C6.2 8 6 8.5 6 9v10c0 1.1.9 2 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"/></svg>'
)
THUMB_UP = _THUMB.format(flip="")
THUMB_DOWN = _THUMB.format(flip=' style="transform:rotate(180deg)"')
ACTIONS = {"like": THUMB_UP, "dislike": THUMB_DOWN, "seen": "Seen it"}
ACTION_TITLES = {"like": "I like this", "dislike": "Not for me", "seen": "I've seen it"}


def esc(value: Any) -> str:
    """Text as HTML text (quotes escaped too, so it is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _bold(escaped: str) -> str:
    # `**x**` and a whole `_line_` in already-escaped text: the only markup a reply gets.
    escaped = re.sub(r"(?m)^_([^_\n]{1,300})_$", r"<em>\1</em>", escaped)
    return re.sub(r"\*\*([^*\n]{1,200})\*\*", r"<strong>\1</strong>", escaped)


def strip_block(reply: str) -> str:
    """The reply without the injected "Recommended for you" list (the cards show it instead)."""
    marker = f"**{BLOCK_TITLE}**"
    index = reply.find(marker)
    if index < 0:
        return reply.strip()
    return reply[:index].rstrip()


def new_turn(message: str) -> dict[str, Any]:
    """A turn as the UI keeps it in session state."""
    return {"user": message, "reply": "", "recs": [], "dismissed": [], "pending": True, "error": None}


def render_card(rec: dict[str, Any], turn: int) -> str:
    """One recommendation card with its feedback buttons."""
    item = esc(rec.get("item_id"))
    title = esc(rec.get("title") or rec.get("item_id"))
    state = rec.get("state")
    tags = "".join(f'<span class="ib-tag">{esc(c)}</span>' for c in (rec.get("categories") or [])[:3])
    reasons = rec.get("reasons") or []
    reason = f'<p class="ib-reason" title="{esc(reasons[0])}">{esc(reasons[0])}</p>' if reasons else ""
    if state == "liked":
        actions = f'<span class="ib-badge" role="status">{THUMB_UP} Liked: more like this</span>'
    else:
        actions = "".join(
            f'<button type="button" class="ib-fb ib-fb-{a}" data-action="{a}" data-item="{item}" data-turn="{turn}" '
            f'title="{ACTION_TITLES[a]}" aria-label="{ACTION_TITLES[a]}: {title}">{label}</button>'
            for a, label in ACTIONS.items()
        )
    return (
        f'<article class="ib-card{" ib-liked" if state == "liked" else ""}" data-item="{item}">'
        f'<h4 class="ib-card-title">{title}</h4><div class="ib-tags">{tags}</div>{reason}'
        f'<div class="ib-actions">{actions}</div></article>'
    )


def render_turn(turn: dict[str, Any], index: int) -> str:
    """A user message, the bot's reply and the cards that belong to that reply."""
    parts = [f'<section class="ib-turn" data-turn="{index}">']
    parts.append(f'<div class="ib-msg ib-user"><div class="ib-bubble">{esc(turn["user"])}</div></div>')
    reply = turn.get("reply") or ""
    if turn.get("recs"):
        reply = strip_block(reply)
    body = _bold(esc(reply)) if reply else ""
    if turn.get("pending"):
        body += '<span class="ib-typing" aria-label="typing">▍</span>'
    if turn.get("error"):
        body += f'<span class="ib-error">{esc(turn["error"])}</span>'
    parts.append(f'<div class="ib-msg ib-bot"><div class="ib-bubble">{body}</div></div>')
    recs = turn.get("recs") or []
    if recs:
        cards = "".join(render_card(rec, index) for rec in recs)
        parts.append(
            f'<div class="ib-recs" aria-label="Recommendations for this reply">'
            f'<div class="ib-recs-head">Picks for this reply</div>'
            f'<div class="ib-cards">{cards}</div></div>'
        )
    parts.append("</section>")
    return "".join(parts)


def render_conversation(turns: list[dict[str, Any]], scroll: str = "bottom", hint: str | None = None) -> str:
    """The whole conversation; `scroll` tells the page script to jump to the end or keep its place."""
    if not turns:
        greeting = esc(hint or "Hi! Tell me what you enjoy (or what you can't stand) and I'll suggest something.")
        inner = f'<div class="ib-empty"><div class="ib-msg ib-bot"><div class="ib-bubble">{greeting}</div></div></div>'
    else:
        inner = "".join(render_turn(turn, i) for i, turn in enumerate(turns))
    return f'<div class="ib-conv" data-scroll="{esc(scroll)}" role="log" aria-live="polite">{inner}</div>'


# The page script of the conversation: one delegated listener (survives re-renders), and scroll handling.
CONVERSATION_JS = """
let lastTop = 0;
element.addEventListener('scroll', (e) => {
  if (e.target && e.target.classList && e.target.classList.contains('ib-conv')) lastTop = e.target.scrollTop;
}, true);
element.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (!b || b.disabled) return;
  const card = b.closest('.ib-card');
  if (card) { card.classList.add('ib-busy'); card.querySelectorAll('button').forEach((x) => { x.disabled = true; }); }
  trigger('feedback', {action: b.dataset.action, item: b.dataset.item, turn: Number(b.dataset.turn)});
});
const place = () => {
  const conv = element.querySelector('.ib-conv');
  if (!conv) return;
  if (conv.dataset.scroll === 'keep') conv.scrollTop = lastTop;
  else { conv.scrollTop = conv.scrollHeight; lastTop = conv.scrollTop; }
};
watch('value', place);
setTimeout(place, 0);
"""
