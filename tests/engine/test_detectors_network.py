"""IP_ADDRESS and MAC_ADDRESS detectors."""

from __future__ import annotations

import pytest

from engine.detectors.network import IpAddressDetector, MacAddressDetector
from tests.engine.test_detectors_helpers import found, values

IP = IpAddressDetector()
MAC = MacAddressDetector()


@pytest.mark.parametrize(
    "text, expected, subtype",
    [
        ("router at 192.168.1.20 is down", "192.168.1.20", "ipv4"),
        ("Login from 86.121.97.248.", "86.121.97.248", "ipv4"),
        ("addr=10.0.0.5:8080", "10.0.0.5", "ipv4"),
        ("v6 2001:db8::8a2e:370:7334 failed", "2001:db8::8a2e:370:7334", "ipv6"),
        (
            "full 2a00:1450:4001:0829:0000:0000:0000:200e",
            "2a00:1450:4001:0829:0000:0000:0000:200e",
            "ipv6",
        ),
        ("mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128", "ipv6"),
    ],
)
def test_ip_found(text: str, expected: str, subtype: str) -> None:
    assert found(IP, text) == [(expected, subtype)]


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4 is out",
        "upgrade to v1.2.3.4",
        "build: 4.18.2.1",
        "listen on 0.0.0.0 and 127.0.0.1, mask 255.255.255.0",
        "bad 256.1.1.1 and 01.02.03.04",
        "OID 1.3.6.1.4.1.311",
        "time 10:30:00 and C++ std::vector, Foo::bar, dead::beef",
        "loopback ::1 and fe80::1",
        "semver 2.14.3 and 10.0.19041.1",
    ],
)
def test_ip_not_found(text: str) -> None:
    assert values(IP, text) == []


@pytest.mark.parametrize(
    "text, expected, subtype",
    [
        ("eth0 00:1A:2B:3C:4D:5E up", "00:1A:2B:3C:4D:5E", "colon"),
        ("nic 00-1a-2b-3c-4d-5e", "00-1a-2b-3c-4d-5e", "dash"),
        ("cisco 001a.2b3c.4d5e", "001a.2b3c.4d5e", "dot"),
    ],
)
def test_mac_found(text: str, expected: str, subtype: str) -> None:
    assert found(MAC, text) == [(expected, subtype)]


@pytest.mark.parametrize(
    "text",
    [
        "broadcast ff:ff:ff:ff:ff:ff and 00:00:00:00:00:00",
        "mixed 00:1a-2b:3c-4d:5e",
        "time 12:34:56 and 1234.5678.9012",
        "ipv6 2001:db8:0:0:1:0:0:1",
    ],
)
def test_mac_not_found(text: str) -> None:
    assert values(MAC, text) == []
