"""Decisions about an order that already has an ERP order: change it, approve it, report its status back.

Cancellations, amendments and status back. The point of no return is the ERP allocating stock to a shipment: before it, the
buyer's cancellation or change in SparkLayer is applied to the ERP order; after it the ERP owns the order,
the integration raises an exception for operations and SparkLayer shows the ERP's status.

``content_hash`` lives here because change detection is its first use; it is the one stable fingerprint
of plain data for the whole project (push hashes, last-applied order lines, status write-backs).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from sparklayer_erp.domain.hashing import (
    content_hash,
)
from sparklayer_erp.domain.models import ErpOrderState, ErpOrderStatus, PaymentMethod
from sparklayer_erp.domain.money import to_money
from sparklayer_erp.domain.orders import CANCELLED_STATUS, OrderIn
from sparklayer_erp.sparklayer.contract import PURCHASE_STATUSES


# --- fingerprints --------------------------------------------------------------------------------------
def order_lines_hash(order: OrderIn) -> str:
    """Fingerprint of what an amendment can change in the ERP: the lines (SKU, quantity, unit price).

    Line order does not matter; shipping, PO number and totals are not part of it (the ERP port's
    ``amend_order`` replaces lines only).
    """
    lines = sorted((line.sku, line.quantity, line.unit_net) for line in order.lines)
    return content_hash({"lines": lines})


# --- cancellations and amendments ----------------------------------------------------------------------
class Action(StrEnum):
    NONE = "none"
    CANCEL_IN_ERP = "cancel_in_erp"
    AMEND_IN_ERP = "amend_in_erp"
    RAISE_CANCEL_AFTER_PONR = "raise_cancel_after_point_of_no_return"
    RAISE_AMEND_AFTER_PONR = "raise_amend_after_point_of_no_return"

    @property
    def problem_kind(self) -> str | None:
        """The exception kind to raise for this action (``exception_kinds.KINDS``), if any."""
        return {
            Action.RAISE_CANCEL_AFTER_PONR: "cancel_after_point_of_no_return",
            Action.RAISE_AMEND_AFTER_PONR: "amend_after_point_of_no_return",
        }.get(self)


def decide_change(
    link_state: ErpOrderState,
    sparklayer_status: str,
    sparklayer_lines_hash: str,
    last_applied_hash: str | None,
    erp_point_of_no_return: bool,
) -> Action:
    """What to do about a linked order whose SparkLayer purchase may have been cancelled or changed.

    A cancelled ERP order needs nothing. A completed ERP order is past the point of no return whatever the
    flag says. A cancellation wins over an amendment. ``last_applied_hash`` None means the link predates
    line fingerprints: nothing is known to have changed, so nothing is done (never amend on a guess).
    """
    if link_state is ErpOrderState.CANCELLED:
        return Action.NONE
    past = erp_point_of_no_return or link_state is ErpOrderState.DONE
    if sparklayer_status == CANCELLED_STATUS:
        return Action.RAISE_CANCEL_AFTER_PONR if past else Action.CANCEL_IN_ERP
    if last_applied_hash is not None and sparklayer_lines_hash != last_applied_hash:
        return Action.RAISE_AMEND_AFTER_PONR if past else Action.AMEND_IN_ERP
    return Action.NONE


# --- approval of pay-on-account orders -------------------------------------------------------------------
class Approval(NamedTuple):
    approve: bool
    problem_kind: str | None  # "credit_hold" or "over_credit_limit" when not approved


def approval_decision(
    on_hold: bool, credit_limit: Decimal | None, open_balance: Decimal, order_total: Decimal
) -> Approval:
    """The automatic credit check: approve when the account is not on hold and balance + order ≤ limit.

    ``credit_limit`` None means no limit. ``open_balance`` is what the ERP says is owed, which does not yet
    include this order (a pending-approval order has no ledger impact). A refusal is not final: a person
    can still approve in the ERP, and the check runs again next time.
    """
    if on_hold:
        return Approval(False, "credit_hold")
    if credit_limit is None:
        return Approval(True, None)
    if credit_excess(credit_limit, open_balance, order_total) > 0:
        return Approval(False, "over_credit_limit")
    return Approval(True, None)


def credit_excess(credit_limit: Decimal, open_balance: Decimal, order_total: Decimal) -> Decimal:
    """By how much balance + order goes over the limit (negative: headroom left)."""
    return to_money(open_balance) + to_money(order_total) - to_money(credit_limit)


# --- status back to SparkLayer ------------------------------------------------------------------------
@dataclass(frozen=True)
class ShipmentOut:
    reference: str | None  # ERP shipment number
    carrier: str | None
    tracking_number: str | None
    shipped_at: dt.date | None


@dataclass(frozen=True)
class PackageOut:
    type: str  # contract.PACKAGE_TYPES: "shipment" or "cancellation" here
    reference: str | None
    shipments: tuple[ShipmentOut, ...] = ()


@dataclass(frozen=True)
class AccountingFileOut:
    invoice_number: str  # shown to the buyer (accounting_files[].identifiers.visible)
    state: str
    total: Decimal
    amount_due: Decimal
    invoice_date: dt.date | None
    due_date: dt.date | None
    file_type: str = "invoice"


@dataclass(frozen=True)
class TransactionOut:
    platform_id: str  # stable: the same ERP payment always upserts the same SparkLayer transaction
    type: str  # "payment"
    total: Decimal
    created_at: dt.date | None
    invoice_number: str | None
    reference: str | None
    apply_to_balance: bool = True


@dataclass(frozen=True)
class StatusUpdate:
    """What to write back to the SparkLayer purchase; the client turns it into the full-replace PUT."""

    purchase_id: str | None
    status: str  # one of contract.PURCHASE_STATUSES
    internal_id: str | None  # identifiers.internal = ERP order number
    packages: tuple[PackageOut, ...]
    accounting_files: tuple[AccountingFileOut, ...]
    transactions: tuple[TransactionOut, ...]
    status_changed: bool  # differs from the status SparkLayer shows now

    @property
    def fingerprint(self) -> str:
        """Hash of what would be written (not of ``status_changed``): skip the PUT when it is unchanged."""
        return content_hash({f.name: getattr(self, f.name) for f in fields(self) if f.name != "status_changed"})


_INVOICE_STATES_SHOWN = ("posted", "paid")


def status_for_sparklayer(
    erp_status: ErpOrderStatus,
    purchase_raw_status: str | None,
    *,
    payment_method: PaymentMethod | None = None,
    held: bool = False,
) -> StatusUpdate:
    """The ERP's truth about an order, in SparkLayer's terms.

    Status: cancelled → "cancelled"; done → "complete"; committed → "shipped" when every live shipment is
    done, "part_shipped" when some are, else "processing"; pending approval or draft → "incoming", or
    "on_hold" when ``held`` (the credit check refused it). Packages: one "shipment" package per shipment
    that left (with carrier and tracking), and a "cancellation" package for a cancelled order. Accounting
    files: posted and paid invoices. Transactions: ERP payments, except for orders paid by card in the shop
    (``payment_method`` UPFRONT), whose payment SparkLayer already holds.
    """
    live = [s for s in erp_status.shipments if s.state != "cancelled"]
    shipped = [s for s in live if s.state == "done"]
    if erp_status.state is ErpOrderState.CANCELLED:
        status = CANCELLED_STATUS
    elif erp_status.state is ErpOrderState.DONE:
        status = "complete"
    elif erp_status.state is ErpOrderState.COMMITTED:
        status = "processing" if not shipped else "shipped" if len(shipped) == len(live) else "part_shipped"
    else:
        status = "on_hold" if held else "incoming"
    assert status in PURCHASE_STATUSES

    packages = [
        PackageOut("shipment", s.number, (ShipmentOut(s.number, s.carrier, s.tracking_number, s.shipped_on),))
        for s in shipped
    ]
    if erp_status.state is ErpOrderState.CANCELLED:
        packages.append(PackageOut("cancellation", erp_status.number))
    files = tuple(
        AccountingFileOut(i.number, i.state, i.total, i.amount_due, i.invoice_date, i.due_date)
        for i in erp_status.invoices if i.number and i.state in _INVOICE_STATES_SHOWN
    )
    transactions = () if payment_method is PaymentMethod.UPFRONT else _transactions(erp_status)
    return StatusUpdate(
        purchase_id=erp_status.purchase_id,
        status=status,
        internal_id=erp_status.number,
        packages=tuple(packages),
        accounting_files=files,
        transactions=transactions,
        status_changed=status != purchase_raw_status,
    )


def _transactions(erp_status: ErpOrderStatus) -> tuple[TransactionOut, ...]:
    """One SparkLayer payment transaction per ERP payment, with an id derived from the payment itself so
    that writing back twice upserts instead of adding (identical payments are told apart by occurrence)."""
    seen: Counter[str] = Counter()
    out = []
    for p in erp_status.payments:
        key = content_hash([erp_status.erp_id, p.invoice_number, p.amount, p.paid_on, p.reference])
        seen[key] += 1
        platform_id = f"erp-payment-{key[:24]}-{seen[key]}"
        out.append(TransactionOut(platform_id, "payment", p.amount, p.paid_on, p.invoice_number, p.reference))
    return tuple(out)
