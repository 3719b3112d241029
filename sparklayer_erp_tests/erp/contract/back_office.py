"""The people on the ERP side of a contract test, whatever the ERP: warehouse, finance, credit control.

The port contract tests drive the integration's side only through ``ErpPort``. What the integration must
never do itself but has to react to — allocating stock (the point of no return), shipping with a tracking
number, posting an invoice, a bank payment, a credit hold set by credit control — goes through a
``BackOffice``: one small driver per adapter, acting as ERP staff through that ERP's own API.

Expected values come from ``demo_data`` (every ERP is seeded from it); the few facts that are an ERP's own
words (the names of its units) come from the back office.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from sparklayer_erp.demo import demo_data


class BackOffice(Protocol):
    """ERP staff as seen by the contract suite. ``erp_id`` is ``ErpOrderRef.erp_id`` as the port returned it."""

    name: str  # "tryton", "netsuite": the parameter id
    base_unit: str  # the ERP's name of a single unit (a pack size of 1)

    def unit_name(self, pack_size: int) -> str:
        """The ERP's sale unit for a demo pack size ("Case of 12")."""
        ...

    def allocate(self, erp_id: int) -> None:
        """Reserve stock to the order's shipment (pick it): the point of no return, nothing shipped yet."""
        ...

    def ship(self, erp_id: int, *, tracking: str, partial: bool = False) -> None:
        """Ship the whole order with a carrier tracking number; ``partial``: only its first line."""
        ...

    def invoice(self, erp_id: int) -> list[str]:
        """Bill what the order shipped (finance posts the invoice); returns the invoice numbers."""
        ...

    def pay_by_bank(self, erp_id: int, *, reference: str) -> None:
        """The customer pays every open invoice of the order by bank transfer."""
        ...

    def new_customer(self, code: str, *, credit_limit: Decimal | None) -> None:
        """A fresh trade customer (price level TRADE, Net 30): tests that change a credit position use their own."""
        ...

    def set_credit_limit(self, code: str, limit: Decimal | None) -> None: ...

    def set_credit_hold(self, code: str, on: bool) -> None:
        """Credit control puts the customer on hold (``on``) or releases the hold."""
        ...


# --- facts every seeded ERP shares ----------------------------------------------------------------------------

DEFAULT_WAREHOUSE = demo_data.WAREHOUSES[0][0]
WAREHOUSE_CODES = frozenset(code for code, _ in demo_data.WAREHOUSES)
ON_HOLD = next(c.account_code for c in demo_data.CUSTOMERS if c.on_credit_hold)
CONTRACT_CUSTOMER = next(c for c in demo_data.CUSTOMERS if c.contract_prices)
NO_LIMIT = tuple(c.account_code for c in demo_data.CUSTOMERS if c.credit_limit is None and not c.on_credit_hold)


def level(code: str) -> demo_data.DemoLevel:
    return next(lv for lv in demo_data.PRICE_LEVELS if lv.code == code)


def level_price(level_code: str, sku: str, base_units: int) -> Decimal:
    """The demo price per base unit of a level at a quantity (in base units): the volume factor from its break."""
    lv = level(level_code)
    factor = lv.volume_factor if base_units >= lv.volume_break_units else lv.factor
    return demo_data.product_by_sku(sku).list_price * factor


def customer_with_level(level_code: str, *, contract: bool = False) -> demo_data.DemoCustomer:
    """A demo customer on this price level with (or without) a contract, a limit and no hold."""
    return next(c for c in demo_data.CUSTOMERS if c.price_level == level_code and bool(c.contract_prices) == contract
                and not c.on_credit_hold)


def sku_with_pack(pack_size: int, *, not_in: frozenset[str] = frozenset()) -> str:
    return next(p.sku for p in demo_data.PRODUCTS if p.pack_size == pack_size and p.sku not in not_in)


def taxed(untaxed: Decimal) -> Decimal:
    """The demo company's tax on an untaxed amount, to the cent."""
    return (untaxed * demo_data.VAT_RATE).quantize(Decimal("0.01"))
