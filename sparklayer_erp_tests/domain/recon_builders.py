"""Tiny builders for reconciliation input frames: one healthy order by default, change what a test needs.

Rows hold ``Decimal`` money, as an extract builds them from records; ``frames()`` passes them through the
edge (``minor_unit_frames``: integer minor units per currency) and the pandera gates, as the month-end flow
does. Optional columns (currency, rates, refunds, credit notes, shipments) appear only when a test sets them
on some row, so the default frames also cover "absent column = nothing of that kind".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from sparklayer_erp.domain.reconciliation import minor_unit_frames
from sparklayer_erp.month_end.gates import (
    ErpInvoicesSchema,
    ErpOrdersSchema,
    ErpPaymentsSchema,
    SlLinesSchema,
    SlOrdersSchema,
)

MONTH_START = dt.date(2026, 10, 1)
MONTH_END = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 5)

D = Decimal
_UNSET = object()


def _optional(row: dict, **values: object) -> dict:
    row.update({k: v for k, v in values.items() if v is not _UNSET})
    return row


@dataclass
class Frames:
    sl_orders: list[dict] = field(default_factory=list)
    erp_orders: list[dict] = field(default_factory=list)
    erp_invoices: list[dict] = field(default_factory=list)
    erp_payments: list[dict] = field(default_factory=list)
    sl_lines: list[dict] | None = None
    company_currency: str = "GBP"

    def sl(self, pid: str, *, total: str = "120.00", paid: str = "0.00", method: str = "invoice",
           status: str = "processing", account: str | None = "C001", customer: str | None = None,
           placed: str = "2026-10-10T09:00:00Z", shipping: str = "0.00", currency: object = _UNSET,
           refunded: object = _UNSET, rate: object = _UNSET) -> Frames:
        self.sl_orders.append(_optional({
            "purchase_id": pid, "visible_id": f"#{pid}", "account_code": account,
            "customer_sparklayer_id": customer or f"cust-{account or 'none'}", "payment_method": method,
            "placed_at": placed, "status": status, "total_gross": D(total), "total_paid": D(paid),
            "shipping_gross": D(shipping)}, currency=currency,
            refunded=D(refunded) if isinstance(refunded, str) else refunded,
            company_currency_rate=D(rate) if isinstance(rate, str) else rate))
        return self

    def erp(self, erp_id: int, pid: str | None, *, total: str = "120.00", state: str = "committed",
            account: str = "C001", order_date: dt.date | None = dt.date(2026, 10, 10), currency: object = _UNSET,
            rate: object = _UNSET, credited: object = _UNSET, ordered: object = _UNSET, shipped: object = _UNSET,
            shipped_total: object = _UNSET) -> Frames:
        self.erp_orders.append(_optional(
            {"erp_id": erp_id, "number": f"SO{erp_id}", "purchase_id": pid, "account_code": account,
             "state": state, "total": D(total), "order_date": order_date},
            currency=currency, company_currency_rate=D(rate) if isinstance(rate, str) else rate,
            credited=D(credited) if isinstance(credited, str) else credited, quantity_ordered=ordered,
            quantity_shipped=shipped,
            shipped_total=D(shipped_total) if isinstance(shipped_total, str) else shipped_total))
        return self

    def invoice(self, erp_id: int, number: str, *, total: str = "120.00", due: str | None = None,
                state: str = "posted", due_date: dt.date | None = dt.date(2026, 11, 30),
                invoice_date: dt.date | None = dt.date(2026, 10, 12)) -> Frames:
        self.erp_invoices.append({"erp_id": erp_id, "number": number, "state": state, "total": D(total),
                                  "amount_due": D(total if due is None else due),
                                  "invoice_date": invoice_date, "due_date": due_date})
        return self

    def pay(self, invoice: str, amount: str, paid_on: dt.date = dt.date(2026, 10, 20)) -> Frames:
        self.erp_payments.append({"invoice_number": invoice, "amount": D(amount), "paid_on": paid_on})
        return self

    def line(self, pid: str, sku: str, qty: int, total: str) -> Frames:
        if self.sl_lines is None:
            self.sl_lines = []
        self.sl_lines.append({"purchase_id": pid, "sku": sku, "quantity": qty, "line_total_gross": D(total)})
        return self

    def raw(self) -> dict[str, pd.DataFrame]:
        """The frames as built from records (Decimal money), before the edge and the gates."""
        def frame(rows: list[dict], schema) -> pd.DataFrame:
            columns = [c for c in schema.to_schema().columns if any(c in r for r in rows) or
                       schema.to_schema().columns[c].required]
            df = pd.DataFrame(rows, columns=columns)
            for c in ("quantity_ordered", "quantity_shipped"):
                if c in df.columns:
                    df[c] = df[c].fillna(0).astype("int64")
            return df

        out = {"sl_orders": frame(self.sl_orders, SlOrdersSchema),
               "erp_orders": frame(self.erp_orders, ErpOrdersSchema),
               "erp_invoices": frame(self.erp_invoices, ErpInvoicesSchema),
               "erp_payments": frame(self.erp_payments, ErpPaymentsSchema)}
        if self.sl_lines is not None:
            out["sl_lines"] = frame(self.sl_lines, SlLinesSchema)
        return out

    def frames(self) -> dict[str, pd.DataFrame]:
        """Validated frames in minor units, as an asset hands them to ``reconcile_month``."""
        schemas = {"sl_orders": SlOrdersSchema, "erp_orders": ErpOrdersSchema, "erp_invoices": ErpInvoicesSchema,
                   "erp_payments": ErpPaymentsSchema, "sl_lines": SlLinesSchema}
        minor = minor_unit_frames(**self.raw(), company_currency=self.company_currency)
        return {name: schemas[name].validate(frame, lazy=True) for name, frame in minor.items()}
