"""The chat UI in a real browser against the real server: streaming, cards, feedback, memory, identity, XSS, layout."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from pathlib import Path

from browser_helpers import check_layout, open_app, plot_state, send, streamed_texts
from gradio_client import Client
from playwright.sync_api import Dialog

XSS = "<img src=x onerror=alert(1)>"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _clicks(server: str) -> float:
    """Impressions followed by a like, over every A/B variant, as /metrics reports them."""
    text = urllib.request.urlopen(server + "/metrics", timeout=30).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("ibot_ab_clicks{"))


def test_chat_cards_feedback_memory_and_layout(server: str, browser, artifacts: Path) -> None:
    dialogs: list[str] = []
    errors: list[str] = []

    def dismiss(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.on("dialog", dismiss)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests_out: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else requests_out.append(r.url))
    open_app(page, server)
    assert page.locator("#ib-plot .ib-plot-empty").count() == 1, "a new browser starts with an empty memory"
    assert page.locator("#ib-chips").is_visible(), "starter chips are offered to a new user"

    # -- two messages: a streamed reply each, with cards under the reply ---------------------------------
    first = send(page, "I love science fiction and space adventures like Star Wars")
    streamed = streamed_texts(page)
    assert len(streamed) >= 2, f"the reply did not arrive in pieces: {streamed}"
    assert first.locator(".ib-bot .ib-bubble").inner_text().strip()
    second = send(page, "Comedies are fun too, but I can't stand horror movies")
    assert page.locator(".ib-turn").count() == 2
    for turn in (first, second):
        cards = turn.locator(".ib-card")
        assert cards.count() >= 1
        assert cards.first.locator(".ib-card-title").inner_text().strip()
        assert cards.first.locator(".ib-tag").count() >= 1
        assert cards.first.locator(".ib-reason").inner_text().strip()
    assert page.locator("#ib-plot .ib-row").count() >= 1, "the plot shows what was learned"
    assert page.locator("#ib-signals li").count() >= 1, "recent signals are listed"
    assert "Star Wars" in page.locator("#ib-signals").inner_text() or page.locator("#ib-signals li").count() >= 2
    assert not page.locator("#ib-chips").is_visible(), "starter chips go away once we talk"
    check_layout(page, artifacts, "desktop-1280x800")

    # -- 👎 on a card: it is replaced, and the plot changes ---------------------------------------------------
    card = second.locator(".ib-card").first
    disliked = card.get_attribute("data-item")
    shown_before = second.locator(".ib-card").evaluate_all("cs => cs.map(c => c.dataset.item)")
    plot_before = plot_state(page)
    card.locator("button[data-action=dislike]").click()
    page.wait_for_function(
        "(item) => { const t = document.querySelectorAll('.ib-turn')[1]; return t && !t.querySelector(`.ib-card[data-item=\"${item}\"]`) && !t.querySelector('.ib-busy'); }",
        arg=disliked,
        timeout=60_000,
    )
    shown_after = second.locator(".ib-card").evaluate_all("cs => cs.map(c => c.dataset.item)")
    assert disliked not in shown_after
    assert len(shown_after) == len(shown_before), "the disliked card is replaced, not just removed"
    assert shown_after[0] not in shown_before, "a new item takes the disliked card's place"
    page.wait_for_function("(before) => JSON.stringify(Array.from(document.querySelectorAll('#ib-plot .ib-row')).map(r => [r.dataset.category, r.dataset.score + '|' + r.innerHTML.length])) !== before", arg=json.dumps(plot_before), timeout=30_000)
    assert plot_state(page) != plot_before

    # -- 👍 on the replacement card is credited as a click on something shown ----------------------------------
    clicks_before = _clicks(server)
    fresh = second.locator(f'.ib-card[data-item="{shown_after[0]}"]')
    fresh.locator("button[data-action=like]").click()
    page.wait_for_selector(f'.ib-turn >> nth=1 >> .ib-card.ib-liked[data-item="{shown_after[0]}"]', timeout=60_000)
    deadline = time.monotonic() + 60  # /metrics reads click-through at most every 15 s
    while _clicks(server) != clicks_before + 1 and time.monotonic() < deadline:
        time.sleep(1)
    assert _clicks(server) == clicks_before + 1

    # -- 👍 on a card: it stays, marked liked --------------------------------------------------------------
    liked = first.locator(".ib-card").first
    liked_item = liked.get_attribute("data-item")
    liked.locator("button[data-action=like]").click()
    page.wait_for_selector(f'.ib-turn >> nth=0 >> .ib-card.ib-liked[data-item="{liked_item}"]', timeout=60_000)

    # -- the "why" view explains the last message -----------------------------------------------------------
    page.locator("#ib-why-acc").get_by_text("Why? Explain my last message").click()
    page.wait_for_selector("#ib-why .ib-tok", timeout=120_000)
    assert "horror" in page.locator("#ib-why").inner_text().lower()

    # -- forget one interest ---------------------------------------------------------------------------------
    row = page.locator("#ib-plot .ib-row").first
    category = row.get_attribute("data-category")
    row.locator("button.ib-forget").click()
    page.wait_for_function(
        "(cat) => !Array.from(document.querySelectorAll('#ib-plot .ib-row')).some(r => r.dataset.category === cat)",
        arg=category,
        timeout=60_000,
    )
    remaining = [c for c, _ in plot_state(page)]
    assert category not in remaining

    # -- reload: memory is still there (and the forgotten interest stays forgotten) ---------------------------
    page.reload()
    open_app(page, server)
    after_reload = [c for c, _ in plot_state(page)]
    assert after_reload, "the profile survives a reload"
    assert category not in after_reload
    assert page.locator("#ib-signals li").count() >= 1

    # -- export downloads this user's memory as JSON ----------------------------------------------------------
    page.locator("#ib-export").click()
    link = page.locator("#ib-export-file a").first
    link.wait_for(timeout=30_000)
    with page.expect_download() as info:
        link.click()
    exported = json.loads(Path(info.value.path()).read_text())
    assert "science fiction" in json.dumps(exported).lower() or "star wars" in json.dumps(exported).lower()

    # -- user text is text: the XSS message shows literally and runs nothing ---------------------------------
    xss_turn = send(page, XSS, expect_cards=False)
    assert xss_turn.locator(".ib-user .ib-bubble").inner_text() == XSS
    assert page.locator('img[src="x"]').count() == 0
    page.wait_for_timeout(1000)
    assert dialogs == [], f"a dialog opened: {dialogs}"

    # -- a second browser is somebody else: empty memory ------------------------------------------------------
    other = browser.new_context(viewport=DESKTOP)
    other_page = other.new_page()
    other_page.on("dialog", dismiss)
    open_app(other_page, server)
    assert other_page.locator("#ib-plot .ib-plot-empty").count() == 1
    assert other_page.locator("#ib-plot .ib-row").count() == 0
    assert "No signals yet" in other_page.locator("#ib-signals").inner_text()
    other.close()

    # -- the phone layout, same user (same browser storage) ----------------------------------------------------
    phone = browser.new_context(viewport=PHONE, storage_state=context.storage_state(), is_mobile=True, has_touch=True)
    phone_page = phone.new_page()
    phone_page.on("dialog", dismiss)
    open_app(phone_page, server)
    assert phone_page.locator("#ib-plot .ib-row").count() >= 1, "same browser storage, same memory"
    send(phone_page, "Any good animated films for a rainy day?")
    check_layout(phone_page, artifacts, "mobile-390x844")
    phone.close()

    # -- forget me: everything goes ----------------------------------------------------------------------------
    page.locator("#ib-forget-me").click()
    page.locator("#ib-forget-yes").click()
    page.wait_for_selector("#ib-plot .ib-plot-empty", timeout=60_000)
    page.reload()
    open_app(page, server)
    assert page.locator("#ib-plot .ib-plot-empty").count() == 1
    assert dialogs == [] and errors == [], (dialogs, errors)
    assert requests_out == [], f"the page fetched from outside the server: {requests_out[:5]}"
    context.close()


def test_ui_endpoints_ignore_a_foreign_user_id(server: str) -> None:
    """The UI's own API, called like any client would: another user's id (unsigned or mis-signed) reaches nothing."""
    victim = Client(server + "/", verbose=False)
    token = victim.predict(None, None, api_name="/identify")[0]
    victim.predict("I really love westerns with Clint Eastwood", token, [], None, api_name="/chat")

    def exported(client: Client, tok) -> str:
        out = client.predict(tok, None, api_name="/export")
        if isinstance(out, dict):
            out = out.get("value")
        found = re.search(r"data:application/json;base64,([A-Za-z0-9+/=]+)", out or "")
        return base64.b64decode(found.group(1)).decode("utf-8") if found else ""

    assert "westerns" in exported(victim, token).lower()
    attacker = Client(server + "/", verbose=False)
    for forged in ({"uid": token["uid"]}, {"uid": token["uid"], "sig": "0" * 64}, token["uid"]):
        assert "westerns" not in exported(attacker, forged).lower()
        attacker.predict(forged, None, api_name="/forget_me")
        fresh = attacker.predict(forged, None, api_name="/identify")[0]
        assert fresh["uid"] != token["uid"]
    time.sleep(0.5)
    assert "westerns" in exported(victim, token).lower(), "the victim's memory is untouched"
