"""The direct API (doppel.v1.Privacy) over real gRPC, driven from the generated client stub: a
grpc.aio server with the real engine runs in a thread of this process."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from engine import Engine, build_engine
from extproc.direct import Blocked, Limits, PrivacyServicer, SessionTokens, add_to_server
from extproc.doppel_pb import privacy_pb2 as pb
from extproc.doppel_pb import privacy_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"direct-api-test-secret"
LIMITS = Limits(max_texts=8, max_chars=20_000, max_token_chars=4096)

EMAIL, PHONE, CARD = "jane.doe@example.org", "+1 415-555-0100", "4111 1111 1111 1111"
IBAN, IP = "DE89 3704 0044 0532 0130 00", "10.1.2.3"
ORIGINALS = (EMAIL, PHONE, CARD, IBAN, IP)
TEXTS = [
    f"Grüße 😀 from {EMAIL}, call {PHONE} or charge card {CARD}.",
    f"IBAN {IBAN}; write to {EMAIL} again, from ip {IP}",
]


class _Exploding:
    """An engine whose detection fails with the text in the exception message."""

    def __init__(self, real: Engine) -> None:
        self._real = real

    def detect(self, text: str) -> list:  # type: ignore[type-arg]
        raise ValueError(f"cannot handle {text!r}")

    def session(self):  # type: ignore[no-untyped-def]
        session = self._real.session()
        session.engine = self  # type: ignore[assignment]
        return session


@pytest.fixture(scope="module")
def engine() -> Engine:
    if "model" in inspect.signature(build_engine).parameters:
        return build_engine(b"test-key", model=False)
    return build_engine(b"test-key")  # pragma: no cover - an engine without the model option


@pytest.fixture(scope="module")
def served(engine: Engine) -> Iterator[dict]:  # type: ignore[type-arg]
    """The servicer on a loopback port; ``state["engine"]`` is what ``get_engine`` returns."""
    state: dict = {"engine": engine}  # type: ignore[type-arg]
    ready = threading.Event()

    async def main() -> None:
        server = grpc.aio.server()
        add_to_server(server, PrivacyServicer(lambda: state["engine"], SECRET, limits=LIMITS))
        state["port"] = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        state["loop"], state["stop"] = asyncio.get_running_loop(), asyncio.Event()
        ready.set()
        await state["stop"].wait()
        await server.stop(None)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield state
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(10)
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def stub(served: dict) -> Iterator[pb_grpc.PrivacyStub]:  # type: ignore[type-arg]
    with grpc.insecure_channel(f"127.0.0.1:{served['port']}") as channel:
        yield pb_grpc.PrivacyStub(channel)


def _refused(call, *args) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as info:
        result = call(*args)
        if not isinstance(result, pb.RestoreResponse | pb.MaskResponse | pb.DetectResponse):
            list(result)  # a stream: the error comes while reading
    error = info.value
    for original in ORIGINALS:
        assert original not in (error.details() or "")
    return error


def _stream(stub: pb_grpc.PrivacyStub, token: str, chunks: list[str]) -> list[str]:
    requests = [pb.RestoreStreamRequest(session=token, text=chunks[0])]
    requests += [pb.RestoreStreamRequest(text=c) for c in chunks[1:]]
    requests.append(pb.RestoreStreamRequest(final=True))
    replies = [r.text for r in stub.RestoreStream(iter(requests))]
    assert len(replies) == len(requests)  # one answer per message, the flush in the last
    return replies


def test_generated_stubs_match_the_proto() -> None:
    pytest.importorskip("grpc_tools")
    spec = importlib.util.spec_from_file_location("proto_generate", ROOT / "proto/generate.py")
    assert spec and spec.loader
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert generate.stale() == [], "extproc/doppel_pb is stale: run make proto"


def test_detect_offsets_are_code_points_as_engine_detect(
    stub: pb_grpc.PrivacyStub, engine: Engine
) -> None:
    reply = stub.Detect(pb.DetectRequest(texts=[*TEXTS, "nothing here"]))
    assert len(reply.results) == 3
    for text, result in zip([*TEXTS, "nothing here"], reply.results):
        want = [(s.start, s.end, s.type, s.score) for s in engine.detect(text)]
        assert [(e.start, e.end, e.type, e.score) for e in result.entities] == want
    first = reply.results[0].entities[0]
    assert TEXTS[0][first.start : first.end] == EMAIL  # after "ü" and an astral emoji


def test_mask_then_restore_round_trips_exactly(stub: pb_grpc.PrivacyStub) -> None:
    masked = stub.Mask(pb.MaskRequest(texts=TEXTS))
    assert len(masked.texts) == 2
    for original in ORIGINALS:
        assert all(original not in t for t in masked.texts)
        assert original not in masked.session
    assert dict(masked.counts) == {
        "EMAIL": 2, "PHONE": 1, "CREDIT_CARD": 1, "IBAN": 1, "IP_ADDRESS": 1
    }  # fmt: skip
    restored = stub.Restore(pb.RestoreRequest(session=masked.session, texts=masked.texts))
    assert list(restored.texts) == TEXTS
    # a reply that quotes the doubles differently still restores (the engine's rules)
    answer = masked.texts[0].upper()
    again = stub.Restore(pb.RestoreRequest(session=masked.session, texts=[answer]))
    assert EMAIL.upper() in again.texts[0]


def test_any_replica_with_the_secret_restores_a_token(stub: pb_grpc.PrivacyStub) -> None:
    masked = stub.Mask(pb.MaskRequest(texts=TEXTS))
    replica = SessionTokens(SECRET)  # a fresh process: nothing shared but the secret
    assert {p.original for p in replica.open(masked.session)} == set(ORIGINALS)


def test_restore_stream_equals_restore_for_every_split(stub: pb_grpc.PrivacyStub) -> None:
    masked = stub.Mask(pb.MaskRequest(texts=[f"mail {EMAIL} or {PHONE}."]))
    text, token = masked.texts[0], masked.session
    whole = stub.Restore(pb.RestoreRequest(session=token, texts=[text])).texts[0]
    assert whole == f"mail {EMAIL} or {PHONE}."
    for i in range(len(text) + 1):
        assert "".join(_stream(stub, token, [text[:i], text[i:]])) == whole, i
    double = text.split()[1]  # the email's double
    start = text.index(double)
    for i in range(start + 1, start + len(double)):  # three chunks, the double split twice
        chunks = [text[: start + 1], text[start + 1 : i], text[i:]]
        assert "".join(_stream(stub, token, chunks)) == whole, i
    chars = _stream(stub, token, list(text))  # one character a message
    assert "".join(chars) == whole


def test_restore_stream_without_final_flushes_at_the_end(stub: pb_grpc.PrivacyStub) -> None:
    masked = stub.Mask(pb.MaskRequest(texts=[f"to {EMAIL}"]))
    requests = [pb.RestoreStreamRequest(session=masked.session, text=masked.texts[0])]
    assert "".join(r.text for r in stub.RestoreStream(iter(requests))) == f"to {EMAIL}"


def test_restore_stream_needs_the_token_first(stub: pb_grpc.PrivacyStub) -> None:
    error = _refused(stub.RestoreStream, iter([pb.RestoreStreamRequest(text="hello")]))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_tampered_foreign_expired_and_malformed_tokens_are_refused(
    stub: pb_grpc.PrivacyStub,
) -> None:
    masked = stub.Mask(pb.MaskRequest(texts=TEXTS))
    token = masked.session
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    pairs = SessionTokens(SECRET).open(token)
    foreign = SessionTokens(b"another deployment").seal(pairs)
    expired = SessionTokens(SECRET).seal(pairs, now=0)
    for bad in (tampered, foreign, expired):
        for call, request in (
            (stub.Restore, pb.RestoreRequest(session=bad, texts=masked.texts)),
            (stub.RestoreStream, iter([pb.RestoreStreamRequest(session=bad, text="x")])),
        ):
            assert _refused(call, request).code() is grpc.StatusCode.PERMISSION_DENIED
    for bad in ("", "not a token!", "AAAA", token + "=="):
        error = _refused(stub.Restore, pb.RestoreRequest(session=bad, texts=["x"]))
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_oversized_requests_and_tokens_are_refused(stub: pb_grpc.PrivacyStub) -> None:
    long_text = f"{EMAIL} " * 3000  # 63,000 characters, over max_chars
    many = [EMAIL] * 9  # over max_texts
    for call, request in (
        (stub.Detect, pb.DetectRequest(texts=[long_text])),
        (stub.Mask, pb.MaskRequest(texts=[long_text])),
        (stub.Mask, pb.MaskRequest(texts=many)),
        (stub.Restore, pb.RestoreRequest(session="A" * 5000, texts=["x"])),
        (stub.Restore, pb.RestoreRequest(session="x", texts=[long_text])),
    ):
        error = _refused(call, request)
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, call
    # one Mask whose pairs would not fit in a token of max_token_chars
    distinct = " ".join(f"user{i}@example.org" for i in range(200))
    error = _refused(stub.Mask, pb.MaskRequest(texts=[distinct]))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "@" not in error.details()
    # a stream chunk over the limit, after a valid start
    token = stub.Mask(pb.MaskRequest(texts=[EMAIL])).session
    chunks = [pb.RestoreStreamRequest(session=token), pb.RestoreStreamRequest(text=long_text)]
    assert _refused(stub.RestoreStream, iter(chunks)).code() is grpc.StatusCode.INVALID_ARGUMENT


def test_engine_failure_is_internal_and_quotes_nothing(
    stub: pb_grpc.PrivacyStub,
    served: dict,
    engine: Engine,  # type: ignore[type-arg]
) -> None:
    served["engine"] = _Exploding(engine)
    try:
        for call, request in (
            (stub.Detect, pb.DetectRequest(texts=TEXTS)),
            (stub.Mask, pb.MaskRequest(texts=TEXTS)),
        ):
            error = _refused(call, request)
            assert error.code() is grpc.StatusCode.INTERNAL
            assert "Grüße" not in error.details()
    finally:
        served["engine"] = engine


class _Blocking:
    """An engine whose policy blocks e-mail addresses."""

    def session(self):  # type: ignore[no-untyped-def]
        class Session:
            def mask_many(self, texts: list[str]) -> list[str]:
                raise Blocked({"EMAIL"})

        return Session()


def test_a_policy_block_is_failed_precondition_naming_types_only(
    stub: pb_grpc.PrivacyStub,
    served: dict,
    engine: Engine,  # type: ignore[type-arg]
) -> None:
    served["engine"] = _Blocking()
    try:
        error = _refused(stub.Mask, pb.MaskRequest(texts=TEXTS))
    finally:
        served["engine"] = engine
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "EMAIL" in error.details()


def _cli(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOPPEL_MODEL": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "extproc.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


def test_cli_mask_and_restore_round_trip_through_a_remote_server(
    served: dict,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    remote = f"127.0.0.1:{served['port']}"
    text = TEXTS[0] + "\n" + TEXTS[1] + "\n"
    token_file = tmp_path / "session"
    masked = _cli(["mask", "--remote", remote, "--session-out", str(token_file)], text)
    assert masked.returncode == 0, masked.stderr
    assert masked.stderr == ""
    assert all(o not in masked.stdout for o in ORIGINALS)
    assert token_file.stat().st_mode & 0o077 == 0
    restored = _cli(
        ["restore", "--remote", remote, "--session-file", str(token_file)], masked.stdout
    )
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == text
    # without --session-out the token is the one line on stderr
    masked = _cli(["mask", "--remote", remote], text)
    token = masked.stderr.strip()
    assert masked.returncode == 0 and "\n" not in token
    restored = _cli(["restore", "--remote", remote, "--session", token], masked.stdout)
    assert restored.stdout == text
    # a token that is not ours: exit 1, a reason, no text
    refused = _cli(["restore", "--remote", remote, "--session", "AAAA" * 20], masked.stdout)
    assert refused.returncode == 1
    assert "PERMISSION_DENIED" in refused.stderr or "INVALID_ARGUMENT" in refused.stderr
    assert refused.stdout == ""
    assert all(o not in refused.stderr for o in ORIGINALS)
