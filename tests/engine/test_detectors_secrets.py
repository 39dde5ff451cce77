"""API_KEY detectors: provider keys, JWTs, PEM blocks and secret-looking assigned values."""

from __future__ import annotations

import base64
import json

import pytest

from engine.detectors.secrets import (
    ApiKeyDetector,
    JwtDetector,
    KeywordSecretDetector,
    PrivateKeyDetector,
    shannon_entropy,
)
from tests.engine.test_detectors_helpers import found, values

KEYS = ApiKeyDetector()
JWT = JwtDetector()
PEM = PrivateKeyDetector()
KEYWORD = KeywordSecretDetector()


@pytest.mark.parametrize(
    "value, provider",
    [
        ("AKIAIOSFODNN7EXAMPLE", "aws"),
        ("ASIAY34FZKBOKMUTVV7A", "aws"),
        ("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github"),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN",
            "github",
        ),
        ("glpat-xY7zAb12Cd34Ef56Gh78", "gitlab"),
        ("xoxb-2048307160-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack"),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe"),
        ("rk_live_51H8xYzAbCdEfGhIjKlMnOp", "stripe"),
        ("sk-proj-Ab3dEf9hIj2lMn0pQr5tUv8xYz1aBc4D", "openai"),
        ("sk-ant-api03-Xy9zAb8cDe7fGh6iJk5lMn4oPq3rSt2u", "anthropic"),
        ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "google"),
    ],
)
def test_provider_keys(value: str, provider: str) -> None:
    assert found(KEYS, f"key = {value} # rotate") == [(value, provider)]


def test_aws_secret_after_its_name() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert found(KEYS, f"aws_secret_access_key = {secret}") == [(secret, "aws")]


@pytest.mark.parametrize(
    "text",
    [
        "class sk-spinner-rotating-plane-for-you",  # CSS class, not a key
        "AKIA is the access key id prefix",
        "ghp_short",
        "sk-learn-is-not-a-thing-but-looks-long",
        "task-management-for-the-whole-team",
    ],
)
def test_provider_keys_not_found(text: str) -> None:
    assert values(KEYS, text) == []


def _jwt(header: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part({'sub': '1234567890', 'iat': 1516239022})}.c2lnbmF0dXJlLWJ5dGVz"


def test_jwt_found() -> None:
    token = _jwt({"alg": "HS256", "typ": "JWT"})
    assert found(JWT, f"Authorization: Bearer {token}") == [(token, "jwt")]


def test_jwt_needs_alg_header() -> None:
    assert values(JWT, _jwt({"typ": "JWT"})) == []
    assert values(JWT, "eyJub3QganNvbg.eyJ4IjoxfQ.sig12345678") == []


PEM_BLOCK = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aumxJQjfDRh9yX3Uj0mYcOsd0x\n"
    "qR4yUx5bD0y2k1cV3tqvP0v7CZw1QpVY1oK3Ab==\n"
    "-----END RSA PRIVATE KEY-----"
)


def test_pem_block() -> None:
    text = f"here is the key:\n{PEM_BLOCK}\nthanks"
    assert values(PEM, text) == [PEM_BLOCK]


def test_pem_block_cut_off() -> None:
    text = PEM_BLOCK.rsplit("\n", 1)[0]
    assert values(PEM, text) == [text]


def test_public_key_is_not_a_secret() -> None:
    assert (
        values(PEM, "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0B\n-----END PUBLIC KEY-----")
        == []
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("password: Xk9#mP2$vL", "Xk9#mP2$vL"),
        ("login admin / password: hunter2", "hunter2"),
        ('"secret": "a8f5f167f44f4964e6c998dee827110c"', "a8f5f167f44f4964e6c998dee827110c"),
        ("API_TOKEN=Zx81kPq0Lm2nB7vR", "Zx81kPq0Lm2nB7vR"),
        ("DB_PASSWORD='s3cr3t!!'", "s3cr3t!!"),
        ("client_secret => 'q8W-e7R_t6Y-u5I_o4P'", "q8W-e7R_t6Y-u5I_o4P"),
        (
            "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        ),
        ("the password is Tr0ub4dor&3", "Tr0ub4dor&3"),
    ],
)
def test_keyword_secret_found(text: str, expected: str) -> None:
    assert found(KEYWORD, text) == [(expected, "generic")]


@pytest.mark.parametrize(
    "text",
    [
        "password: str",
        "password = request.form['password']",
        "password = get_password()",
        "password: ${DB_PASSWORD}",
        'password: "{{ .Values.db.password }}"',
        "password: ********",
        "password=changeme",
        "token = self.token",
        "max_tokens: 4096",
        "token_count = 1234567890123456",
        "secretName: catalog-tls-certificate",
        "secretKeyRef: {name: catalog-api-token, key: token}",
        "tokenizer: bert-base-uncased",
        "token: accessTokenFromHeader",
        "if password == null",
        "the token is expired",
        "api_key: <your-api-key>",
    ],
)
def test_keyword_secret_not_found(text: str) -> None:
    assert values(KEYWORD, text) == []


def test_entropy() -> None:
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == 2
