"""The item and stock gates: which ERP items (with their pack sizes) and stock figures may be sent.

Both are owned by operations. An item that fails keeps its last good pack size in SparkLayer; a stock row
that fails keeps the last good figure.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

from sparklayer_erp.masterdata.gates.values import is_amount, is_flag, is_whole_number


class ItemsFrame(pa.DataFrameModel):
    """ERP items: what the ERP sells, in which unit, and how many base units make one sale unit."""

    sku: Series[str] = pa.Field(
        unique=True, title="SKU",
        description="The item code (SKU); must be present, used by one item only and equal to the shop's.")
    name: Series[str] = pa.Field(
        title="item name",
        description="The item's name in the ERP.")
    base_unit: Series[str] = pa.Field(
        title="base unit",
        description="The smallest unit the item is counted in (e.g. 'Unit', one bottle). Prices and stock "
                    "are per base unit.")
    sale_unit: Series[str] = pa.Field(
        title="sale unit",
        description="The unit the ERP sells in (e.g. 'Case of 12'); shop orders are converted to it.")
    pack_size: Series[object] = pa.Field(
        coerce=True, title="pack size",
        description="Base units in one sale unit (12 for a case of 12; 1 if sold singly). Buyers must order "
                    "in multiples of it. A whole number, 1 or more.")
    list_price: Series[object] = pa.Field(
        coerce=True, title="list price",
        description="The item's standard price per base unit before tax, exactly as in the ERP. 0 or more.")
    active: Series[object] = pa.Field(
        coerce=True, title="active",
        description="Yes if the item can be sold.")

    @pa.check("sku", "name", "base_unit", "sale_unit", error="must not be blank")
    def not_blank(cls, series: pd.Series) -> pd.Series:
        return series.str.strip().str.len() > 0

    @pa.check("pack_size", element_wise=True, error="must be a whole number, 1 or more")
    def pack_size_whole(cls, value: object) -> bool:
        return is_whole_number(value, minimum=1)

    @pa.check("list_price", element_wise=True, error="must be a number, 0 or more")
    def list_price_amount(cls, value: object) -> bool:
        return is_amount(value, minimum=0)

    @pa.check("active", element_wise=True, error="must be yes or no")
    def yes_no(cls, value: object) -> bool:
        return is_flag(value)

    class Config:
        strict = True


class StockFrame(pa.DataFrameModel):
    """ERP stock per item and warehouse, in base units.

    A negative quantity on hand is accepted (ERPs allow shipping before a receipt is booked): it means
    nothing is available, and publishing 0 is safer than keeping the last, higher, figure in the shop.
    """

    sku: Series[str] = pa.Field(
        title="SKU",
        description="The item code (SKU) the stock figure is for.")
    warehouse_code: Series[str] = pa.Field(
        title="warehouse",
        description="The ERP warehouse code; it is the stock location's external id in SparkLayer.")
    on_hand: Series[object] = pa.Field(
        coerce=True, title="quantity on hand",
        description="Base units physically in the warehouse according to the ERP (may be negative while "
                    "a receipt is not yet booked).")
    reserved: Series[object] = pa.Field(
        coerce=True, title="quantity reserved",
        description="Base units held for confirmed orders the warehouse has not picked yet; 0 or more.")

    @pa.check("sku", "warehouse_code", error="must not be blank")
    def not_blank(cls, series: pd.Series) -> pd.Series:
        return series.str.strip().str.len() > 0

    @pa.check("on_hand", element_wise=True, error="must be a number")
    def on_hand_number(cls, value: object) -> bool:
        return is_amount(value)

    @pa.check("reserved", element_wise=True, error="must be a number, 0 or more")
    def reserved_number(cls, value: object) -> bool:
        return is_amount(value, minimum=0)

    class Config:
        strict = True
        unique = ["sku", "warehouse_code"]
