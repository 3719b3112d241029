"""pandera gates for the month-end reconciliation frames (inputs and outputs).

The assets validate the extracted frames with these before calling
``sparklayer_erp.domain.reconciliation.reconcile_month``; a frame that fails is not reconciled (a wrong frame
would give a confidently wrong close). Money columns must hold ``Decimal`` — never float — which a dtype
cannot say, so a check does. Inputs use ``strict="filter"``: extra columns an adapter adds are dropped, a
missing one fails. Outputs are strict.
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


@extensions.register_check_method()
def money_is_decimal(series: pd.Series) -> pd.Series:
    """Money must be a finite ``Decimal``, never a float: a dtype cannot say that, so a check does."""
    return series.map(lambda v: type(v) is Decimal and v.is_finite())


def _money(*, nullable: bool = False, description: str = "") -> object:
    return pa.Field(nullable=nullable, description=description, money_is_decimal=())


class _Input(pa.DataFrameModel):
    """Extracted frames: extra columns an adapter adds are dropped, a missing one fails."""

    class Config:
        strict = "filter"
        coerce = True


class _Output(pa.DataFrameModel):
    """Frames the reconciliation produces: exactly these columns."""

    class Config:
        strict = True


# --- inputs ---------------------------------------------------------------------------------------------------


class SlOrdersSchema(_Input):
    """SparkLayer purchases of type ``order`` (the month's, and possibly others: all count as known ids)."""

    purchase_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    visible_id: Series[str] = pa.Field(nullable=True)
    account_code: Series[str] = pa.Field(nullable=True, description="ERP account code the customer maps to")
    customer_sparklayer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    payment_method: Series[str] = pa.Field(isin=list(PAYMENT_METHODS))
    placed_at: Series[UtcTimestamp] = pa.Field(description="UTC")
    status: Series[str] = pa.Field(isin=list(PURCHASE_STATUSES))
    total_gross: Series[object] = _money(description="Decimal, order total incl. tax and shipping")
    total_paid: Series[object] = _money(description="Decimal, paid in the shop")
    shipping_gross: Series[object] | None = _money(description="Decimal; required with lines")


class SlLinesSchema(_Input):
    purchase_id: Series[str] = pa.Field(str_length={"min_value": 1})
    sku: Series[str] = pa.Field(str_length={"min_value": 1})
    quantity: Series[int] = pa.Field(ge=0, description="base units")
    line_total_gross: Series[object] = _money(description="Decimal")


class ErpOrdersSchema(_Input):
    erp_id: Series[int] = pa.Field(unique=True)
    number: Series[str] = pa.Field(nullable=True)
    purchase_id: Series[str] = pa.Field(nullable=True, description="null: keyed in the ERP by hand")
    account_code: Series[str] = pa.Field(str_length={"min_value": 1})
    state: Series[str] = pa.Field(isin=[str(s) for s in ErpOrderState])
    total: Series[object] = _money(description="Decimal, gross")
    order_date: Series[pa.Date] = pa.Field(nullable=True)


class ErpInvoicesSchema(_Input):
    erp_id: Series[int] = pa.Field(description="the sales order's ERP id")
    number: Series[str] = pa.Field(nullable=True, description="null while draft")
    state: Series[str] = pa.Field(isin=list(INVOICE_STATES))
    total: Series[object] = _money(description="Decimal")
    amount_due: Series[object] = _money(description="Decimal, still due today")
    invoice_date: Series[pa.Date] = pa.Field(nullable=True)
    due_date: Series[pa.Date] = pa.Field(nullable=True)


    @pa.dataframe_check(error="posted/paid invoices need a unique number")
    @classmethod
    def numbered_when_counted(cls, df: pd.DataFrame) -> pd.Series:
        counted = df["state"].isin(["posted", "paid"])
        numbers = df["number"].where(counted)
        return ~counted | (numbers.notna() & ~numbers.duplicated(keep=False))


class ErpPaymentsSchema(_Input):
    invoice_number: Series[str] = pa.Field(nullable=True)
    amount: Series[object] = _money(description="Decimal")
    paid_on: Series[pa.Date] = pa.Field(nullable=True)


# --- outputs --------------------------------------------------------------------------------------------------


class ReconOrdersSchema(_Output):
    """``ReconResult.orders``."""

    purchase_id: Series[str] = pa.Field(unique=True)
    visible_id: Series[str] = pa.Field(nullable=True)
    placed_at: Series[UtcTimestamp]
    customer_sparklayer_id: Series[str]
    account_code: Series[str] = pa.Field(nullable=True)
    payment_method: Series[str]
    sl_status: Series[str]
    erp_number: Series[str] = pa.Field(nullable=True)
    erp_state: Series[str] = pa.Field(nullable=True)
    erp_account_code: Series[str] = pa.Field(nullable=True)
    invoice_numbers: Series[str] = pa.Field(nullable=True)
    sl_total: Series[object] = _money()
    sl_paid: Series[object] = _money()
    sl_lines_total: Series[object] = _money(nullable=True)
    sl_billable: Series[object] = _money()
    erp_total: Series[object] = _money()
    invoiced: Series[object] = _money()
    erp_paid: Series[object] = _money()
    outstanding: Series[object] = _money()
    difference: Series[object] = _money()
    due_date: Series[pa.DateTime] = pa.Field(nullable=True)
    days_overdue: Series[int] = pa.Field(ge=0)
    recon_class: Series[str] = pa.Field(isin=_CLASSES)
    explained: Series[bool]
    owner: Series[str] = pa.Field(isin=_OWNERS)
    reason: Series[str] = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        ordered = True


class _TotalsColumns(_Output):
    orders: Series[int] = pa.Field(ge=0)
    unexplained: Series[int] = pa.Field(ge=0)
    sl_total: Series[object] = _money()
    erp_total: Series[object] = _money()
    difference: Series[object] = _money()


    @pa.dataframe_check(error="difference must equal sl_total - erp_total")
    @classmethod
    def difference_adds_up(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series([s - e == d for s, e, d in zip(df["sl_total"], df["erp_total"], df["difference"],
                                                        strict=True)], index=df.index)


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


class UnknownPurchaseErpOrdersSchema(_Output):
    """``ReconResult.erp_orders_claiming_unknown_purchase``."""

    erp_id: Series[int] = pa.Field(unique=True)
    number: Series[str] = pa.Field(nullable=True)
    purchase_id: Series[str]
    account_code: Series[str]
    state: Series[str]
    order_date: Series[object] = pa.Field(nullable=True)
    total: Series[object] = _money()
    recon_class: Series[str] = pa.Field(isin=_CLASSES)
    owner: Series[str] = pa.Field(isin=_OWNERS)
    reason: Series[str]


INPUT_SCHEMAS = {
    "sl_orders": SlOrdersSchema, "sl_lines": SlLinesSchema, "erp_orders": ErpOrdersSchema,
    "erp_invoices": ErpInvoicesSchema, "erp_payments": ErpPaymentsSchema,
}
