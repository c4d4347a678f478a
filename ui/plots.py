"""The "What I've learned" panel as HTML: a diverging bar plot of interests, recent signals, the "why" view.

The plot is server-rendered HTML/CSS bars (no plotting library, no script, no CDN), so it
renders the same offline, in any browser, at any width: each category gets a short-term and
a long-term bar, likes to the right of the zero line and dislikes to the left.
"""

from __future__ import annotations

from typing import Any

from .cards import esc

MAX_ROWS = 10
MAX_SIGNALS = 8


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _bar(value: float, scale: float, kind: str) -> str:
    width = min(50.0, abs(value) / scale * 50.0) if scale > 0 else 0.0
    side = "pos" if value >= 0 else "neg"
    left = 50.0 if value >= 0 else 50.0 - width
    return (
        f'<div class="ib-track"><div class="ib-bar ib-{kind} ib-{side}" '
        f'style="left:{left:.1f}%;width:{max(width, 0.6 if value else 0):.1f}%"></div></div>'
    )


def interest_rows(profile: dict[str, Any]) -> list[tuple[str, float, float, float]]:
    """(category, short, long, score), strongest first, at most MAX_ROWS."""
    rows = []
    for cat, vals in (profile.get("categories") or {}).items():
        if not isinstance(vals, dict):
            vals = {"score": vals, "short": vals, "long": vals}
        short, long_, score = _num(vals.get("short")), _num(vals.get("long")), _num(vals.get("score"))
        if max(abs(short), abs(long_), abs(score)) < 1e-4:
            continue
        rows.append((str(cat), short, long_, score))
    rows.sort(key=lambda r: (-abs(r[3]), r[0]))
    return rows[:MAX_ROWS]


def render_plot(profile: dict[str, Any]) -> str:
    """The bar plot of the user's categories, with a forget button per interest."""
    rows = interest_rows(profile)
    if not rows:
        return (
            '<div class="ib-plot ib-plot-empty" data-rows="0"><p>Nothing learned yet. Tell me what you like, '
            'for example <em>“I love sci-fi but not horror”</em>, and your interests show up here.</p></div>'
        )
    scale = max(max(abs(r[1]), abs(r[2])) for r in rows) or 1.0
    body = []
    for cat, short, long_, score in rows:
        mood = "like" if score > 0 else "dislike"
        label = f"{cat}: {mood}s, short-term {short:+.2f}, long-term {long_:+.2f}"
        body.append(
            f'<div class="ib-row" data-category="{esc(cat)}" data-score="{score:.4f}" aria-label="{esc(label)}">'
            f'<div class="ib-cat" title="{esc(cat)}">{esc(cat)}</div>'
            f'<div class="ib-bars">{_bar(short, scale, "short")}{_bar(long_, scale, "long")}</div>'
            f'<div class="ib-val ib-{"pos" if score >= 0 else "neg"}">{score:+.2f}</div>'
            f'<button type="button" class="ib-forget" data-category="{esc(cat)}" title="Forget {esc(cat)}" '
            f'aria-label="Forget {esc(cat)}">✕</button></div>'
        )
    legend = (
        '<div class="ib-legend"><span><i class="ib-sw ib-short"></i>short-term</span>'
        '<span><i class="ib-sw ib-long"></i>long-term</span>'
        '<span class="ib-axis-note">◀ dislike · like ▶</span></div>'
    )
    return f'<div class="ib-plot" role="img" aria-label="Interest categories" data-rows="{len(rows)}">{legend}{"".join(body)}</div>'


def _signal_icon(sig: dict[str, Any]) -> str:
    pol = _num(sig.get("polarity"))
    if pol > 0.15:
        return '<span class="ib-pill ib-pos" title="like">like</span>'
    if pol < -0.15:
        return '<span class="ib-pill ib-neg" title="dislike">dislike</span>'
    return '<span class="ib-pill" title="neutral">note</span>'


def render_signals(profile: dict[str, Any], titles: dict[str, str] | None = None) -> str:
    """The most recent signals, newest first, each with the clause (or item) that produced it."""
    signals = list(profile.get("recent_signals") or [])
    signals.sort(key=lambda s: _num(s.get("ts")), reverse=True)
    if not signals:
        return '<p class="ib-muted">No signals yet.</p>'
    items = []
    for sig in signals[:MAX_SIGNALS]:
        cat = sig.get("top_category") or "no clear category"
        if sig.get("text"):
            what = f"“{esc(sig['text'])}”"
        elif sig.get("item_id"):
            item = str(sig["item_id"])
            what = f"feedback on {esc((titles or {}).get(item, item))}"
        else:
            what = "(text not stored)"
        items.append(
            f'<li>{_signal_icon(sig)}'
            f'<span class="ib-sig-cat">{esc(cat)}</span><span class="ib-sig-text">{what}</span></li>'
        )
    total = int(_num(profile.get("n_signals")))
    return f'<ul class="ib-signals">{"".join(items)}</ul><p class="ib-muted">{total} signal{"s" if total != 1 else ""} in memory</p>'


def render_explain(text: str | None, weights: list[tuple[str, float]] | None) -> str:
    """Tokens of a message shaded by their contribution to its top category."""
    if not text:
        return '<p class="ib-muted">Send a message, then ask why.</p>'
    if not weights:
        return f'<p class="ib-muted">No explanation for “{esc(text)}”.</p>'
    scale = max(abs(_num(w)) for _, w in weights) or 1.0
    spans = []
    for token, weight in weights:
        token = str(token)
        w = _num(weight)
        alpha = min(1.0, abs(w) / scale) * 0.85
        colour = "34,139,84" if w >= 0 else "200,50,60"
        glue = token.startswith("##")
        shown = token[2:] if glue else token
        spans.append(
            f'<span class="ib-tok{" ib-glue" if glue else ""}" title="{w:+.3f}" '
            f'style="background:rgba({colour},{alpha:.2f})">{esc(shown)}</span>'
        )
    return (
        f'<div class="ib-why"><div class="ib-why-text">{"".join(spans)}</div>'
        '<p class="ib-muted">Darker green pushed the message towards its top category; red pushed away.</p></div>'
    )


LOADING = '<div class="ib-plot ib-loading"><p class="ib-muted">Loading your memory…</p></div>'

PLOT_JS = """
element.addEventListener('click', (e) => {
  const b = e.target.closest('button.ib-forget');
  if (!b || b.disabled) return;
  b.disabled = true;
  trigger('forget', {category: b.dataset.category});
});
"""
