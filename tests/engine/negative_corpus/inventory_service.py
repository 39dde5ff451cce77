"""Inventory service: reserves stock for orders and publishes events."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

log = logging.getLogger(__name__)

API_VERSION = "2.14.3"
MAX_BATCH = 500
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)
DEFAULT_PORT = 8443
CACHE_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Reservation:
    order_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    reservation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


class InventoryError(RuntimeError):
    """Raised when stock cannot be reserved."""


class Inventory:
    def __init__(self, store: dict[str, int], password_field: str = "password") -> None:
        self._store = store
        self._password_field = password_field
        self._token_cache: dict[str, str] = {}

    def reserve(self, order_id: str, sku: str, quantity: int, price: Decimal) -> Reservation:
        available = self._store.get(sku, 0)
        if quantity <= 0 or quantity > MAX_BATCH:
            raise InventoryError(f"quantity out of range for {sku}: {quantity}")
        if available < quantity:
            raise InventoryError(f"only {available} of {sku} left")
        self._store[sku] = available - quantity
        reservation = Reservation(order_id, sku, quantity, price)
        log.info("reserved %d x %s for order %s", quantity, sku, order_id)
        return reservation

    def checksum(self, payload: bytes) -> str:
        return hashlib.sha256(payload).hexdigest()[:12]

    def token_for(self, name: str) -> str:
        token = self._token_cache.get(name)
        if token is None:
            token = self.checksum(name.encode())
            self._token_cache[name] = token
        return token


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


if __name__ == "__main__":
    inv = Inventory({"SKU-10442-BLK": 40, "SKU-20931-RED": 3})
    r = inv.reserve("ORD-2024-0001873", "SKU-10442-BLK", 2, Decimal("19.99"))
    print(r.reservation_id, r.total, parse_version(API_VERSION))
    print(inv.checksum(b"warehouse-7"), DEFAULT_PORT, CACHE_TTL_SECONDS)
