"""Test data for the order rules: SparkLayer purchases whose totals are computed the way a shop would."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from sparklayer_erp.domain.orders import ItemInfo, OrderIn, OrderLineIn

D = Decimal
CENT = D("0.01")

ITEMS = {
    "SKU-COLA-S": ItemInfo("SKU-COLA-S", "Unit", 1),
    "SKU-COLA-M": ItemInfo("SKU-COLA-M", "Case of 6", 6),
    "SKU-COLA-L": ItemInfo("SKU-COLA-L", "Case of 12", 12),
    "SKU-COLA-X": ItemInfo("SKU-COLA-X", "Case of 24", 24),
    "SKU-OLD": ItemInfo("SKU-OLD", "Case of 12", 12, active=False),
}


def _r(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def make_order(
    lines: Sequence[tuple[str, int, str]],
    *,
    shipping: str = "0",
    rate: str = "20",
    method: str = "invoice",
    purchase_id: str = "p-1",
    po: str | None = "PO-77",
    tax_per_document: bool = False,
    status: str = "processing",
    currency: str = "GBP",
    **overrides: object,
) -> OrderIn:
    """An order whose totals a shop computed: line net = qty × unit price rounded; tax per line (or per
    document when ``tax_per_document``), half-up. ``overrides`` replace any OrderIn field afterwards."""
    rate_d = D(rate)
    ins = tuple(OrderLineIn(sku, qty, D(unit), _r(qty * D(unit)), rate_d) for sku, qty, unit in lines)
    ship = D(shipping)
    ship_tax = _r(ship * rate_d / 100)
    net = sum((line.line_net for line in ins), D(0)) + ship
    if tax_per_document:
        tax = _r(net * rate_d / 100)
    else:
        tax = sum((_r(line.line_net * rate_d / 100) for line in ins), D(0)) + ship_tax
    order = OrderIn(
        purchase_id=purchase_id, customer_sparklayer_id="cust-uuid-1", payment_method=method, po_number=po,
        currency=currency, lines=ins, shipping_net=ship, shipping_tax=ship_tax, total_net=net, total_tax=tax,
        total_gross=net + tax, status=status, placed_at=None,
    )
    return dataclasses.replace(order, **overrides) if overrides else order


def assert_no_float(value: object, path: str = "value") -> None:
    """Walk dataclasses, mappings and sequences: money must never be a float anywhere."""
    assert not isinstance(value, float), f"float at {path}: {value!r}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_no_float(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            assert_no_float(v, f"{path}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            assert_no_float(v, f"{path}[{i}]")
