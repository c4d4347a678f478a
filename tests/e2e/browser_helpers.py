"""Page helpers for the browser tests: wait for the app, chat a turn, check the layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TURN_TIMEOUT_MS = 240_000
LOAD_TIMEOUT_MS = 60_000

# Records every text the newest reply bubble showed while it was still being written.
STREAM_PROBE = """
() => {
  window.__ibStream = [];
  const seen = () => {
    const turns = document.querySelectorAll('.ib-turn');
    const last = turns[turns.length - 1];
    if (!last || !last.querySelector('.ib-typing')) return;
    const text = last.querySelector('.ib-bot .ib-bubble').textContent;
    const log = window.__ibStream;
    if (text && log[log.length - 1] !== text) log.push(text);
  };
  if (window.__ibObserver) window.__ibObserver.disconnect();
  window.__ibObserver = new MutationObserver(seen);
  window.__ibObserver.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def open_app(page: Any, url: str) -> None:
    """Load the page and wait until this browser's identity and memory panel have loaded."""
    page.goto(url + "/")
    page.wait_for_selector("#ib-input textarea", timeout=LOAD_TIMEOUT_MS)
    # The load event fills the panel (plot or empty state) once the identity is known.
    page.wait_for_selector("#ib-plot .ib-plot:not(.ib-loading)", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(500)


def turn_count(page: Any) -> int:
    return page.locator(".ib-turn").count()


def send(page: Any, text: str, expect_cards: bool = True) -> Any:
    """Type a message, press Enter, wait for the reply to finish; returns the new turn's locator."""
    before = turn_count(page)
    page.evaluate(STREAM_PROBE)
    box = page.locator("#ib-input textarea")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.ib-turn').length > {before}", timeout=LOAD_TIMEOUT_MS)
    turn = page.locator(".ib-turn").nth(before)
    page.wait_for_function(
        f"() => {{ const t = document.querySelectorAll('.ib-turn')[{before}]; return t && !t.querySelector('.ib-typing'); }}",
        timeout=TURN_TIMEOUT_MS,
    )
    if expect_cards:
        turn.locator(".ib-card").first.wait_for(timeout=10_000)
    return turn


def streamed_texts(page: Any) -> list[str]:
    return page.evaluate("() => window.__ibStream || []")


def plot_state(page: Any) -> list[tuple[str, str]]:
    """(category, score) rows of the interest plot."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#ib-plot .ib-row')).map(r => [r.dataset.category, r.dataset.score + '|' + r.innerHTML.length])"
    )


def no_horizontal_scroll(page: Any) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[1], f"horizontal scroll: {widths}"


def reachable(page: Any, selector: str) -> dict[str, float]:
    """Scroll the element into view; assert it is visible and horizontally inside the viewport."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    assert element.is_visible(), f"{selector} is not visible"
    box = element.bounding_box()
    size = page.viewport_size
    assert box is not None, selector
    assert box["x"] >= -1 and box["x"] + box["width"] <= size["width"] + 1, f"{selector} sticks out sideways: {box} in {size}"
    assert box["y"] < size["height"] and box["y"] + box["height"] > 0, f"{selector} is not on screen after scrolling: {box}"
    return box


def check_layout(page: Any, artifacts: Path, name: str) -> None:
    """No horizontal scroll; chat input, cards and plot reachable; screenshots of the viewport and the page."""
    no_horizontal_scroll(page)
    for selector in ("#ib-plot .ib-plot", ".ib-turn:last-child .ib-card", "#ib-input textarea"):
        reachable(page, selector)
        no_horizontal_scroll(page)
    # The picture a person sees: the newest reply and its cards, the input and (on a desktop) the panel.
    page.evaluate("() => { const c = document.querySelector('.ib-conv'); c.scrollTop = c.scrollHeight; window.scrollTo(0, 0); }")
    page.locator("#ib-input textarea").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{name}.png"))
    page.screenshot(path=str(artifacts / f"{name}-full.png"), full_page=True)
