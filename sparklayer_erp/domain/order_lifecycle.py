"""Decisions about an order that already has an ERP order: change it, approve it, report its status back.

Cancellations, amendments and status back. The point of no return is the ERP allocating stock to a shipment: before it, the
buyer's cancellation or change in SparkLayer is applied to the ERP order; after it the ERP owns the order,
the integration raises an exception for operations and SparkLayer shows the ERP's status.

``content_hash`` lives here because change detection is its first use; it is the one stable fingerprint
of plain data for the whole project (push hashes, last-applied order lines, status write-backs).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from sparklayer_erp.domain.models import (
    CreditNote,
    ErpItem,
    ErpOrderState,
    ErpOrderStatus,
    PaymentMethod,
    Shipment,
)
from sparklayer_erp.domain.money import to_money
from sparklayer_erp.domain.orders import CANCELLED_STATUS, OrderIn
from sparklayer_erp.domain.record_hash import content_hash
from sparklayer_erp.sparklayer.contract import PURCHASE_STATUSES


# --- fingerprints --------------------------------------------------------------------------------------
def order_lines_hash(order: OrderIn) -> str:
    """Fingerprint of what an amendment can change in the ERP: the lines (SKU, quantity, unit price).

    Line order does not matter; shipping, PO number and totals are not part of it (the ERP port's
    ``amend_order`` replaces lines only).

    Lines of one SKU at one price are summed first: once the ERP ships an order in parts, SparkLayer holds
    each ordered line split over its packages (shipped, cancelled, still incoming), and that is not a change
    by the buyer. (For a purchase with no such repeats the fingerprint is the same as before summing.)
    """
    summed: dict[tuple[str, Decimal | None], int] = {}
    for line in order.lines:
        key = (line.sku, line.unit_net)
        summed[key] = summed.get(key, 0) + line.quantity
    lines = sorted((sku, quantity, unit_net) for (sku, unit_net), quantity in summed.items())
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
class PackageLineOut:
    """What a package holds of one SKU, in SparkLayer's (base) units."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class PackageOut:
    type: str  # contract.PACKAGE_TYPES: "shipment" or "cancellation" here
    reference: str | None
    shipments: tuple[ShipmentOut, ...] = ()
    lines: tuple[PackageLineOut, ...] = ()  # empty: the ERP did not say (or could not be converted)


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
    unit_factors: UnitFactors | None = None,
) -> StatusUpdate:
    """The ERP's truth about an order, in SparkLayer's terms.

    Status: cancelled → "cancelled"; done → "complete"; committed → "shipped" when every live shipment is
    done, "part_shipped" when some are, else "processing"; pending approval or draft → "incoming", or
    "on_hold" when ``held`` (the credit check refused it). Packages: one "shipment" package per shipment
    that left (with carrier, tracking and — given ``unit_factors`` — the lines it carried, in SparkLayer's
    units), and a "cancellation" package: for a cancelled order, or, on an order still going, holding what
    the ERP cancelled of its lines after the point of no return. Accounting files: posted and paid invoices.
    Credit notes raised in the ERP (not those the integration raised for a SparkLayer refund): a refund
    transaction each, and a "return" package with the credited goods when goods came back (status
    "returned" once the order had shipped). Transactions: ERP payments, except for orders paid by card in the shop
    (``payment_method`` UPFRONT), whose payment SparkLayer already holds.
    """
    live = [s for s in erp_status.shipments if s.state != "cancelled"]
    shipped = [s for s in live if s.state == "done"]
    if erp_status.state is ErpOrderState.CANCELLED:
        status = CANCELLED_STATUS
    elif erp_status.state is ErpOrderState.DONE:
        status = "complete"
    elif erp_status.state is ErpOrderState.COMMITTED:
        every_shipment_done = len(shipped) == len(live) and _units_all_shipped(erp_status, shipped, unit_factors)
        status = "processing" if not shipped else "shipped" if every_shipment_done else "part_shipped"
    else:
        status = "on_hold" if held else "incoming"
    assert status in PURCHASE_STATUSES

    packages = [
        PackageOut("shipment", s.number or s.shipment_id,
                   (ShipmentOut(s.number, s.carrier, s.tracking_number, s.shipped_on),),
                   _package_lines(((ln.sku, ln.quantity, ln.unit) for ln in s.lines), unit_factors))
        for s in shipped
    ]
    if erp_status.state is ErpOrderState.CANCELLED:
        packages.append(PackageOut("cancellation", erp_status.number))
    elif erp_status.state in (ErpOrderState.COMMITTED, ErpOrderState.DONE):
        cancelled = _package_lines(((ln.sku, ln.cancelled_quantity, ln.unit) for ln in erp_status.lines
                                    if ln.cancelled_quantity > 0), unit_factors)
        if cancelled:
            packages.append(PackageOut("cancellation", erp_status.number, (), cancelled))
    files = tuple(
        AccountingFileOut(i.number, i.state, i.total, i.amount_due, i.invoice_date, i.due_date)
        for i in erp_status.invoices if i.number and i.state in _INVOICE_STATES_SHOWN
    )
    transactions = () if payment_method is PaymentMethod.UPFRONT else _transactions(erp_status)
    notes = erp_credit_notes(erp_status)
    transactions += tuple(_refund(erp_status, n) for n in notes)
    for note in notes:
        if note.goods_returned:
            packages.append(PackageOut("return", note.number or note.credit_note_id, (), _package_lines(
                ((ln.sku, ln.quantity, ln.unit) for ln in note.lines), unit_factors)))
    if status in ("shipped", "complete") and any(p.type == "return" for p in packages):
        status = "returned"  # goods came back from an order that had left: what SparkLayer calls it too
    return StatusUpdate(
        purchase_id=erp_status.purchase_id,
        status=status,
        internal_id=erp_status.number,
        packages=tuple(packages),
        accounting_files=files,
        transactions=transactions,
        status_changed=status != purchase_raw_status,
    )


UnitFactors = Mapping[tuple[str, str], int]
"""(SKU, ERP unit name) → SparkLayer units in one ERP unit: ("SKU-1", "Case of 12") → 12."""


def unit_factors(items: Iterable[ErpItem]) -> dict[tuple[str, str], int]:
    """Each item's sale unit (its pack size) and base unit (1): the same pack sizes the order sync used to
    turn the buyer's units into ERP units, used backwards."""
    out: dict[tuple[str, str], int] = {}
    for item in items:
        out[(item.sku, item.base_unit)] = 1
        out[(item.sku, item.sale_unit.name)] = item.sale_unit.factor
    return out


def _units_all_shipped(erp_status: ErpOrderStatus, shipped: Sequence[Shipment],
                       factors: UnitFactors | None) -> bool:
    """Whether the shipments that left carry every unit still ordered (ordered less what the ERP cancelled).

    Counting shipments is not enough: an ERP that keeps no open shipment for the rest (NetSuite makes item
    fulfilments only for what leaves) would show every shipment done after the first part. Compared in base
    units per SKU; when a unit's factor or a shipment's lines are not known, the shipments' own states decide
    (``True``), as before."""
    if not factors or not erp_status.lines or any(not s.lines for s in shipped):
        return True
    ordered: dict[str, Decimal] = defaultdict(Decimal)
    for line in erp_status.lines:
        factor = factors.get((line.sku, line.unit))
        if factor is None:
            return True
        ordered[line.sku] += (Decimal(line.quantity) - Decimal(line.cancelled_quantity)) * factor
    sent: dict[str, Decimal] = defaultdict(Decimal)
    for shipment in shipped:
        for item in shipment.lines:
            factor = factors.get((item.sku, item.unit))
            if factor is None:
                return True
            sent[item.sku] += Decimal(item.quantity) * factor
    return all(sent[sku] >= quantity for sku, quantity in ordered.items())


def _package_lines(lines: Iterable[tuple[str, Decimal, str]],
                   factors: UnitFactors | None) -> tuple[PackageLineOut, ...]:
    """ERP (SKU, quantity, unit) → SparkLayer units, summed per SKU. A line whose unit has no known factor, or
    that comes to a fraction of a SparkLayer unit, is left out (its units stay where they were in SparkLayer)
    rather than shown wrong."""
    if not factors:
        return ()
    totals: dict[str, int] = {}
    for sku, quantity, unit in lines:
        factor = factors.get((sku, unit))
        if factor is None:
            continue
        units = Decimal(quantity) * factor
        if units != units.to_integral_value() or units <= 0:
            continue
        totals[sku] = totals.get(sku, 0) + int(units)
    return tuple(PackageLineOut(sku, qty) for sku, qty in sorted(totals.items()))


SHOP_REFUND_PREFIX = "sparklayer-"
"""Start of the reference of every credit note the integration raises for a refund or return recorded in
SparkLayer: such a note is already a refund in the shop, so it is never written back as another one."""

_NOTE_STATES_SHOWN = ("posted", "paid")


def erp_credit_notes(erp_status: ErpOrderStatus) -> tuple[CreditNote, ...]:
    """The order's credit notes that started in the ERP and are booked (posted or paid).

    A note that cancelled its invoice (the ERP's "credit with refund", how an invoiced order is cancelled)
    is the order's cancellation, not money back: that invoice was never paid (a paid one cannot be undone
    that way), so there is nothing to refund in the shop."""
    cancelled = {i.number for i in erp_status.invoices if i.state == "cancelled" and i.number}
    return tuple(n for n in erp_status.credit_notes if n.state in _NOTE_STATES_SHOWN and n.number
                 and not (n.reference or "").startswith(SHOP_REFUND_PREFIX)
                 and n.invoice_number not in cancelled)


def refund_platform_id(note: CreditNote) -> str:
    """The SparkLayer transaction id of an ERP credit note: the same note always upserts the same refund."""
    return f"erp-credit-{note.number or note.credit_note_id}"


def _refund(erp_status: ErpOrderStatus, note: CreditNote) -> TransactionOut:
    return TransactionOut(refund_platform_id(note), "refund", -note.total, note.credit_date,
                          note.invoice_number, note.reason or note.number)


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
