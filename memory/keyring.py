"""Per-user data keys for text at rest: shredding a user's key makes every copy of their stored text unreadable.

Deleted records linger where no delete reaches at once: embedded Chroma keeps them in its write-ahead log until
about 2,000 more writes, SQLite free pages and WAL frames keep old bytes. So every text we store (clause texts,
exemplars, outbox rows, conversation checkpoints) is sealed with AES-256-GCM under a key of its own user, kept in
the SQL store next to the counts (counts.sqlite, or PostgreSQL with IBOT_SQL_URL). Forget deletes the key first:
whatever ciphertext lingers in the live files is noise from then on. A backup taken before the forget holds the
key beside the ciphertext (same data dir, or same database): it is not protected by this (README, Security).

In SQLite the key row is deleted with secure_delete on and the WAL is checkpointed and truncated, so no page of the
file keeps it. PostgreSQL keeps the dead row until VACUUM reclaims it (and in its WAL archives and backups): the
README says what operators run.

Tokens are "e1:" + base64(nonce || ciphertext+tag); a value without the prefix is a plaintext written before
encryption existed and is read as it is (callers decide that, see `is_sealed`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .sqldb import Db
from .userid import validate_user_id

log = logging.getLogger(__name__)

__all__ = ["PREFIX", "Keyring", "KeyShreddedError", "is_sealed"]

PREFIX = "e1:"
_BPREFIX = PREFIX.encode()
_NONCE = 12  # 96 bits: the size GCM is specified for
MAX_CACHED_KEYS = 10_000
# A key cached here outlives a forget run by another process (a PostgreSQL replica) by at most this long.
CACHE_TTL_S = 60.0

_SCHEMA = ["CREATE TABLE IF NOT EXISTS user_keys (user_key TEXT PRIMARY KEY, data_key TEXT NOT NULL, created REAL NOT NULL)"]


class KeyShreddedError(LookupError):
    """The user's key is gone (forgotten, or never made): their ciphertext cannot be read."""


def is_sealed(value: object) -> bool:
    """Whether a stored value is a token this module made (not a plaintext from before encryption)."""
    return isinstance(value, str | bytes) and value[:3] in (PREFIX, _BPREFIX)


def _row_key(user_id: str) -> str:
    # Hashed like the forget log's rows: a dump of the table lists no user names.
    return hashlib.sha256(validate_user_id(user_id).encode("utf-8")).hexdigest()


class Keyring:
    """Per-user AES-256-GCM keys in a SQL table, created on first seal, cached in process (bounded)."""

    _shared: dict[str, Keyring] = {}
    _shared_lock = threading.Lock()

    def __init__(self, db: Db, location: str = "", max_cached: int = MAX_CACHED_KEYS, ttl_s: float = CACHE_TTL_S) -> None:
        self._db = db
        self._location = location
        self._refs = 1
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.max_cached = max(1, int(max_cached))
        self.ttl_s = float(ttl_s)
        if not db.pg:
            # A deleted key row is overwritten in the file, not left readable in a free page or cell gap.
            db.execute("PRAGMA secure_delete=ON")

    @classmethod
    def open(cls, url_or_path: str | Path) -> Keyring:
        """The keyring at a SQLite file or `postgresql://` URL (the counts' location), one per location per process.

        Shared, so a shred through the memory also drops the key the conversation store holds cached; each open
        needs its close."""
        location = str(url_or_path)
        if not location.startswith(("postgresql://", "postgres://")):
            location = str(Path(location.removeprefix("sqlite:///")).resolve())
        with cls._shared_lock:
            ring = cls._shared.get(location)
            if ring is not None:
                ring._refs += 1
                return ring
            # Its own connection with synchronous=FULL: a key is on disk before text sealed with it is.
            ring = cls._shared[location] = cls(Db(location, _SCHEMA, synchronous="FULL"), location)
            return ring

    # ----- keys ----------------------------------------------------------------------------------

    def _cached(self, rk: str) -> bytes | None:
        hit = self._cache.get(rk)
        if hit is None or time.monotonic() - hit[0] > self.ttl_s:
            return None
        self._cache.move_to_end(rk)
        return hit[1]

    def _remember(self, rk: str, key: bytes) -> None:
        self._cache[rk] = (time.monotonic(), key)
        self._cache.move_to_end(rk)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    def _key(self, user_id: str, create: bool) -> bytes | None:
        rk = _row_key(user_id)
        with self._lock:
            key = self._cached(rk)
            if key is not None:
                return key
            row = self._db.execute("SELECT data_key FROM user_keys WHERE user_key = ?", (rk,)).fetchone()
            if row is None and create:
                # Two processes may race to create it: the first insert wins and both read that one back.
                self._db.execute(
                    "INSERT INTO user_keys (user_key, data_key, created) VALUES (?, ?, ?) ON CONFLICT (user_key) DO NOTHING",
                    (rk, AESGCM.generate_key(bit_length=256).hex(), time.time()),
                )
                row = self._db.execute("SELECT data_key FROM user_keys WHERE user_key = ?", (rk,)).fetchone()
            if row is None:
                self._cache.pop(rk, None)
                return None
            key = bytes.fromhex(row[0])
            self._remember(rk, key)
            return key

    def has_key(self, user_id: str) -> bool:
        """Whether the user has a key stored (they have sealed something and were not forgotten since)."""
        return self._key(user_id, create=False) is not None

    def shred(self, user_id: str) -> bool:
        """Delete the user's key (first thing a forget does); returns whether one existed."""
        rk = _row_key(user_id)
        with self._lock:
            self._cache.pop(rk, None)
            n = self._db.execute("DELETE FROM user_keys WHERE user_key = ?", (rk,)).rowcount
        # Outside the lock: other users' seals and opens need not wait for the checkpoint.
        if not self._db.pg and not self._checkpoint():
            log.warning("the key store's WAL could not be truncated within 10 s: the deleted key may stay in a WAL frame until the next checkpoint")
        return bool(n)

    def _checkpoint(self) -> bool:
        """Fold the WAL into the file and truncate it, so no old frame keeps the deleted key's page; False on timeout."""
        deadline = time.monotonic() + 10
        while True:
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            # Busy: a reader still sits on an older snapshot (the counts' connection mid-read); it ends soon.
            if not busy:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    # ----- sealing -------------------------------------------------------------------------------

    def seal(self, user_id: str, data: bytes) -> bytes:
        """Encrypt bytes for the user (creating their key): b"e1:" + nonce + ciphertext + tag."""
        key = self._key(user_id, create=True)
        assert key is not None
        nonce = os.urandom(_NONCE)
        # The user id as associated data: a token moved into another user's record does not open there.
        return _BPREFIX + nonce + AESGCM(key).encrypt(nonce, data, user_id.encode("utf-8"))

    def unseal(self, user_id: str, token: bytes) -> bytes:
        """Decrypt what seal made; KeyShreddedError when the key is gone, InvalidTag when it is not this user's."""
        if not token.startswith(_BPREFIX):
            raise ValueError("not a sealed token")
        key = self._key(user_id, create=False)
        if key is None:
            raise KeyShreddedError("no key for this user: forgotten, or never stored")  # no user id in a message
        body = token[len(_BPREFIX) :]
        return AESGCM(key).decrypt(body[:_NONCE], body[_NONCE:], user_id.encode("utf-8"))

    def encrypt(self, user_id: str, plaintext: str) -> str:
        """A text sealed for the user, as "e1:" + base64 (fits a JSON string or Chroma metadata)."""
        raw = self.seal(user_id, plaintext.encode("utf-8"))
        return PREFIX + base64.b64encode(raw[len(_BPREFIX) :]).decode("ascii")

    def decrypt(self, user_id: str, token: str) -> str | None:
        """The text of a token; None when the user's key is shredded or the token is not theirs (never a guess)."""
        if not token.startswith(PREFIX):
            raise ValueError("not a sealed token")
        try:
            return self.unseal(user_id, _BPREFIX + base64.b64decode(token[len(PREFIX) :])).decode("utf-8")
        except (KeyShreddedError, InvalidTag, ValueError):
            return None

    def close(self) -> None:
        """Release this holder's share; the connection closes with the last one."""
        with Keyring._shared_lock:
            self._refs -= 1
            if self._refs > 0:
                return
            if Keyring._shared.get(self._location) is self:
                del Keyring._shared[self._location]
        with self._lock:
            self._cache.clear()
            self._db.close()
