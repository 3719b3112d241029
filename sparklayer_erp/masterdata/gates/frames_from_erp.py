"""Frames from the ERP port's dataclasses, ready for the gates.

Two promises: every amount stays the exact ``Decimal`` the ERP gave (object columns, never floats), and a
junk value never crashes the builder. An adapter may hand over ``None``, ``"abc"`` or a float where a
number belongs; the row is kept with that value, and the gate then holds it back with a plain reason that
reaches the owner team. Crashing here would instead stop the whole sync for one bad record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

from sparklayer_erp.domain.models import ErpCustomer, ErpItem, ErpPriceList, PriceEntry, StockLevel
from sparklayer_erp.masterdata.gates.values import as_addresses, as_amount, as_flag, as_text, as_whole_number

Getter = Callable[[Any], Any]
_TEXT = "str"


def _attr(name: str) -> Getter:
    return lambda obj: getattr(obj, name, None)


Column = tuple[str, Getter, Callable[[Any], Any], str]  # name, read from the record, normalise, dtype


def _build(records: Iterable[Any], columns: Sequence[Column]) -> pd.DataFrame:
    records = list(records)
    data = {}
    for name, get, normalise, dtype in columns:
        values = [normalise(get(r)) for r in records]
        data[name] = pd.Series(values, dtype=dtype) if dtype == _TEXT else pd.Series(values, dtype=object)
    return pd.DataFrame(data)


_CUSTOMER_COLUMNS = (
    ("account_code", _attr("account_code"), as_text, _TEXT),
    ("name", _attr("name"), as_text, _TEXT),
    ("email", _attr("email"), as_text, _TEXT),
    ("payment_terms", _attr("payment_terms"), as_text, _TEXT),
    ("payment_terms_days", _attr("payment_terms_days"), as_whole_number, object),
    ("credit_limit", _attr("credit_limit"), as_amount, object),
    ("open_balance", _attr("open_balance"), as_amount, object),
    ("on_credit_hold", _attr("on_credit_hold"), as_flag, object),
    ("price_level", _attr("price_level"), as_text, _TEXT),
    ("contract_price_list", _attr("contract_price_list"), as_text, _TEXT),
    ("currency", _attr("currency"), as_text, _TEXT),
    ("addresses", _attr("addresses"), as_addresses, object),
    ("active", _attr("active"), as_flag, object),
)

_PRICE_LIST_COLUMNS = (
    ("code", _attr("code"), as_text, _TEXT),
    ("name", _attr("name"), as_text, _TEXT),
    ("currency", _attr("currency"), as_text, _TEXT),
    ("kind", _attr("kind"), as_text, _TEXT),
    ("customer_account_code", _attr("customer_account_code"), as_text, _TEXT),
)

_PRICE_COLUMNS = (
    ("price_list_code", _attr("price_list_code"), as_text, _TEXT),
    ("sku", _attr("sku"), as_text, _TEXT),
    ("min_quantity", _attr("min_quantity"), as_whole_number, object),
    ("unit_price", _attr("unit_price"), as_amount, object),
    ("currency", _attr("currency"), as_text, _TEXT),
)


def _sale_unit(name: str) -> Getter:
    return lambda item: getattr(getattr(item, "sale_unit", None), name, None)


_ITEM_COLUMNS = (
    ("sku", _attr("sku"), as_text, _TEXT),
    ("name", _attr("name"), as_text, _TEXT),
    ("base_unit", _attr("base_unit"), as_text, _TEXT),
    ("sale_unit", _sale_unit("name"), as_text, _TEXT),
    ("pack_size", _sale_unit("factor"), as_whole_number, object),
    ("list_price", _attr("list_price"), as_amount, object),
    ("active", _attr("active"), as_flag, object),
)

_STOCK_COLUMNS = (
    ("sku", _attr("sku"), as_text, _TEXT),
    ("warehouse_code", _attr("warehouse_code"), as_text, _TEXT),
    ("on_hand", _attr("on_hand"), as_amount, object),
    ("reserved", _attr("reserved"), as_amount, object),
)


def customers_frame(customers: Iterable[ErpCustomer]) -> pd.DataFrame:
    """One row per ERP customer, columns of ``CustomersFrame``."""
    return _build(customers, _CUSTOMER_COLUMNS)


def price_lists_frame(price_lists: Iterable[ErpPriceList]) -> pd.DataFrame:
    """One row per ERP price list, columns of ``PriceListsFrame`` (``kind`` as its text value)."""
    return _build(price_lists, _PRICE_LIST_COLUMNS)


def prices_frame(prices: Iterable[PriceEntry]) -> pd.DataFrame:
    """One row per price point (list, SKU, quantity break), columns of ``PricesFrame``."""
    return _build(prices, _PRICE_COLUMNS)


def items_frame(items: Iterable[ErpItem]) -> pd.DataFrame:
    """One row per ERP item with its sale unit and pack size, columns of ``ItemsFrame``."""
    return _build(items, _ITEM_COLUMNS)


def stock_frame(levels: Iterable[StockLevel]) -> pd.DataFrame:
    """One row per (SKU, warehouse), columns of ``StockFrame``."""
    return _build(levels, _STOCK_COLUMNS)
