"""The replies issue in a real browser: the three messages it quotes, each reply checked while it streams and after."""

from __future__ import annotations

from browser_helpers import open_app, send, streamed_texts

from bench.reply_scoring import ReplyScorer
from interest_bot.memory.sources import load_builtin

LINES = ["I love westerns", "honestly Alien and Blade Runner are my all time faves", "any good heist movies? I love those"]
TYPING = "▍"


def _words(text: str) -> str:
    """The bubble's own words: without the typing cursor and the "going by" note."""
    text = text.replace(TYPING, "")
    return text.split("I don't have")[0].split("Recommended for you")[0].strip()


def test_replies_name_only_shown_titles_never_loop_or_stop_mid_sentence(server: str, browser) -> None:
    scorer = ReplyScorer.from_titles([item.title for item in load_builtin("movielens-100k")])
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_app(page, server)
    cards: list[str] = []
    for i, line in enumerate(LINES):
        turn = send(page, line)
        cards += turn.locator(".ib-card-title").all_text_contents()
        reply = _words(turn.locator(".ib-bot .ib-bubble").text_content() or "")
        assert reply, f"empty reply to {line!r}"
        assert scorer.invented(reply, allowed_titles=cards, user_lines=LINES[: i + 1]) == [], reply
        assert not scorer.loops(reply) and not scorer.cut(reply), reply
        # streaming: every text the bubble showed was whole sentences, each a beginning of the final reply
        for shown in map(_words, streamed_texts(page)):
            if shown:
                assert reply.startswith(shown), (shown, reply)
                assert not scorer.cut(shown), shown
                assert scorer.invented(shown, allowed_titles=cards, user_lines=LINES[: i + 1]) == [], shown
    heist = page.locator(".ib-turn").nth(2).locator(".ib-bot .ib-bubble").text_content() or ""
    assert "I don't have heist tagged" in heist
