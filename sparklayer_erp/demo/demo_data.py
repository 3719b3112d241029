"""The demo company's master data: one source for both the local ERP seed and the SparkLayer sandbox seed.

Deterministic (no randomness at import), so the ERP and the sandbox always agree on customers and SKUs.
Prices are per base unit (a single bottle/pack); pack sizes are the ERP sale unit ("Case of 12" = 12).

The company keeps its books in GBP. One EU trade customer buys in EUR: the ERP holds EUR with a rate to GBP
(``FOREIGN_CURRENCIES``), a EUR price level (``TRADE-EUR``, computed by the ERP from the GBP list prices and
converted at its rate) and the customer's sale currency. Everything else is in GBP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

CURRENCY = "GBP"  # the company's (book) currency
VAT_RATE = Decimal("0.20")
_NS = uuid.UUID("6f1c2f1e-9d7b-4c55-9d55-5a7e1e0f0a11")

# Pack sizes the ERP knows as units of measure ("Case of N"); 1 = sold by the unit.
PACK_SIZES = (1, 6, 12, 24)
WAREHOUSES = (("WH", "Main warehouse"), ("WH2", "North warehouse"))




@dataclass(frozen=True)
class DemoCurrency:
    """A currency the ERP knows besides the company's, with the ERP's rate: ``rate`` units of it buy one GBP."""

    code: str
    name: str
    symbol: str
    rate: Decimal  # per 1 GBP; 1.25 makes 1 EUR = 0.80 GBP exactly, so demo figures are easy to check
    rate_from: str  # ISO date the rate applies from (early, so every order date has a rate)


FOREIGN_CURRENCIES = (DemoCurrency("EUR", "Euro", "€", Decimal("1.25"), "2000-01-01"),)
EURO = FOREIGN_CURRENCIES[0].code


@dataclass(frozen=True)
class DemoLevel:
    code: str
    name: str
    factor: Decimal  # of the list price
    volume_break_units: int  # from this many base units ...
    volume_factor: Decimal  # ... this factor applies instead
    currency: str = CURRENCY  # the currency buyers on this level pay in (the ERP converts at its rate)


PRICE_LEVELS = (
    DemoLevel("TRADE", "Trade", Decimal("0.90"), 120, Decimal("0.85")),
    DemoLevel("WHOLESALE", "Wholesale", Decimal("0.80"), 240, Decimal("0.76")),
    DemoLevel("DISTRIBUTOR", "Distributor", Decimal("0.72"), 480, Decimal("0.70")),
    # EU trade: its own factors (so the ERP's level lines differ from TRADE's), priced in EUR by the ERP.
    DemoLevel("TRADE-EUR", "Trade (EUR)", Decimal("0.88"), 120, Decimal("0.84"), currency=EURO),
)


def level_by_code(code: str) -> DemoLevel:
    return next(lv for lv in PRICE_LEVELS if lv.code == code)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    list_price: Decimal  # per base unit
    pack_size: int
    stock: dict  # warehouse code -> units on hand


_FAMILIES = [
    ("COLA", "Cola 330ml can", "0.80"), ("LEMON", "Sparkling lemonade 330ml", "0.75"),
    ("WATER", "Still water 500ml", "0.50"), ("SPRK", "Sparkling water 500ml", "0.55"),
    ("OJ", "Orange juice 1l", "1.90"), ("AJ", "Apple juice 1l", "1.80"), ("ICET", "Iced tea 500ml", "1.10"),
    ("COFF", "Cold brew coffee 250ml", "1.60"), ("CRSP", "Sea salt crisps 40g", "0.65"),
    ("PRTZ", "Pretzels 60g", "0.95"), ("NUTS", "Salted peanuts 100g", "1.25"),
    ("CHOC", "Milk chocolate bar 45g", "0.85"), ("FLAP", "Oat flapjack 90g", "1.35"),
]


def _products() -> tuple[DemoProduct, ...]:
    out = []
    n = 0
    for fam, name, price in _FAMILIES:
        for variant, pack in zip(("S", "M", "L", "X"), (1, 6, 12, 24), strict=True):
            n += 1
            base = Decimal(price) + Decimal("0.05") * (n % 4)
            out.append(DemoProduct(
                sku=f"SKU-{fam}-{variant}",
                name=f"{name}" + ("" if pack == 1 else f" (case of {pack})"),
                list_price=base,
                pack_size=pack,
                stock={"WH": 2400 + 120 * (n % 7), "WH2": 600 + 48 * (n % 5)},
            ))
    return tuple(out)


PRODUCTS = _products()  # 52 SKUs


@dataclass(frozen=True)
class DemoCustomer:
    account_code: str
    name: str
    email: str
    payment_terms: str  # "Net 30" / "Net 60"
    credit_limit: Decimal | None
    price_level: str
    on_credit_hold: bool
    city: str
    platform_id: str  # the e-commerce platform (Shopify) customer id
    sparklayer_id: str  # SparkLayer customer UUID
    contract_prices: dict  # sku -> unit price (customer contract), empty for most
    currency: str = CURRENCY  # the currency the customer buys in (ERP: the party's sale currency)
    country_code: str = "GB"


_CITIES = ["London", "Leeds", "Bristol", "Glasgow", "Cardiff", "York", "Bath", "Derby"]
_NAMES = [
    "Acme Retail", "Bravo Stores", "Corner Shop Co", "Delta Foods", "Eastside Deli", "Fresh Fields",
    "Green Grocer", "Harbour Cafe", "Island Mart", "Jolly Vending", "Kite Kiosks", "Lakeside Hotel",
    "Market Hall", "Northern Bars", "Oak Tree Pubs", "Pier Amusements", "Quay Catering", "Riverside Gym",
    "Station Snacks", "Town Cinema", "Uptown Offices", "Valley Schools", "Westgate Hostel", "Yard Brewery",
]


def _customers() -> tuple[DemoCustomer, ...]:
    out = []
    for i, name in enumerate(_NAMES):
        code = f"C{1001 + i}"
        level = PRICE_LEVELS[i % 3].code
        contract = {}
        if i in (0, 5, 10):  # three customers with contract prices on a few SKUs
            for p in PRODUCTS[i: i + 5]:
                contract[p.sku] = (p.list_price * Decimal("0.70")).quantize(Decimal("0.0001"))
        out.append(DemoCustomer(
            account_code=code,
            name=name,
            email=f"buyer@{name.lower().replace(' ', '')}.example",
            payment_terms="Net 60" if i % 4 == 3 else "Net 30",
            credit_limit=None if i % 6 == 5 else Decimal(2000 + 1000 * (i % 5)),
            price_level=level,
            on_credit_hold=(code == "C1007"),
            city=_CITIES[i % len(_CITIES)],
            platform_id=str(7_100_000_000 + i),
            sparklayer_id=str(uuid.uuid5(_NS, code)),
            contract_prices=contract,
        ))
    # The EU trade customer: buys in EUR on the EUR trade level; credit limit in GBP (the ERP checks credit
    # in its company currency).
    i = len(_NAMES)
    code = f"C{1001 + i}"
    out.append(DemoCustomer(
        account_code=code, name="Rhein Getraenke GmbH", email="einkauf@rheingetraenke.example",
        payment_terms="Net 30", credit_limit=Decimal(5000), price_level="TRADE-EUR", on_credit_hold=False,
        city="Cologne", platform_id=str(7_100_000_000 + i), sparklayer_id=str(uuid.uuid5(_NS, code)),
        contract_prices={}, currency=EURO, country_code="DE",
    ))
    return tuple(out)


CUSTOMERS = _customers()  # 25 customers, C1007 on credit hold, C1025 buys in EUR
EURO_CUSTOMER = CUSTOMERS[-1]

# A B2B buyer who exists in SparkLayer (and the shop) but not yet in the ERP: their orders must be
# quarantined for sales operations until the ERP account exists and the link appears.
UNLINKED_SPARKLAYER_CUSTOMER = {
    "id": str(uuid.uuid5(_NS, "unlinked")),
    "external_id": "7100009999",
    "email": "buyer@newcomer.example",
    "company_name": "Newcomer Ltd",
    "first_name": "Nia",
    "last_name": "Newcomer",
}


def contract_list_code(account_code: str) -> str:
    return f"CONTRACT-{account_code}"


def customer_by_code(code: str) -> DemoCustomer:
    return next(c for c in CUSTOMERS if c.account_code == code)


def product_by_sku(sku: str) -> DemoProduct:
    return next(p for p in PRODUCTS if p.sku == sku)
