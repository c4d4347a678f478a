"""The UI's HTML: user and catalog text is escaped everywhere, the plot follows the profile, the reply loses the injected list."""

from __future__ import annotations

import re

from interest_bot.ui.cards import new_turn, render_conversation, strip_block
from interest_bot.ui.plots import render_explain, render_plot, render_signals

EVIL = '<img src=x onerror=alert(1)>"\'&'


def _no_raw_tags(html: str) -> None:
    assert "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")


def test_conversation_escapes_user_reply_and_catalog_text() -> None:
    turn = new_turn(EVIL) | {"pending": False, "reply": f"You said {EVIL}\n\n**Recommended for you**\n- {EVIL}"}
    turn["recs"] = [{"item_id": 'x:1" onclick="alert(1)', "title": EVIL, "categories": [EVIL], "score": 1.0, "reasons": [EVIL], "state": None}]
    html = render_conversation([turn])
    _no_raw_tags(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'onclick="alert' not in html  # attribute values cannot break out
    assert "Recommended for you" not in html, "the cards replace the injected text list"
    assert html.count('class="ib-card"') == 1 and html.count("data-action=") == 3


def test_liked_card_and_pending_turn() -> None:
    turn = new_turn("hi")
    assert "ib-typing" in render_conversation([turn])
    turn.update(pending=False, reply="ok", recs=[{"item_id": "m:1", "title": "T", "categories": [], "reasons": [], "state": "liked"}])
    html = render_conversation([turn])
    assert "ib-liked" in html and "data-action" not in html and "ib-typing" not in html


def test_strip_block_keeps_a_reply_without_the_block() -> None:
    assert strip_block("Hello there") == "Hello there"
    assert strip_block("Hi\n\n**Recommended for you**\n- A") == "Hi"


def test_plot_rows_follow_the_profile_and_escape_categories() -> None:
    assert "ib-plot-empty" in render_plot({"categories": {}})
    profile = {"categories": {"Sci-Fi": {"short": 0.8, "long": 0.4, "score": 0.6}, EVIL: {"short": -0.5, "long": -0.2, "score": -0.3}, "Zero": {"short": 0, "long": 0, "score": 0}}}
    html = render_plot(profile)
    _no_raw_tags(html)
    rows = re.findall(r'class="ib-row" data-category="([^"]*)" data-score="([^"]*)"', html)
    assert [r[0] for r in rows][0] == "Sci-Fi" and len(rows) == 2  # strongest first, zero rows dropped
    assert "ib-bar ib-short ib-neg" in html and "ib-bar ib-long ib-pos" in html


def test_signals_and_explain_escape_text() -> None:
    profile = {"recent_signals": [{"text": EVIL, "top_category": EVIL, "polarity": -0.9, "ts": 2}, {"text": None, "item_id": "m:1", "top_category": "Drama", "polarity": 0.9, "ts": 1}], "n_signals": 2}
    html = render_signals(profile, {"m:1": "Some <b>Title</b>"})
    _no_raw_tags(html)
    assert "<b>" not in html and "feedback on Some &lt;b&gt;Title&lt;/b&gt;" in html
    assert html.index("dislike") < html.index("Drama"), "newest first"
    why = render_explain(EVIL, [("<img", 0.9), ("##x", -0.2)])
    _no_raw_tags(why)
    assert "ib-glue" in why
