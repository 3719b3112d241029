"""SparkLayer purchases ↔ the domain's order shapes: the mapper between the client's model and the rules.

Two directions, both pure:

- ``order_in(purchase)``: what the buyer ordered, as the domain's ``OrderIn``. Totals are SparkLayer's own
  (line totals + shipping); a missing amount stays ``None`` so translation reports it as invalid data
  instead of guessing a zero.
- ``status_put_body(purchase, update)``: the body of the full-replace PUT that writes the ERP's truth back.
  It starts from the purchase exactly as SparkLayer returned it (``Purchase.raw``) and replaces only what
  the integration owns: ``purchase_identifiers.internal``, ``status``, the packages it wrote (ids starting
  ``erp-``) and the invoice files it wrote. Everything else (addresses, custom fields, metadata, the buyer's
  lines) goes back untouched, because a PUT clears whatever it is not sent.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.money import ZERO, UnknownCurrency, format_amount, round_money
from sparklayer_erp.domain.order_lifecycle import AccountingFileOut, StatusUpdate, TransactionOut
from sparklayer_erp.domain.orders import OrderIn, OrderLineIn
from sparklayer_erp.orders.packages import purchase_packages
from sparklayer_erp.sparklayer.models import JsonDict, Purchase, Transaction, with_changes

InvoiceUrl = Callable[[str], str]
"""Invoice number → the URL SparkLayer shows the buyer for the invoice document."""


# --- SparkLayer → domain ----------------------------------------------------------------------------------


def _sum(values: list[Decimal | None]) -> Decimal | None:
    """Sum of amounts, or None when any is missing (a gap must reach translation as invalid data)."""
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), ZERO)


def order_in(purchase: Purchase) -> OrderIn:
    """The purchase as the domain's ``OrderIn``: base-unit lines, SparkLayer's totals, shipping included.

    ``total_net`` / ``total_tax`` are the sums of SparkLayer's line totals plus shipping;
    ``total_gross`` is SparkLayer's ``calculated_total`` when it sent one (what the buyer saw at checkout).
    """
    lines = tuple(
        OrderLineIn(
            sku=line.sku or "",
            quantity=line.quantity,
            unit_net=line.unit_net,  # type: ignore[arg-type]  # None is reported by translation
            line_net=line.line_net,  # type: ignore[arg-type]
            tax_rate=line.tax_rate,  # type: ignore[arg-type]
        )
        for line in purchase.lines
    )
    shipping_net = purchase.shipping_net if purchase.shipping_net is not None else ZERO
    shipping_tax = purchase.shipping_tax if purchase.shipping_tax is not None else ZERO
    net = _sum([line.line_net for line in purchase.lines])
    tax = _sum([line.line_tax for line in purchase.lines])
    total_net = None if net is None else net + shipping_net
    total_tax = None if tax is None else tax + shipping_tax
    if purchase.total is not None:
        total_gross = purchase.total
    else:
        total_gross = None if total_net is None or total_tax is None else total_net + total_tax
    return OrderIn(
        purchase_id=purchase.sparklayer_id or "",
        customer_sparklayer_id=purchase.customer_identifiers.get("sparklayer"),
        payment_method=purchase.payment_method or "",
        po_number=purchase.customer_reference,
        currency=(purchase.currency or "").upper(),
        lines=lines,
        shipping_net=shipping_net,
        shipping_tax=shipping_tax,
        total_net=total_net,  # type: ignore[arg-type]
        total_tax=total_tax,  # type: ignore[arg-type]
        total_gross=total_gross,  # type: ignore[arg-type]
        status=purchase.status or "",
        placed_at=purchase.placed_at,
    )


def card_payment(transactions: Iterable[Transaction], placed_at: dt.datetime | None) -> tuple[str, dt.date] | None:
    """The checkout card payment SparkLayer holds for a paid-upfront order: (reference, date), or None.

    ``transactions`` come from ``GET …/purchases/{id}/transactions``. The reference is the transaction's
    ``platform_id``: the ERP payment carries it, so recording it twice is recognised as the same payment.
    """
    payments = [t for t in transactions if t.type == "payment" and t.apply_to_balance and t.total > 0]
    if not payments:
        return None
    first = payments[0]
    when = first.created_at or placed_at
    return first.platform_id, (when.date() if when else dt.date.today())


# --- ERP status → SparkLayer -------------------------------------------------------------------------------


def _accounting_files(raw: Mapping[str, Any], files: tuple[AccountingFileOut, ...],
                      invoice_url: InvoiceUrl) -> list[JsonDict]:
    ours = {f.invoice_number for f in files}
    kept = [copy.deepcopy(f) for f in raw.get("accounting_files") or []
            if isinstance(f, Mapping) and (f.get("identifiers") or {}).get("visible") not in ours]
    written = [{"identifiers": {"visible": f.invoice_number},
                "data": {"type": "uri", "uri": invoice_url(f.invoice_number)},
                "file_type": f.file_type} for f in files]
    return kept + written


def status_put_body(purchase: Purchase, update: StatusUpdate, invoice_url: InvoiceUrl) -> JsonDict:
    """The whole purchase for the full-replace PUT, with only the integration's fields changed."""
    raw = purchase.raw
    identifiers = dict(raw.get("purchase_identifiers") or {})
    if update.internal_id:
        identifiers["internal"] = update.internal_id
    return with_changes(
        raw,
        purchase_identifiers=identifiers,
        status=update.status,
        packages=purchase_packages(raw, update),
        accounting_files=_accounting_files(raw, update.accounting_files, invoice_url),
    )


def new_transactions(purchase: Purchase, update: StatusUpdate) -> list[Transaction]:
    """ERP payments SparkLayer does not hold yet (upserted by ``platform_id``, so a repeat is harmless)."""
    held = {t.platform_id for t in purchase.transactions}
    currency = (purchase.currency or "GBP").upper()
    return [_transaction(t, currency) for t in update.transactions if t.platform_id not in held]


def _transaction(t: TransactionOut, currency: str) -> Transaction:
    created = dt.datetime.combine(t.created_at, dt.time(), dt.UTC) if t.created_at else None
    detail = {k: v for k, v in {"source": "erp", "invoice": t.invoice_number, "reference": t.reference}.items()
              if v}
    return Transaction(platform_id=t.platform_id, type=t.type, total=t.total, currency=currency,
                       apply_to_balance=t.apply_to_balance, created_at=created, full_transaction=detail)


def money_text(amount: Decimal | None, currency: str | None) -> str:
    """For people: ``GBP 1,234.50``, ``JPY 1,235``, ``KWD 10.370`` (run metadata tables): rounded to the
    currency's minor unit when it has a known one, else as ``format_amount`` shows it."""
    if amount is None:
        return "—"
    code = (currency or "").upper()
    try:
        text = f"{round_money(amount, code):,}" if code else format_amount(amount)
    except UnknownCurrency:
        text = format_amount(amount)
    return f"{code} {text}".strip()
