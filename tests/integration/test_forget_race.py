"""Forget and a chat in flight for the same user: forget waits for the turn, so nothing
the turn writes (its checkpoint, its impressions) outlives the forget."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services

IN_MODEL = threading.Event()
RELEASE = threading.Event()


class HeldModel(GenericFakeChatModel):
    """Waits inside generation until the test lets it finish."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> HeldModel:
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        IN_MODEL.set()
        RELEASE.wait(120)
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_forget_during_a_chat_leaves_nothing_behind(plugin, prepared_data_dir: Path) -> None:
    services = Services(Settings.without_env_file(data_dir=prepared_data_dir, device="cpu"), plugin=plugin, chat_model=HeldModel(messages=itertools.repeat("Noted.")))
    client = TestClient(create_app(services=services, ui=False), base_url="http://127.0.0.1", client=("127.0.0.1", 1))
    results: dict[str, Any] = {}
    chat = threading.Thread(target=lambda: results.setdefault("chat", client.post("/v1/chat", json={"user_id": "racer", "message": "I love westerns"})))
    chat.start()
    assert IN_MODEL.wait(120)
    forget = threading.Thread(target=lambda: results.setdefault("forget", client.delete("/v1/users/racer")))
    forget.start()
    time.sleep(1.0)  # give forget every chance to run ahead of the turn (it must not)
    RELEASE.set()
    chat.join(120)
    forget.join(120)
    assert results["chat"].status_code == 200 and results["forget"].status_code == 200
    export = client.get("/v1/users/racer/export").json()
    assert export["events"] == [] and export["conversations"] == [], export
    assert plugin.impressions.latest("racer") == []  # the turn's cards were not counted after the forget


def test_a_write_behind_in_another_process_does_not_bring_a_forgotten_profile_back(tmp_path: Path) -> None:
    """Server mode: process A holds a profile it has not written yet; process B forgets the user; A's write-behind
    runs afterwards. The profile must not come back, nor a new key with the user's text sealed under it."""
    import numpy as np

    from interest_bot.memory.chroma import open_client
    from interest_bot.memory.forget_log import ForgetLog
    from interest_bot.memory.interests import InterestMemory
    from interest_bot.memory.keyring import Keyring
    from interest_bot.memory.signals import InterestSignal

    data = tmp_path / "data"
    client = open_client(data)
    store = data / "counts.sqlite"
    logs, ring = [ForgetLog.open(store), ForgetLog.open(store)], Keyring.open(store)
    a = InterestMemory(client, shared=True, forget_log=logs[0], keyring=ring)
    b = InterestMemory(client, shared=True, forget_log=logs[1], keyring=ring)
    vec = np.random.default_rng(1).standard_normal(384).astype(np.float32)
    try:
        held = a._lock("dora")
        with held:  # A's writer thread waits here: the profile stays unwritten until after the forget
            a.record("dora", [InterestSignal(text="dora loves zydeco musicals", embedding=vec, categories={"Musical": 0.9}, polarity=0.9, preference=0.9)])
            time.sleep(0.2)
            b.forget("dora")
        time.sleep(0.2)
        a.flush()
        assert b._profiles.get(where={"user_id": "dora"})["ids"] == []
        assert not ring.has_key("dora")
        assert a.profile("dora").n_signals == 0
    finally:
        a.close()
        b.close()
        for log in logs:
            log.close()
        ring.close()


def test_a_write_that_waited_for_the_lock_while_the_user_was_forgotten_is_dropped(tmp_path: Path) -> None:
    """A record that started before a forget and got the user's lock after it must not store anything: its text
    would otherwise be sealed under a fresh key and outlive the forget."""
    import numpy as np

    from interest_bot.memory.chroma import open_client
    from interest_bot.memory.forget_log import ForgetLog
    from interest_bot.memory.interests import InterestMemory
    from interest_bot.memory.keyring import Keyring
    from interest_bot.memory.signals import InterestSignal

    data = tmp_path / "data"
    store = data / "counts.sqlite"
    client = open_client(data)
    log, ring = ForgetLog.open(store), Keyring.open(store)
    mem = InterestMemory(client, shared=False, forget_log=log, keyring=ring)
    vec = np.random.default_rng(2).standard_normal(384).astype(np.float32)
    signal = InterestSignal(text="eve loves zydeco westerns", embedding=vec, categories={"Western": 0.9}, polarity=0.9, preference=0.9)
    try:
        mem.record("eve", [signal])
        got: list[list[str]] = []
        with mem._lock("eve"):  # the write below prepares, then waits here while the forget runs
            writer = threading.Thread(target=lambda: got.append(mem.record("eve", [signal])))
            writer.start()
            time.sleep(0.3)
            mem.forget("eve")
        writer.join(30)
        assert got == [[]]
        assert mem.events("eve") == [] and not ring.has_key("eve")
        mem.flush()
        assert mem._profiles.get(where={"user_id": "eve"})["ids"] == []
    finally:
        mem.close()
        log.close()
        ring.close()
