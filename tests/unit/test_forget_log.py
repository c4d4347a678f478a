"""The forget log (memory/forget_log.py) and how a token's issue time is judged against it (bot/auth.py)."""

from __future__ import annotations

from pathlib import Path

from interest_bot.bot.auth import issue_token, issued_before, token_claims
from interest_bot.memory.forget_log import ForgetLog

SECRET = "f" * 16 + "0123456789abcdef0123"


def test_forget_times_survive_a_reopen_and_name_no_user(tmp_path: Path) -> None:
    path = tmp_path / "counts.sqlite"
    log = ForgetLog.open(path)
    assert log.forgotten_at("alice") is None
    log.record("alice", ts=1_000.5)
    log.record("alice", ts=2_000.25)  # a second forget moves the time forward
    log.close()
    reopened = ForgetLog.open(path)
    assert reopened.forgotten_at("alice") == 2_000.25 and reopened.forgotten_at("bob") is None
    reopened.close()
    assert b"alice" not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_tokens_issued_at_or_before_a_forget_are_revoked() -> None:
    claims = token_claims(SECRET, issue_token(SECRET, "alice", now=1_000.2504), now=1_000.3)
    assert claims["ep"] == 1_000_250 and claims["iat"] == 1_000
    assert not issued_before(claims, None)
    assert issued_before(claims, 1_000.25) and issued_before(claims, 1_001)
    assert not issued_before(claims, 1_000.249)  # the same second, earlier: a token issued after the forget works
    # A token from before the `ep` claim counts from the start of its `iat` second; one with neither is refused.
    assert issued_before({"sub": "alice", "iat": 1_000, "exp": 2_000}, 1_000.9)
    assert not issued_before({"sub": "alice", "iat": 1_001, "exp": 2_000}, 1_000.9)
    assert issued_before({"sub": "alice", "exp": 2_000}, 0.0)
    assert issued_before({"sub": "alice", "iat": 5_000, "ep": True, "exp": 9_000}, 1_000.0) is False  # bool is no epoch: iat decides
