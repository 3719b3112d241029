"""pandera gates for the month-end reconciliation frames (inputs and outputs).

The assets validate the extracted frames with these before calling
``sparklayer_erp.domain.reconciliation.reconcile_month``; a frame that fails is not reconciled (a wrong frame
would give a confidently wrong close). Input money columns are ``int64`` minor units of the row's currency
(``reconciliation.minor_unit_frames`` converts at the edge): a dtype says that, so the gate costs no Python per
row; money columns are never coerced (coercing a ``Decimal`` to an integer would silently drop its cents, and a
float has lost them already). Inputs use ``strict="filter"``: extra columns an adapter adds are dropped, a
missing required one fails, an optional one may be absent. Outputs are strict; their money is ``Decimal``
(figures for people), checked once per distinct value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera import extensions
from pandera.typing.pandas import Series

from sparklayer_erp.domain.models import ErpOrderState
from sparklayer_erp.domain.reconciliation import RECON_CLASSES
from sparklayer_erp.sparklayer.contract import PAYMENT_METHODS, PURCHASE_STATUSES

UtcTimestamp = Annotated[pd.DatetimeTZDtype, "us", "UTC"]
INVOICE_STATES = ("draft", "validated", "posted", "paid", "cancelled")
_CLASSES = [str(c) for c in RECON_CLASSES]
_OWNERS = sorted({str(r.owner) for r in RECON_CLASSES.values()})
_CURRENCY = r"^[A-Za-z]{3}$"


def _per_distinct(series: pd.Series, ok: object) -> pd.Series:
    """``ok(value)`` evaluated once per distinct value (a month repeats values a lot), broadcast back."""
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=False)
    verdict = pd.array([bool(ok(u)) for u in uniques], dtype=bool) if len(uniques) else pd.array([], dtype=bool)
    return pd.Series(verdict.take(codes) if len(codes) else [], index=series.index, dtype=bool)


@extensions.register_check_method()
def money_is_decimal(series: pd.Series) -> pd.Series:
    """Money shown to people must be a finite ``Decimal``, never a float: a dtype cannot say that, so a check
    does (once per distinct value: equal amounts share one object)."""
    return _per_distinct(series, lambda v: type(v) is Decimal and v.is_finite())


@extensions.register_check_method()
def rate_is_decimal(series: pd.Series) -> pd.Series:
    """An exchange rate: a finite positive ``Decimal``, or empty."""
    return _per_distinct(series, lambda v: v is None or (type(v) is Decimal and v.is_finite() and v > 0)
                         or (not isinstance(v, (Decimal, str)) and pd.isna(v)))


def _money(*, nullable: bool = False, description: str = "") -> object:
    return pa.Field(nullable=nullable, description=description, money_is_decimal=())


def _minor(description: str, *, ge: int | None = None) -> object:
    """An input money column: int64 minor units, never coerced."""
    return pa.Field(coerce=False, description=f"int64 minor units of the row's currency; {description}",
                    **({"ge": ge} if ge is not None else {}))


def _rate(description: str) -> object:
    return pa.Field(nullable=True, coerce=False, description=description, rate_is_decimal=())


class _Input(pa.DataFrameModel):
    """Extracted frames: extra columns an adapter adds are dropped, a missing required one fails. Only
    non-money columns are coerced (per field)."""

    class Config:
        strict = "filter"
        coerce = False


def _in(**kwargs: object) -> object:
    return pa.Field(coerce=True, **kwargs)  # type: ignore[arg-type]


class _Output(pa.DataFrameModel):
    """Frames the reconciliation produces: exactly these columns."""

    class Config:
        strict = True


# --- inputs ---------------------------------------------------------------------------------------------------


class SlOrdersSchema(_Input):
    """SparkLayer purchases of type ``order`` (the month's, and possibly others: all count as known ids)."""

    purchase_id: Series[str] = _in(unique=True, str_length={"min_value": 1})
    visible_id: Series[str] = _in(nullable=True)
    account_code: Series[str] = _in(nullable=True, description="ERP account code the customer maps to")
    customer_sparklayer_id: Series[str] = _in(str_length={"min_value": 1})
    payment_method: Series[str] = _in(isin=list(PAYMENT_METHODS))
    placed_at: Series[UtcTimestamp] = _in(description="UTC")
    status: Series[str] = _in(isin=list(PURCHASE_STATUSES))
    total_gross: Series[int] = _minor("order total incl. tax and shipping")
    total_paid: Series[int] = _minor("paid in the shop")
    shipping_gross: Series[int] | None = _minor("required with lines")
    currency: Series[str] | None = _in(nullable=True, str_matches=_CURRENCY,
                                       description="ISO 4217; empty = company currency")
    refunded: Series[int] | None = _minor("refunded in SparkLayer", ge=0)
    company_currency_rate: Series[object] | None = _rate("Decimal: the rate the order was priced at")


class SlLinesSchema(_Input):
    purchase_id: Series[str] = _in(str_length={"min_value": 1})
    sku: Series[str] = _in(str_length={"min_value": 1})
    quantity: Series[int] = _in(ge=0, description="base units")
    line_total_gross: Series[int] = _minor("line total incl. tax")


class ErpOrdersSchema(_Input):
    erp_id: Series[int] = _in(unique=True)
    number: Series[str] = _in(nullable=True)
    purchase_id: Series[str] = _in(nullable=True, description="null: keyed in the ERP by hand")
    account_code: Series[str] = _in(str_length={"min_value": 1})
    state: Series[str] = _in(isin=[str(s) for s in ErpOrderState])
    total: Series[int] = _minor("gross")
    order_date: Series[pa.Date] = _in(nullable=True)
    currency: Series[str] | None = _in(nullable=True, str_matches=_CURRENCY,
                                       description="ISO 4217; empty = company currency")
    company_currency_rate: Series[object] | None = _rate("Decimal: the ERP's rate for the order")
    credited: Series[int] | None = _minor("posted credit notes of the order", ge=0)
    quantity_ordered: Series[int] | None = pa.Field(coerce=False, ge=0, description="base units")
    quantity_shipped: Series[int] | None = pa.Field(coerce=False, ge=0, description="base units")
    shipped_total: Series[int] | None = _minor("value of what has shipped")

    @pa.dataframe_check(error="quantity_ordered, quantity_shipped and shipped_total go together")
    @classmethod
    def shipment_columns_together(cls, df: pd.DataFrame) -> bool:
        present = {"quantity_ordered", "quantity_shipped", "shipped_total"} & set(df.columns)
        return len(present) in (0, 3)


class ErpInvoicesSchema(_Input):
    erp_id: Series[int] = _in(description="the sales order's ERP id")
    number: Series[str] = _in(nullable=True, description="null while draft")
    state: Series[str] = _in(isin=list(INVOICE_STATES))
    total: Series[int] = _minor("invoice total")
    amount_due: Series[int] = _minor("still due today")
    invoice_date: Series[pa.Date] = _in(nullable=True)
    due_date: Series[pa.Date] = _in(nullable=True)

    @pa.dataframe_check(error="posted/paid invoices need a unique number")
    @classmethod
    def numbered_when_counted(cls, df: pd.DataFrame) -> pd.Series:
        counted = df["state"].isin(["posted", "paid"])
        numbers = df["number"].where(counted)
        return ~counted | (numbers.notna() & ~numbers.duplicated(keep=False))


class ErpPaymentsSchema(_Input):
    invoice_number: Series[str] = _in(nullable=True)
    amount: Series[int] = _minor("amount paid")
    paid_on: Series[pa.Date] = _in(nullable=True)


# --- outputs --------------------------------------------------------------------------------------------------


class ReconOrdersSchema(_Output):
    """``ReconResult.orders`` (money: Decimal in the order's currency; ``*_company`` in the company's)."""

    purchase_id: Series[str] = pa.Field(unique=True)
    visible_id: Series[str] = pa.Field(nullable=True)
    placed_at: Series[UtcTimestamp]
    customer_sparklayer_id: Series[str]
    account_code: Series[str] = pa.Field(nullable=True)
    payment_method: Series[str]
    currency: Series[str] = pa.Field(str_matches=_CURRENCY)
    sl_status: Series[str]
    erp_number: Series[str] = pa.Field(nullable=True)
    erp_state: Series[str] = pa.Field(nullable=True)
    erp_account_code: Series[str] = pa.Field(nullable=True)
    invoice_numbers: Series[str] = pa.Field(nullable=True)
    sl_total: Series[object] = _money()
    sl_paid: Series[object] = _money()
    sl_refunded: Series[object] = _money()
    sl_lines_total: Series[object] = _money(nullable=True)
    sl_billable: Series[object] = _money()
    erp_total: Series[object] = _money()
    invoiced: Series[object] = _money()
    erp_paid: Series[object] = _money()
    erp_credited: Series[object] = _money()
    shipped_total: Series[object] = _money()
    outstanding: Series[object] = _money()
    difference: Series[object] = _money()
    company_currency_rate: Series[object] = pa.Field(nullable=True, rate_is_decimal=())
    sl_billable_company: Series[object] = _money()
    erp_total_company: Series[object] = _money()
    due_date: Series[pa.DateTime] = pa.Field(nullable=True)
    days_overdue: Series[int] = pa.Field(ge=0)
    recon_class: Series[str] = pa.Field(isin=_CLASSES)
    explained: Series[bool]
    owner: Series[str] = pa.Field(isin=_OWNERS)
    reason: Series[str] = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        ordered = True


def _adds_up(df: pd.DataFrame, sl: str, erp: str, diff: str) -> pd.Series:
    return pd.Series([s - e == d for s, e, d in zip(df[sl], df[erp], df[diff], strict=True)], index=df.index,
                     dtype=bool)


class _TotalsColumns(_Output):
    orders: Series[int] = pa.Field(ge=0)
    unexplained: Series[int] = pa.Field(ge=0)
    sl_total: Series[object] = _money()
    erp_total: Series[object] = _money()
    difference: Series[object] = _money()

    @pa.dataframe_check(error="difference must equal sl_total - erp_total")
    @classmethod
    def difference_adds_up(cls, df: pd.DataFrame) -> pd.Series:
        return _adds_up(df, "sl_total", "erp_total", "difference")


class ByCustomerSchema(_TotalsColumns):
    customer_sparklayer_id: Series[str] = pa.Field(unique=True)
    account_code: Series[str] = pa.Field(nullable=True)


class ByPaymentMethodSchema(_TotalsColumns):
    payment_method: Series[str] = pa.Field(unique=True)


class ByClassSchema(_TotalsColumns):
    recon_class: Series[str] = pa.Field(unique=True, isin=_CLASSES)
    explained: Series[bool]
    owner: Series[str] = pa.Field(isin=_OWNERS)
    meaning: Series[str]
    action: Series[str]


class ByCurrencySchema(_TotalsColumns):
    """``ReconResult.by_currency``: per order currency, in it and in the company currency."""

    currency: Series[str] = pa.Field(unique=True, str_matches=_CURRENCY)
    sl_total_company: Series[object] = _money()
    erp_total_company: Series[object] = _money()
    difference_company: Series[object] = _money()

    @pa.dataframe_check(error="difference_company must equal sl_total_company - erp_total_company")
    @classmethod
    def company_difference_adds_up(cls, df: pd.DataFrame) -> pd.Series:
        return _adds_up(df, "sl_total_company", "erp_total_company", "difference_company")


class UnknownPurchaseErpOrdersSchema(_Output):
    """``ReconResult.erp_orders_claiming_unknown_purchase``."""

    erp_id: Series[int] = pa.Field(unique=True)
    number: Series[str] = pa.Field(nullable=True)
    purchase_id: Series[str]
    account_code: Series[str]
    state: Series[str]
    order_date: Series[object] = pa.Field(nullable=True)
    currency: Series[str] = pa.Field(str_matches=_CURRENCY)
    total: Series[object] = _money()
    total_company: Series[object] = _money()
    recon_class: Series[str] = pa.Field(isin=_CLASSES)
    owner: Series[str] = pa.Field(isin=_OWNERS)
    reason: Series[str]


INPUT_SCHEMAS = {
    "sl_orders": SlOrdersSchema, "sl_lines": SlLinesSchema, "erp_orders": ErpOrdersSchema,
    "erp_invoices": ErpInvoicesSchema, "erp_payments": ErpPaymentsSchema,
}
OUTPUT_SCHEMAS = {
    "orders": ReconOrdersSchema, "by_customer": ByCustomerSchema, "by_payment_method": ByPaymentMethodSchema,
    "by_class": ByClassSchema, "by_currency": ByCurrencySchema,
    "erp_orders_claiming_unknown_purchase": UnknownPurchaseErpOrdersSchema,
}
