"""The buyer's side of the tests: customers that can order, orders placed through the sandbox's checkout.

The master-data push (another flow) is what normally gives SparkLayer its prices and credit terms; these
tests set just enough by hand: pay-on-account terms on the sandbox customer, and each order's unit prices
taken from the ERP's price for that customer (as if the price push had run), unless a test overrides them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.domain.money import round_unit_price
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.models import Purchase
from sparklayer_erp_tests.erp import warehouse

SITE = {"site_id": "demo-site", "client_id": "demo-client", "client_secret": "demo-secret"}
SANDBOX_CREDIT = 100_000  # SparkLayer-side credit: the ERP's limit is what the tests exercise


@dataclass(frozen=True)
class Buyer:
    account_code: str
    sparklayer_id: str
    platform_id: str
    email: str


class Shop:
    def __init__(self, sandbox: SandboxHandle, client: SparkLayerClient, erp: TrytonErp, admin: TrytonRpc) -> None:
        self.sandbox = sandbox
        self.client = client
        self.erp = erp
        self.admin = admin
        self._on_account: set[str] = set()
        self._items = {i.sku: i for i in erp.list_items()}

    # --- customers --------------------------------------------------------------------------------------------
    def demo(self, code: str) -> Buyer:
        c = demo_data.customer_by_code(code)
        buyer = Buyer(c.account_code, c.sparklayer_id, c.platform_id, c.email)
        self._allow_on_account(buyer)
        return buyer

    def _allow_on_account(self, buyer: Buyer) -> None:
        if buyer.sparklayer_id in self._on_account:
            return
        raw = dict(self.client.get_customer("sparklayer", buyer.sparklayer_id).raw)
        raw["payment_on_account"] = {"credit_limit": SANDBOX_CREDIT, "balance": 0, "currency_code": "GBP",
                                     "net_terms_days": 30}
        raw["group"] = "trade"
        self.client.upsert_customer("sparklayer", buyer.sparklayer_id, raw)
        self._on_account.add(buyer.sparklayer_id)

    def new_customer(self, *, credit_limit: Decimal | None, on_hold: bool = False) -> Buyer:
        """A customer of its own in both systems, so a test controls its credit position."""
        tag = uuid.uuid4().hex[:8]
        code, email, platform_id = f"T-{tag}", f"{tag}@orders-test.example", str(9_000_000_000 + int(tag, 16) % 10**9)
        warehouse.create_customer(self.admin, code, credit_limit=credit_limit, on_hold=on_hold)
        saved = self.client.upsert_customer("email", email, {
            "email": email, "company_name": f"Test {tag}", "external_id": platform_id, "group": "trade",
            "payment_on_account": {"credit_limit": SANDBOX_CREDIT, "balance": 0, "currency_code": "GBP",
                                   "net_terms_days": 30},
            "addresses": [{"external_id": f"a-{tag}", "company_name": f"Test {tag}", "address_line1": "1 High St",
                           "city": "London", "postal_code": "AB1 2CD", "country_code": "GB",
                           "is_default_shipping": True, "is_default_billing": True}],
        })
        buyer = Buyer(code, str(saved.customer.id), platform_id, email)
        self._on_account.add(buyer.sparklayer_id)
        return buyer

    @staticmethod
    def link(ledger: Ledger, buyer: Buyer) -> None:
        """What the master-data customers push records: ERP account ↔ SparkLayer customer."""
        ledger.upsert_customer_link(buyer.account_code, buyer.sparklayer_id, buyer.platform_id, buyer.email)

    # --- prices and orders -----------------------------------------------------------------------------------
    def erp_unit_price(self, account_code: str, sku: str, units: int) -> Decimal:
        """The ERP's price for this customer per base unit (the shop's unit of sale)."""
        item = self._items[sku]
        cases = Decimal(max(1, units // item.pack_size))
        per_case = self.erp.customer_price(account_code, sku, cases, item.sale_unit.name)
        return round_unit_price(per_case / item.pack_size)

    def place(self, buyer: Buyer, lines: Sequence[tuple[str, int]], method: str, *, po: str | None = None,
              prices: Mapping[str, Decimal | str] | None = None, rounding_gap: bool = False) -> str:
        """Check out as ``buyer``; unit prices are the ERP's unless ``prices`` overrides some. Returns the id.

        Refuses lines the ERP would round differently from the shop, unless the test is about that gap."""
        overrides = {sku: str(self.erp_unit_price(buyer.account_code, sku, qty)) for sku, qty in lines}
        overrides.update({k: str(v) for k, v in (prices or {}).items()})
        agrees = rounding_agrees([(Decimal(overrides[sku]), qty) for sku, qty in lines])
        assert agrees or rounding_gap, f"pick other lines: the ERP rounds {lines} at {overrides} differently"
        order = self.sandbox.admin.place_order(buyer.sparklayer_id, list(lines), method,
                                               po_number=po or f"PO-{uuid.uuid4().hex[:6]}",
                                               unit_price_overrides=overrides)
        return str(order["purchase_identifiers"]["sparklayer"])

    def amend(self, buyer: Buyer, purchase_id: str, lines: Sequence[tuple[str, int]]) -> None:
        """The buyer changes the order's lines in SparkLayer (at the ERP's prices)."""
        overrides = {sku: str(self.erp_unit_price(buyer.account_code, sku, qty)) for sku, qty in lines}
        assert rounding_agrees([(Decimal(overrides[sku]), qty) for sku, qty in lines]), f"pick other lines: {lines}"
        self.sandbox.admin.amend_order(purchase_id, list(lines), unit_price_overrides=overrides)

    def cancel(self, purchase_id: str) -> None:
        self.sandbox.admin.cancel_order(purchase_id)

    def purchase(self, purchase_id: str) -> Purchase:
        return self.client.get_purchase("sparklayer", purchase_id)

    # --- the ERP's side -------------------------------------------------------------------------------------
    def erp_order_count(self, purchase_ids: Iterable[str]) -> Counter[str]:
        """How many ERP sales orders carry each purchase id (exactly-once means 1 each)."""
        ids = sorted(set(purchase_ids))
        rows = self.erp.rpc.search_read("sale.sale", [(conv.PURCHASE_ID_FIELD, "in", ids)], [conv.PURCHASE_ID_FIELD])
        return Counter(row[conv.PURCHASE_ID_FIELD] for row in rows)


def rounding_agrees(lines: Iterable[tuple[Decimal, int]], rate: Decimal = Decimal("0.20")) -> bool:
    """Whether Tryton totals these (unit price, quantity) lines to the same cent as SparkLayer.

    Tryton rounds line amounts half-even and tax once per document (its defaults); SparkLayer and the
    domain round half-up per line. They disagree on a half-cent line amount or when per-line tax rounding
    adds up differently. Tests that are not about that gap use lines where both agree.
    """
    cent = Decimal("0.01")
    nets_up = [(p * q).quantize(cent, rounding=ROUND_HALF_UP) for p, q in lines]
    nets_even = [(p * q).quantize(cent, rounding=ROUND_HALF_EVEN) for p, q in lines]
    tax_up = sum((n * rate).quantize(cent, rounding=ROUND_HALF_UP) for n in nets_up)
    tax_doc = (sum(nets_even) * rate).quantize(cent, rounding=ROUND_HALF_EVEN)
    return sum(nets_up) == sum(nets_even) and tax_up == tax_doc
