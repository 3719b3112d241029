"""The demo company's master data as the ERP port would return it (what the Tryton adapter also seeds)."""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.demo import demo_data
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


def customers() -> list[ErpCustomer]:
    return [
        ErpCustomer(
            account_code=c.account_code, name=c.name, email=c.email, payment_terms=c.payment_terms,
            payment_terms_days=int(c.payment_terms.split()[1]), credit_limit=c.credit_limit,
            open_balance=Decimal("125.40"), on_credit_hold=c.on_credit_hold, price_level=c.price_level,
            contract_price_list=demo_data.contract_list_code(c.account_code) if c.contract_prices else None,
            currency=demo_data.CURRENCY,
            addresses=(Address(c.name, "1 High Street", c.city, "AB1 2CD", "GB"),),
        )
        for c in demo_data.CUSTOMERS
    ]


def price_lists() -> list[ErpPriceList]:
    levels = [ErpPriceList(lv.code, lv.name, demo_data.CURRENCY, PriceListKind.LEVEL)
              for lv in demo_data.PRICE_LEVELS]
    contracts = [ErpPriceList(demo_data.contract_list_code(c.account_code), f"Contract {c.name}",
                              demo_data.CURRENCY, PriceListKind.CONTRACT, c.account_code)
                 for c in demo_data.CUSTOMERS if c.contract_prices]
    return levels + contracts


def prices() -> list[PriceEntry]:
    out = []
    for lv in demo_data.PRICE_LEVELS:
        for p in demo_data.PRODUCTS:
            out.append(PriceEntry(lv.code, p.sku, 1, (p.list_price * lv.factor).quantize(Decimal("0.0001")),
                                  demo_data.CURRENCY))
            out.append(PriceEntry(lv.code, p.sku, lv.volume_break_units,
                                  (p.list_price * lv.volume_factor).quantize(Decimal("0.0001")),
                                  demo_data.CURRENCY))
    for c in demo_data.CUSTOMERS:
        for sku, price in c.contract_prices.items():
            out.append(PriceEntry(demo_data.contract_list_code(c.account_code), sku, 1, price,
                                  demo_data.CURRENCY))
    return out


def items() -> list[ErpItem]:
    return [ErpItem(p.sku, p.name, "Unit", SaleUnit("Unit" if p.pack_size == 1 else f"Case of {p.pack_size}",
                                                    p.pack_size), p.list_price)
            for p in demo_data.PRODUCTS]


def stock() -> list[StockLevel]:
    return [StockLevel(p.sku, wh, Decimal(qty), Decimal(0)) for p in demo_data.PRODUCTS
            for wh, qty in p.stock.items()]
