"""A dislike-only first message in the browser gets real, well-supported cards outside the dislike."""

from __future__ import annotations

import re

from browser_helpers import open_app, send

from interest_bot.memory.sources import load_builtin

MIN_SUPPORT = 20


def test_dislike_only_first_message_gets_supported_cards_outside_the_dislike(server: str, browser) -> None:
    catalog = {f"movielens-100k:{it.id}": it for it in load_builtin("movielens-100k")}
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    open_app(page, server)
    turn = send(page, "I'd rather watch paint dry than sit through a musical")
    shown = turn.locator(".ib-card").evaluate_all("cs => cs.map(c => [c.dataset.item, c.querySelector('.ib-card-title').textContent, c.querySelector('.ib-reason') ? c.querySelector('.ib-reason').textContent : ''])")
    assert shown, "the reply carries cards"
    for item_id, title, reason in shown:
        item = catalog.get(item_id)
        assert item is not None, f"{item_id} is not a catalog item"
        assert item.title.lower() != "unknown" and title.strip() == item.title, (item_id, title)
        assert item.popularity >= MIN_SUPPORT, f"{title}: {item.popularity:.0f} ratings"
        assert "Musical" not in item.categories, f"{title} is a musical"
        assert not re.search(r"\b1 ratings\b", reason), reason
    context.close()
