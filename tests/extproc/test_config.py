from __future__ import annotations

from pathlib import Path

import pytest

from extproc.config import Config, ConfigError, load
from extproc.exchange import InvalidJSON


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doppel.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    config = load(environ={})
    assert config == Config()
    assert config.limits.max_body_bytes == 4 * 1024 * 1024
    assert config.exchange_config().invalid_json is InvalidJSON.MASK_AS_TEXT


def test_file_then_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: 6000\n  workers: 4\nlimits:\n  invalid_json: reject\n")
    config = load(
        path,
        environ={"DOPPEL_SERVER_PORT": "7000", "DOPPEL_ENGINE_PLACEHOLDER_TYPES": "EMAIL, PHONE"},
    )
    assert config.server.port == 7000  # the environment wins
    assert config.server.workers == 4
    assert config.engine.placeholder_types == ("EMAIL", "PHONE")
    assert config.exchange_config().invalid_json is InvalidJSON.REJECT


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: 6001\n")
    assert load(environ={"DOPPEL_CONFIG": str(path)}).server.port == 6001


@pytest.mark.parametrize(("text", "env", "message"), [
    ("server:\n  wrokers: 2\n", {}, "server.wrokers: unknown key; known keys: "),
    ("limits: 5\n", {}, "limits: must be a mapping"),
    ("server:\n  port: eighty\n", {}, "server.port: expected int, got 'eighty'"),
    ("", {"DOPPEL_SERVER_WORKERS": "0"}, "$DOPPEL_SERVER_WORKERS: must be a positive number"),
    ("", {"DOPPEL_LIMITS_INVALID_JSON": "drop"}, "must be one of mask_as_text, reject"),
    ("", {"DOPPEL_ENGINE_MODEL": "maybe"}, "$DOPPEL_ENGINE_MODEL: expected bool"),
    ("[1, 2]\n", {}, "must hold a mapping of sections"),
    ("server: [\n", {}, "is not valid YAML"),
])  # fmt: skip
def test_errors_name_the_key_and_the_fix(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text), environ=env)
    assert message in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load(tmp_path / "absent.yaml", environ={})


def test_key_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOPPEL_KEY", raising=False)
    key = tmp_path / "key"
    key.write_text("a-long-enough-secret-key\n")
    assert load(write(tmp_path, f"key_file: {key}\n"), environ={}).hmac_key() == (
        b"a-long-enough-secret-key"
    )
    key.write_text("short")
    with pytest.raises(ConfigError, match="use 16 or more"):
        load(write(tmp_path, f"key_file: {key}\n"), environ={}).hmac_key()
    monkeypatch.setenv("DOPPEL_KEY", "from-the-environment")
    assert load(environ={}).hmac_key() == b"from-the-environment"


def test_policies_are_validated_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "policies:\n  team-a:\n    actions: {EMAIL: shred}\n")
    with pytest.raises(ConfigError, match=r"policies\.team-a\.actions\.EMAIL: must be one of"):
        load(path, environ={})
    path = write(tmp_path, "policies:\n  default:\n    actions: {EMAIL: placeholder}\n"
                           "  audit:\n    mode: monitor\ntrust_headers: true\n")
    config = load(path, environ={})
    assert set(config.exchange_config().policies) == {"default", "audit"}
    assert config.exchange_config().trust_headers
    assert config.default_policy().action("EMAIL").value == "placeholder"
