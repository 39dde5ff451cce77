from __future__ import annotations

import time

import pytest
import redis

from engine.vault import MemoryVault, RedisVault, VaultError

PAIRS = {
    "kelly.russell@arnold.com": ("EMAIL", "jane.doe@acme-corp.com"),
    "[SSN_1]": ("SSN", "536-22-8147"),
}


def test_memory_vault_ttl_lru_and_tenants() -> None:
    vault = MemoryVault(ttl_s=3600, max_entries=2, tenant_ttl_s={"short": 0})
    vault.save("a", "resp_1", PAIRS)
    assert vault.load("a", "resp_1") == PAIRS
    assert vault.load("b", "resp_1") is None  # another tenant sees nothing
    vault.save("short", "resp_1", PAIRS)
    time.sleep(0.01)
    assert vault.load("short", "resp_1") is None  # expired
    vault.save("a", "resp_2", PAIRS)
    vault.save("a", "resp_3", PAIRS)
    assert vault.load("a", "resp_1") is None  # evicted: least recently used


def test_redis_vault_round_trip_encrypted(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()  # the server is shared by the session
    vault = RedisVault.from_url(redis_url, b"a-secret-of-the-deployment", ttl_s=60)
    vault.save("team-a", "resp_abc", PAIRS)
    vault.flush()
    assert vault.load("team-a", "resp_abc") == PAIRS
    assert vault.load("team-b", "resp_abc") is None
    raw = redis.Redis.from_url(redis_url)
    keys = raw.keys("*")
    assert len(keys) == 1
    key, value = keys[0], raw.get(keys[0])
    for secret in (b"resp_abc", b"team-a", b"jane.doe", b"536-22-8147", b"kelly.russell"):
        assert secret not in key and secret not in value
    assert 0 < raw.ttl(key) <= 60


def test_redis_vault_rejects_tampering_and_foreign_secrets(redis_url: str) -> None:
    vault = RedisVault.from_url(redis_url, b"a-secret-of-the-deployment")
    vault.save("t", "resp_tamper", PAIRS)
    vault.flush()
    raw = redis.Redis.from_url(redis_url)
    name = vault._name("t", "resp_tamper")
    blob = bytearray(raw.get(name))
    blob[-1] ^= 1
    raw.set(name, bytes(blob))
    with pytest.raises(VaultError, match="authentication"):
        vault.load("t", "resp_tamper")
    other = RedisVault.from_url(redis_url, b"another-deployment-secret")
    assert other.load("t", "resp_tamper") is None  # other secret: other key names


def test_redis_down_is_a_vault_error_not_a_crash() -> None:
    vault = RedisVault.from_url("redis://127.0.0.1:1/0", b"secret-secret-secret")
    with pytest.raises(VaultError, match="redis read failed"):
        vault.load("t", "resp_x")
    vault.save("t", "resp_x", PAIRS)  # queued; the writer thread counts the failure
    vault.flush()
    assert vault.errors == 2
