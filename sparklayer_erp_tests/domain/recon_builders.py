"""Tiny builders for reconciliation input frames: one healthy order by default, change what a test needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

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


@dataclass
class Frames:
    sl_orders: list[dict] = field(default_factory=list)
    erp_orders: list[dict] = field(default_factory=list)
    erp_invoices: list[dict] = field(default_factory=list)
    erp_payments: list[dict] = field(default_factory=list)
    sl_lines: list[dict] | None = None

    def sl(self, pid: str, *, total: str = "120.00", paid: str = "0.00", method: str = "invoice",
           status: str = "processing", account: str | None = "C001", customer: str | None = None,
           placed: str = "2026-10-10T09:00:00Z", shipping: str = "0.00") -> Frames:
        self.sl_orders.append({
            "purchase_id": pid, "visible_id": f"#{pid}", "account_code": account,
            "customer_sparklayer_id": customer or f"cust-{account or 'none'}", "payment_method": method,
            "placed_at": placed, "status": status, "total_gross": D(total), "total_paid": D(paid),
            "shipping_gross": D(shipping)})
        return self

    def erp(self, erp_id: int, pid: str | None, *, total: str = "120.00", state: str = "committed",
            account: str = "C001", order_date: dt.date | None = dt.date(2026, 10, 10)) -> Frames:
        self.erp_orders.append({"erp_id": erp_id, "number": f"SO{erp_id}", "purchase_id": pid,
                                "account_code": account, "state": state, "total": D(total),
                                "order_date": order_date})
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

    def frames(self) -> dict[str, pd.DataFrame]:
        """Validated frames, as an asset hands them to ``reconcile_month``."""
        def frame(rows: list[dict], schema, columns: list[str]) -> pd.DataFrame:
            return schema.validate(pd.DataFrame(rows, columns=columns), lazy=True)

        out = {
            "sl_orders": frame(self.sl_orders, SlOrdersSchema, list(SlOrdersSchema.to_schema().columns)),
            "erp_orders": frame(self.erp_orders, ErpOrdersSchema, list(ErpOrdersSchema.to_schema().columns)),
            "erp_invoices": frame(self.erp_invoices, ErpInvoicesSchema,
                                  list(ErpInvoicesSchema.to_schema().columns)),
            "erp_payments": frame(self.erp_payments, ErpPaymentsSchema,
                                  list(ErpPaymentsSchema.to_schema().columns)),
        }
        if self.sl_lines is not None:
            out["sl_lines"] = frame(self.sl_lines, SlLinesSchema, list(SlLinesSchema.to_schema().columns))
        return out
