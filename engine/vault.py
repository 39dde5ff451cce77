"""Where doubles wait for an answer that comes back in a *later* exchange.

Most exchanges need no vault: chat APIs resend the history, so the request itself rebuilds the
mapping. Stateful APIs do not (OpenAI Responses with ``previous_response_id``): the provider
remembers the conversation — in doubles — and its next answer may repeat doubles that the next
request does not carry. The vault keeps each exchange's double→original pairs under the
provider's response id, per tenant, for a TTL.

- :class:`MemoryVault`: in-process LRU with TTL (one replica).
- :class:`RedisVault`: shared by many replicas. Values are encrypted with AES-GCM under a key
  derived per tenant from a secret; Redis keys are HMACs of tenant and response id: no
  plaintext personal data, and no readable ids, in Redis. Writes go through a small background
  thread so a slow Redis never stalls a stream.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

Pairs = dict[str, tuple[str, str]]  # double -> (entity type, original)


class VaultError(Exception):
    """The vault could not be read or written; restoring from the exchange itself still works."""


class Vault(Protocol):
    def load(self, tenant: str, ref: str) -> Pairs | None: ...
    def save(self, tenant: str, ref: str, pairs: Pairs) -> None: ...


class _TTLs:
    def __init__(self, ttl_s: int, tenant_ttl_s: Mapping[str, int] | None) -> None:
        self.default = ttl_s
        self.tenants = dict(tenant_ttl_s or {})

    def __call__(self, tenant: str) -> int:
        return self.tenants.get(tenant, self.default)


class MemoryVault:
    """An in-process LRU with a TTL per tenant."""

    def __init__(
        self,
        ttl_s: int = 3600,
        max_entries: int = 10_000,
        tenant_ttl_s: Mapping[str, int] | None = None,
    ) -> None:
        self._ttl = _TTLs(ttl_s, tenant_ttl_s)
        self._max = max_entries
        self._items: OrderedDict[tuple[str, str], tuple[float, Pairs]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, tenant: str, ref: str) -> Pairs | None:
        with self._lock:
            item = self._items.get((tenant, ref))
            if item is None:
                return None
            expires, pairs = item
            if expires < time.monotonic():
                del self._items[(tenant, ref)]
                return None
            self._items.move_to_end((tenant, ref))
            return dict(pairs)

    def save(self, tenant: str, ref: str, pairs: Pairs) -> None:
        with self._lock:
            self._items[(tenant, ref)] = (time.monotonic() + self._ttl(tenant), dict(pairs))
            self._items.move_to_end((tenant, ref))
            while len(self._items) > self._max:
                self._items.popitem(last=False)


class RedisVault:
    """Encrypted pairs in Redis, shared by every replica that has the same secret."""

    PREFIX = "doppel:v1:"

    def __init__(
        self,
        client: Any,
        secret: bytes,
        ttl_s: int = 3600,
        tenant_ttl_s: Mapping[str, int] | None = None,
        queue_size: int = 1024,
    ) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aesgcm = AESGCM
        self._client = client
        self._name_key = hmac.new(secret, b"doppel-vault-name", hashlib.sha256).digest()
        self._enc_root = hmac.new(secret, b"doppel-vault-enc", hashlib.sha256).digest()
        self._ttl = _TTLs(ttl_s, tenant_ttl_s)
        self._writes: queue.Queue[tuple[str, bytes, int]] = queue.Queue(queue_size)
        self.errors = 0
        self._writer = threading.Thread(target=self._write_loop, name="doppel-vault", daemon=True)
        self._writer.start()

    @classmethod
    def from_url(cls, url: str, secret: bytes, **kwargs: Any) -> RedisVault:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, secret, **kwargs)

    def _name(self, tenant: str, ref: str) -> str:
        digest = hmac.new(self._name_key, f"{tenant}\x1f{ref}".encode(), hashlib.sha256)
        return self.PREFIX + digest.hexdigest()

    def _cipher(self, tenant: str) -> Any:
        key = hmac.new(self._enc_root, tenant.encode(), hashlib.sha256).digest()
        return self._aesgcm(key)

    def load(self, tenant: str, ref: str) -> Pairs | None:
        name = self._name(tenant, ref)
        try:
            blob = self._client.get(name)
        except Exception as exc:
            self.errors += 1
            raise VaultError(f"redis read failed ({type(exc).__name__})") from None
        if blob is None:
            return None
        try:
            plain = self._cipher(tenant).decrypt(blob[:12], blob[12:], name.encode())
        except Exception:
            self.errors += 1
            raise VaultError("vault entry failed authentication") from None
        return {d: (t, o) for d, (t, o) in json.loads(plain).items()}

    def save(self, tenant: str, ref: str, pairs: Pairs) -> None:
        name = self._name(tenant, ref)
        nonce = os.urandom(12)
        blob = nonce + self._cipher(tenant).encrypt(
            nonce, json.dumps(pairs).encode(), name.encode()
        )
        try:
            self._writes.put_nowait((name, blob, self._ttl(tenant)))
        except queue.Full:
            self.errors += 1
            raise VaultError("vault write queue is full") from None

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until queued writes are done (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._writes.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _write_loop(self) -> None:
        while True:
            name, blob, ttl = self._writes.get()
            try:
                self._client.set(name, blob, ex=ttl)
            except Exception as exc:
                self.errors += 1
                log.error("vault write failed", extra={"error": type(exc).__name__})
            finally:
                self._writes.task_done()
