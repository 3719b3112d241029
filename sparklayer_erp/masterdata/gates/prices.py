"""The price gates: which ERP price lists and prices may be sent to SparkLayer.

A price that fails is held back for finance; buyers keep seeing the last good price in SparkLayer until the
ERP is corrected. Prices are exact ``Decimal`` values per *base* unit (one bottle, not one case).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

from sparklayer_erp.domain.masterdata import price_list_slug
from sparklayer_erp.domain.models import PriceListKind
from sparklayer_erp.masterdata.gates.values import CURRENCIES, CURRENCY_ERROR, is_amount, is_whole_number


class PriceListsFrame(pa.DataFrameModel):
    """ERP price lists: the price levels (Trade, Wholesale, …) and each customer's contract list."""

    code: Series[str] = pa.Field(
        unique=True, title="price list code",
        description="The price list's code in the ERP (e.g. TRADE, CONTRACT-C1001). SparkLayer's price list "
                    "id (slug) is made from it, so it must be present and used once.")
    name: Series[str] = pa.Field(
        title="price list name",
        description="The name staff see for the list in SparkLayer.")
    currency: Series[str] = pa.Field(
        title="currency",
        description="The currency every price on the list is in (ISO code such as GBP).")
    kind: Series[str] = pa.Field(
        title="kind",
        description="'level' for a price level shared by many customers, 'contract' for one customer's "
                    "agreed prices.")
    customer_account_code: Series[str] = pa.Field(
        nullable=True, title="contract customer",
        description="For a contract list, the ERP account code of the customer it belongs to.")

    @pa.check("code", "name", error="must not be blank")
    def not_blank(cls, series: pd.Series) -> pd.Series:
        return series.str.strip().str.len() > 0

    @pa.check("currency", error=CURRENCY_ERROR)
    def known_currency(cls, series: pd.Series) -> pd.Series:
        return series.isin(CURRENCIES)

    @pa.check("kind", error="must be 'level' or 'contract'")
    def known_kind(cls, series: pd.Series) -> pd.Series:
        return series.isin([k.value for k in PriceListKind])

    @pa.dataframe_check(error="a contract price list must name the customer account it belongs to")
    def contract_has_customer(cls, df: pd.DataFrame) -> pd.Series:
        return (df["kind"] != PriceListKind.CONTRACT.value) | df["customer_account_code"].notna()

    @pa.dataframe_check(error="another price list code gives the same SparkLayer id (codes differing only in "
                              "upper/lower case or punctuation); rename one of them in the ERP")
    def slug_used_once(cls, df: pd.DataFrame) -> pd.Series:
        slugs = df["code"].map(lambda c: price_list_slug(c) if isinstance(c, str) and c.strip() else None)
        return slugs.isna() | ~slugs.duplicated(keep=False)

    class Config:
        strict = True


class PricesFrame(pa.DataFrameModel):
    """ERP price points: the price per base unit of one SKU on one list, from a minimum quantity up."""

    price_list_code: Series[str] = pa.Field(
        title="price list code",
        description="Code of the ERP price list this price belongs to.")
    sku: Series[str] = pa.Field(
        title="SKU",
        description="The item code (SKU) the price is for; the same code as in the shop.")
    min_quantity: Series[object] = pa.Field(
        coerce=True, title="minimum quantity",
        description="The price applies from this many base units upwards (1 = the normal price; higher "
                    "values are volume breaks). A whole number, 1 or more.")
    unit_price: Series[object] = pa.Field(
        coerce=True, title="unit price",
        description="Price per base unit, before tax, in the list's currency, exactly as in the ERP. "
                    "0 or more.")
    currency: Series[str] = pa.Field(
        title="currency",
        description="Currency of the price (ISO code such as GBP).")

    @pa.check("price_list_code", "sku", error="must not be blank")
    def not_blank(cls, series: pd.Series) -> pd.Series:
        return series.str.strip().str.len() > 0

    @pa.check("min_quantity", element_wise=True, error="must be a whole number, 1 or more")
    def min_quantity_whole(cls, value: object) -> bool:
        return is_whole_number(value, minimum=1)

    @pa.check("unit_price", element_wise=True, error="must be a number, 0 or more")
    def unit_price_amount(cls, value: object) -> bool:
        return is_amount(value, minimum=0)

    @pa.check("currency", error=CURRENCY_ERROR)
    def known_currency(cls, series: pd.Series) -> pd.Series:
        return series.isin(CURRENCIES)

    class Config:
        strict = True
        unique = ["price_list_code", "sku", "min_quantity"]
