"""A thin test double at the ERP edge: the real Tryton port, plus junk rows an ERP could plausibly return.

Everything real still flows (every call goes to the real port); ``JunkPort`` only appends bad records to
the master-data lists, so a test sees the gates hold back the junk while the real rows pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import (
    Address,
    ErpCustomer,
    ErpItem,
    ErpPriceList,
    PriceEntry,
    PriceListKind,
    SaleUnit,
    StockLevel,
)
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.resources import ErpResource


def customer(code: Any, email: Any = "junk@junk.example", **changes: Any) -> ErpCustomer:
    values: dict[str, Any] = dict(
        account_code=code, name=f"Junk {code}", email=email, payment_terms="Net 30", payment_terms_days=30,
        credit_limit=Decimal("1000"), open_balance=Decimal("0"), on_credit_hold=False, price_level="TRADE",
        contract_price_list=None, currency="GBP", addresses=(Address("Junk", "1 Road", "Leeds", "LS1", "GB"),),
    )
    values.update(changes)
    return ErpCustomer(**values)


# Every quarantine rule of the issue, one junk record each (entity id → the rule it breaks).
EVERY_RULE_CUSTOMERS = [
    customer(None, email="nocode@junk.example"),  # missing account code
    customer("JUNK-DUP", email="dup1@junk.example"),  # duplicate account code (both rows held)
    customer("JUNK-DUP", email="dup2@junk.example"),
    customer("JUNK-NOMAIL", email=None),  # no e-mail
    customer("JUNK-GPB", email="gpb@junk.example", currency="GPB"),  # unknown currency
]
EVERY_RULE_PRICE_LISTS = [ErpPriceList("JUNK-LIST", "Junk list", "XXX", PriceListKind.LEVEL)]
EVERY_RULE_PRICES = [
    PriceEntry("TRADE", "JUNK-NEG", 1, Decimal("-1.00"), "GBP"),  # negative price
    PriceEntry("TRADE", "JUNK-NAN", 1, "abc", "GBP"),  # non-numeric price  # type: ignore[arg-type]
    PriceEntry("TRADE", "JUNK-CUR", 1, Decimal("1.00"), "GPB"),  # unknown currency
    PriceEntry("TRADE", None, 1, Decimal("1.00"), "GBP"),  # SKU missing  # type: ignore[arg-type]
]
EVERY_RULE_ITEMS = [
    ErpItem(None, "No SKU", "Unit", SaleUnit("Unit", 1), Decimal("1")),  # type: ignore[arg-type]
    ErpItem("JUNK-SKU-DUP", "Dup 1", "Unit", SaleUnit("Unit", 1), Decimal("1")),  # duplicated SKU
    ErpItem("JUNK-SKU-DUP", "Dup 2", "Unit", SaleUnit("Unit", 1), Decimal("1")),
    ErpItem("JUNK-PACK0", "Pack 0", "Unit", SaleUnit("Case of 0", 0), Decimal("1")),  # pack size < 1
]
EVERY_RULE_STOCK = [StockLevel("JUNK-STOCK", "WH", "n/a", Decimal("0"))]  # type: ignore[arg-type]


def mass_junk_count(real_count: int) -> int:
    """Junk records that make about a third of the extract fail, well over the default 20 % limit."""
    return real_count // 2 + 1


class JunkPort:
    """``ErpPort`` = the real port + the junk of one scenario appended to its master-data answers."""

    def __init__(self, real: ErpPort, scenario: str) -> None:
        self._real = real
        self.scenario = scenario

    def __getattr__(self, name: str) -> Any:  # orders, prices per customer, close(): the real port's
        return getattr(self._real, name)

    def list_customers(self) -> list[ErpCustomer]:
        real = self._real.list_customers()
        extra: list[ErpCustomer] = []
        if self.scenario == "every_rule":
            extra = EVERY_RULE_CUSTOMERS
        elif self.scenario == "mass":  # a broken import: a third of the records lost their e-mail address
            extra = [customer(f"JUNK-MASS-{n:03d}", email=None) for n in range(mass_junk_count(len(real)))]
        elif self.scenario == "ghost_list":  # a valid record pointing at a price level nobody has
            extra = [customer("JUNK-GHOST", email="ghost@junk.example", price_level="GHOST")]
        return [*real, *extra]

    def list_price_lists(self) -> list[ErpPriceList]:
        extra = EVERY_RULE_PRICE_LISTS if self.scenario == "every_rule" else []
        return [*self._real.list_price_lists(), *extra]

    def list_prices(self, quantity_breaks: Sequence[int] = (1,)) -> list[PriceEntry]:
        extra = EVERY_RULE_PRICES if self.scenario == "every_rule" else []
        return [*self._real.list_prices(quantity_breaks), *extra]

    def list_items(self, skus: Sequence[str] | None = None) -> list[ErpItem]:
        extra = EVERY_RULE_ITEMS if self.scenario == "every_rule" else []
        return [*self._real.list_items(skus), *(i for i in extra if skus is None or i.sku in skus)]

    def list_stock(self) -> list[StockLevel]:
        extra = EVERY_RULE_STOCK if self.scenario == "every_rule" else []
        return [*self._real.list_stock(), *extra]


class JunkErpResource(ErpResource):
    """The project's ERP resource, handing out the real port wrapped in ``JunkPort``."""

    scenario: str = "none"

    def port(self) -> ErpPort:
        return JunkPort(super().port(), self.scenario)  # type: ignore[return-value]
