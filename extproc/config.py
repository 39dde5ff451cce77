"""Doppel's configuration: one YAML file, environment overrides, validated at start.

Precedence: defaults < YAML file (``--config`` or ``$DOPPEL_CONFIG``) < environment
(``DOPPEL_<SECTION>_<KEY>``, e.g. ``DOPPEL_LIMITS_MAX_BODY_BYTES=1048576``). Every error names the
key and says what is accepted. The HMAC key comes from ``$DOPPEL_KEY``, or from the file named by
``key_file`` / ``$DOPPEL_KEY_FILE`` (a mounted Kubernetes Secret); never from the YAML itself.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.entities import EntityType
from engine.policy import Policy, PolicyError
from engine.vault import MemoryVault, RedisVault, Vault
from extproc.exchange import ExchangeConfig, InvalidJSON


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and the fix."""


@dataclass(frozen=True)
class ServerSection:
    host: str = "127.0.0.1"
    port: int = 50051
    workers: int = 2  # threads for detection and masking
    max_pending: int = 256  # CPU tasks queued or running; beyond it requests get 503
    timeout_ms: int = 4000  # budget to mask one request; below Envoy's message_timeout (5 s)
    shutdown_grace_s: float = 10.0
    health: bool = True
    reflection: bool = True


@dataclass(frozen=True)
class LimitsSection:
    max_body_bytes: int = 4 * 1024 * 1024
    invalid_json: str = "mask_as_text"  # or "reject"


@dataclass(frozen=True)
class EngineSection:
    phone_region: str = "US"
    locale: str = "en_US"
    placeholder_types: tuple[str, ...] = ()
    model: bool = True  # the NER model (names, addresses, ...); false: patterns only
    model_threads: int = 0  # onnxruntime threads; 0: $DOPPEL_MODEL_THREADS, else up to 2
    cache_size: int = 4096


@dataclass(frozen=True)
class TLSSection:
    cert_file: str = ""
    key_file: str = ""
    client_ca_file: str = ""  # set: clients must present a certificate signed by it (mTLS)


@dataclass(frozen=True)
class MetricsSection:
    port: int = 0  # Prometheus /metrics on 127.0.0.1:<port>; 0 = off
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class DirectSection:
    """Doppel's own gRPC API (doppel.v1.Privacy: Detect, Mask, Restore) on a port of its own."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = off


@dataclass(frozen=True)
class VaultSection:
    """Doubles kept for answers that come back in a later exchange (previous_response_id)."""

    backend: str = "memory"  # memory | redis | off
    url: str = "redis://127.0.0.1:6379/0"
    ttl_s: int = 3600
    max_entries: int = 10_000  # memory backend
    tenant_ttl_s: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LogSection:
    level: str = "INFO"
    format: str = "json"  # or "text"


@dataclass(frozen=True)
class Config:
    server: ServerSection = field(default_factory=ServerSection)
    limits: LimitsSection = field(default_factory=LimitsSection)
    engine: EngineSection = field(default_factory=EngineSection)
    tls: TLSSection = field(default_factory=TLSSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    log: LogSection = field(default_factory=LogSection)
    vault: VaultSection = field(default_factory=VaultSection)
    direct: DirectSection = field(default_factory=DirectSection)
    key_file: str = ""
    # Named policies (see engine.policy); chosen per route by Envoy (gRPC metadata or
    # metadata_context), or by the x-doppel-policy header when trust_headers is on.
    policies: dict[str, Any] = field(default_factory=dict)
    trust_headers: bool = False

    def policy_table(self) -> dict[str, Policy]:
        known = {t.value for t in EntityType}
        try:
            return {
                name: Policy.from_dict(name, spec or {}, known)
                for name, spec in self.policies.items()
            }
        except PolicyError as exc:
            raise ConfigError(str(exc)) from None

    def default_policy(self) -> Policy:
        """``policies.default`` if configured, else placeholders for engine.placeholder_types."""
        table = self.policy_table()
        return table.get("default") or Policy.placeholders(tuple(self.engine.placeholder_types))

    def exchange_config(self, vault: Vault | None = None) -> ExchangeConfig:
        return ExchangeConfig(
            max_request_bytes=self.limits.max_body_bytes,
            invalid_json=InvalidJSON(self.limits.invalid_json),
            policies=self.policy_table(),
            trust_headers=self.trust_headers,
            vault=vault,
        )

    def make_vault(self, secret: bytes) -> Vault | None:
        v = self.vault
        if v.backend == "off":
            return None
        if v.backend == "redis":
            return RedisVault.from_url(v.url, secret, ttl_s=v.ttl_s, tenant_ttl_s=v.tenant_ttl_s)
        return MemoryVault(v.ttl_s, v.max_entries, v.tenant_ttl_s)

    def hmac_key(self) -> bytes | None:
        """``$DOPPEL_KEY``, else the key file's content (stripped), else None."""
        if value := os.environ.get("DOPPEL_KEY"):
            return value.encode()
        path = os.environ.get("DOPPEL_KEY_FILE") or self.key_file
        if path:
            try:
                key = Path(path).read_bytes().strip()
            except OSError as exc:
                raise ConfigError(f"key_file: cannot read {path}: {exc.strerror}") from None
            if len(key) < 16:
                raise ConfigError(f"key_file: {path} holds {len(key)} bytes; use 16 or more")
            return key
        return None


_CHOICES = {
    ("limits", "invalid_json"): {m.value for m in InvalidJSON},
    ("log", "format"): {"json", "text"},
    ("log", "level"): {"DEBUG", "INFO", "WARNING", "ERROR"},
    ("vault", "backend"): {"memory", "redis", "off"},
}
_POSITIVE = {("server", "workers"), ("server", "max_pending"), ("server", "timeout_ms"),
             ("limits", "max_body_bytes")}  # fmt: skip


def load(
    path: str | os.PathLike[str] | None = None, environ: typing.Mapping[str, str] | None = None
) -> Config:
    """Read, merge and validate the configuration."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("DOPPEL_CONFIG")
    data: dict[str, Any] = {}
    if path:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping of sections")
    config: Config = _build(Config, data, _env_overrides(environ), ())
    config.policy_table()  # validate policies now, with errors that name their keys
    return config


def _env_overrides(environ: typing.Mapping[str, str]) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for name, tp in typing.get_type_hints(Config).items():
        sub = _dataclass_of(tp)
        if sub is None:
            if (v := environ.get(f"DOPPEL_{name.upper()}")) is not None:
                out[(name,)] = v
            continue
        for sub_name in typing.get_type_hints(sub):
            if (v := environ.get(f"DOPPEL_{name}_{sub_name}".upper())) is not None:
                out[(name, sub_name)] = v
    return out


def _dataclass_of(tp: Any) -> type | None:
    return tp if isinstance(tp, type) and dataclasses.is_dataclass(tp) else None


def _build(
    cls: type, data: dict[str, Any], env: dict[tuple[str, ...], str], prefix: tuple[str, ...]
) -> Any:
    names = typing.get_type_hints(cls)
    for key in data:
        if key not in names:
            where = ".".join((*prefix, str(key)))
            raise ConfigError(f"{where}: unknown key; known keys: {', '.join(sorted(names))}")
    values: dict[str, Any] = {}
    for name, tp in names.items():
        where = (*prefix, name)
        sub = _dataclass_of(tp)
        if sub is not None:
            section = data.get(name) or {}
            if not isinstance(section, dict):
                raise ConfigError(f"{'.'.join(where)}: must be a mapping")
            values[name] = _build(sub, section, env, where)
            continue
        if typing.get_origin(tp) is dict:
            raw = data.get(name) or {}
            kind = typing.get_args(tp)[1]
            want = (dict, type(None)) if kind is Any else (int,)
            if not isinstance(raw, dict) or not all(
                isinstance(v, want) and not isinstance(v, bool) for v in raw.values()
            ):
                what = "mappings" if kind is Any else "whole numbers"
                raise ConfigError(f"{'.'.join(where)}: must map names to {what}")
            values[name] = raw
        elif where in env:
            values[name] = _coerce(where, tp, env[where], from_env=True)
        elif name in data:
            values[name] = _coerce(where, tp, data[name], from_env=False)
    return cls(**values)


def _coerce(where: tuple[str, ...], tp: Any, value: Any, from_env: bool) -> Any:
    key = ".".join(where)
    source = f"${'DOPPEL_' + '_'.join(where).upper()}" if from_env else key
    try:
        if tp is bool:
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError
                value = value.lower() in ("1", "true", "yes", "on")
            elif not isinstance(value, bool):
                raise ValueError
        elif tp is int:
            if isinstance(value, bool):
                raise ValueError
            value = int(value)
        elif tp is float:
            value = float(value)
        elif tp is str:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError
            value = str(value)
        elif typing.get_origin(tp) is tuple or isinstance(tp, types.GenericAlias):
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple):
                raise ValueError
            value = tuple(str(i).strip() for i in items if str(i).strip())
    except (TypeError, ValueError):
        raise ConfigError(
            f"{source}: expected {getattr(tp, '__name__', str(tp))}, got {value!r}"
        ) from None
    if (choices := _CHOICES.get(where)) is not None:
        if key == "log.level":
            value = str(value).upper()
        if value not in choices:
            raise ConfigError(f"{source}: must be one of {', '.join(sorted(choices))}")
    if where in _POSITIVE and value <= 0:
        raise ConfigError(f"{source}: must be a positive number")
    return value
