"""``doppel demo``: one chat request full of personal data through the real gateway in front of
the bundled echo provider; shows what the provider received and what the client got back, and
fails if anything leaked or did not come back exactly."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.request

from engine import build_engine
from extproc.echo_provider import make_server
from extproc.gateway import run_gateway

# Synthetic values, valid for their type (Luhn, mod-97, ...), belonging to nobody.
PERSONAL = {
    "GIVEN_NAME": "Jane",
    "SURNAME": "Doe",
    "EMAIL": "jane.doe@acme-corp.com",
    "PHONE": "+1 415-555-0134",
    "STREET": "1200 Market Street",
    "CITY": "San Francisco",
    "CREDIT_CARD": "4539 1488 0343 6467",
    "IBAN": "DE89 3704 0044 0532 0130 00",
    "SSN": "536-22-8147",
    "IP_ADDRESS": "203.0.113.77",
    "API_KEY": "sk-proj-4fT9xQ2LmZ8vR1cN7bK3wYe6HsJ0pDaU",
}
PROMPT = (
    f"Customer {PERSONAL['GIVEN_NAME']} {PERSONAL['SURNAME']} ({PERSONAL['EMAIL']}, phone "
    f"{PERSONAL['PHONE']}, SSN {PERSONAL['SSN']}), living at {PERSONAL['STREET']}, "
    f"{PERSONAL['CITY']}, asks us to move the refund from card {PERSONAL['CREDIT_CARD']} to IBAN "
    f"{PERSONAL['IBAN']}. The request came from {PERSONAL['IP_ADDRESS']}; our key "
    f"{PERSONAL['API_KEY']} was used. Summarise this in one line."
)


def _post(url: str, body: bytes) -> dict:
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


async def _demo() -> int:
    echo, recorder = make_server("127.0.0.1", 0)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[str] = loop.create_future()
    stop = asyncio.Event()
    gateway = asyncio.create_task(
        run_gateway(
            build_engine(b"doppel-demo-key"),
            upstream=f"http://127.0.0.1:{echo.server_address[1]}",
            port=0,
            on_ready=ready.set_result,
            stop=stop,
        )
    )
    try:
        url = await asyncio.wait_for(ready, 60)
        request = json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
        ).encode()
        answer = await loop.run_in_executor(None, _post, url + "/v1/chat/completions", request)
    finally:
        stop.set()
        await gateway
        echo.shutdown()
    received = json.loads(recorder.all()[0])["messages"][0]["content"]
    returned = answer["choices"][0]["message"]["content"]

    print(f"gateway: {url} -> echo provider\n")
    for title, text in (
        ("client sent", PROMPT),
        ("provider received", received),
        ("client got back", returned),
    ):
        print(f"── {title} " + "─" * (70 - len(title)))
        print(text, "\n")
    print(f"{'type':<12} {'original':<40} {'provider saw it?':<17} restored?")
    failures = 0
    for kind, value in PERSONAL.items():
        leaked = re.search(rf"(?<!\w){re.escape(value)}(?!\w)", received) is not None
        restored = value in returned
        failures += leaked or not restored
        print(
            f"{kind:<12} {value:<40} {'LEAKED' if leaked else 'no':<17} "
            f"{'yes' if restored else 'NO'}"
        )
    exact = returned == PROMPT
    print(f"\nanswer restored byte for byte: {'yes' if exact else 'NO'}")
    if failures or not exact:
        print("DEMO FAILED: personal data leaked or was not restored")
        return 1
    print("no leaks, exact restore")
    return 0


def main() -> int:
    return asyncio.run(_demo())
