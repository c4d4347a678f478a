"""Forget revokes what it should, on a real `interest-bot serve`.

After `DELETE /v1/users/{id}` (or "Forget me" in the UI), credentials that proved that user before the forget
no longer work: a user-mode API token issued before it gets 401, before and after the server restarts, while a
token issued after it works; a forgotten browser identity is not accepted again (the page is given a fresh one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from gradio_client import Client
from test_ui_identity import text_of

from bench.server_process import serve
from interest_bot.bot.auth import issue_token

SECRET = "revoke-secret-" + "5e6f7a8b9c0d1e2f" * 3


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def profile(http: httpx.Client, user: str, token: str) -> httpx.Response:
    return http.get(f"/v1/users/{user}/profile", headers=bearer(token))


def test_forget_revokes_earlier_api_tokens_across_a_restart(prepared_data_dir: Path, port: int, tmp_path: Path) -> None:
    before = issue_token(SECRET, "rita", ttl=3600)
    other = issue_token(SECRET, "sam", ttl=3600)
    with serve(prepared_data_dir, port, tmp_path / "first.log", IBOT_AUTH="user", IBOT_AUTH_SECRET=SECRET) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        r = http.post("/v1/observe", json={"user_id": "rita", "message": "I love westerns"}, headers=bearer(before))
        assert r.status_code == 200, r.text
        assert http.delete("/v1/users/rita", headers=bearer(before)).status_code == 200
        r = profile(http, "rita", before)
        assert r.status_code == 401, r.text
        assert "forgotten" in r.json()["detail"] and r.headers.get("www-authenticate") == "Bearer"
        r = http.post("/v1/observe", json={"user_id": "rita", "message": "I love musicals"}, headers=bearer(before))
        assert r.status_code == 401  # nothing written with the revoked token
        after = issue_token(SECRET, "rita", ttl=3600)  # issued right after the forget returned: it works
        assert profile(http, "rita", after).json()["n_signals"] == 0
        assert profile(http, "sam", other).status_code == 200  # another user's token is untouched
    with serve(prepared_data_dir, port, tmp_path / "second.log", IBOT_AUTH="user", IBOT_AUTH_SECRET=SECRET) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        assert profile(http, "rita", before).status_code == 401  # the revocation survived the restart
        assert profile(http, "rita", after).status_code == 200
        assert profile(http, "sam", other).status_code == 200


def uid_of(token: Any) -> str:
    return token["uid"]


def export_text(client: Client, token: Any) -> str:
    """What the UI's export hands this browser token (an empty string when it hands nothing)."""
    return text_of(client.predict(token, None, api_name="/export"))


def test_forget_revokes_the_browser_identity(running_server: str) -> None:
    ui = Client(running_server, verbose=False)
    try:
        check_browser_revocation(ui, running_server)
    finally:
        ui.close()  # its heartbeat stream would hold the server's graceful shutdown


def check_browser_revocation(ui: Client, url: str) -> None:
    with httpx.Client(base_url=url, timeout=120) as http:
        # Forgotten over the API: the browser's old identity is refused and replaced.
        token = ui.predict(None, None, api_name="/identify")[0]
        uid = uid_of(token)
        assert http.post("/v1/observe", json={"user_id": uid, "message": "I love film noir"}).status_code == 200
        assert uid in export_text(ui, token)
        assert http.delete(f"/v1/users/{uid}").status_code == 200
        assert export_text(ui, token) == ""  # the old identity acts for nobody
        fresh = ui.predict(token, None, api_name="/identify")[0]
        assert uid_of(fresh) != uid

        # Forgotten with "Forget me": the page gets a fresh identity and the old one is refused from then on.
        token = fresh
        uid = uid_of(token)
        assert http.post("/v1/observe", json={"user_id": uid, "message": "I love heist movies"}).status_code == 200
        ui.predict(token, None, api_name="/forget_me")
        assert http.get(f"/v1/users/{uid}/profile").json()["n_signals"] == 0
        assert export_text(ui, token) == ""
        assert uid_of(ui.predict(token, None, api_name="/identify")[0]) != uid
