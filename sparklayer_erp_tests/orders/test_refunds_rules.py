"""The refund rules without systems: which SparkLayer events become credit notes, returned units in ERP units,
and ERP credit notes in SparkLayer's terms."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sparklayer_erp.domain.models import CreditNote, ErpOrderLine, ErpOrderState, ErpOrderStatus, Invoice
from sparklayer_erp.domain.order_lifecycle import (
    SHOP_REFUND_PREFIX,
    PackageLineOut,
    PackageOut,
    erp_credit_notes,
    status_for_sparklayer,
)
from sparklayer_erp.orders.refunds import ShopRefund, erp_lines, shop_refunds
from sparklayer_erp.sparklayer.models import Package, Purchase, PurchaseLine, Transaction

D = Decimal


def _purchase(*packages: Package) -> Purchase:
    bare = Purchase.from_api({"type": "order", "purchase_identifiers": {"sparklayer": "p-1"},
                              "customer_identifiers": {}, "dates": {}, "packages": [], "currency_code": "GBP"})
    return dataclasses.replace(bare, packages=packages)


def _tx(platform_id: str, total: str, kind: str = "refund", applied: bool = True) -> Transaction:
    return Transaction(platform_id, kind, D(total), "GBP", applied)


def _line(sku: str, qty: int) -> PurchaseLine:
    return PurchaseLine(sku, qty, None, None, None, None, None)


RETURN = Package("return", (_line("A", 12), _line("A", 12), _line("B", 6)), package_id="ret-1")


def test_refund_transactions_are_events_payments_and_our_own_are_not():
    events = shop_refunds(_purchase(), [_tx("RF-1", "-12.00"), _tx("PAY-1", "50", "payment"),
                                        _tx("RF-PENDING", "-3", applied=False), _tx("erp-credit-7", "-9.00")])
    assert events == [ShopRefund("refund:RF-1", "refund RF-1", amount=D("12.00"))]
    assert events[0].reference("p-1") == f"{SHOP_REFUND_PREFIX}refund:p-1:RF-1"


def test_a_return_package_is_an_event_with_its_units_and_marks_refunds_as_goods():
    ours = Package("return", (_line("A", 1),), package_id="erp-return-CN1")  # written back by the integration
    (only,) = shop_refunds(_purchase(RETURN, ours), [])
    assert (only.key, only.units, only.goods_returned, only.is_return) == (
        "return:ret-1", (("A", 24), ("B", 6)), True, True)
    both = shop_refunds(_purchase(RETURN), [_tx("RF-1", "-20.00")])
    assert [(e.key, e.goods_returned) for e in both] == [("return:ret-1", True), ("refund:RF-1", True)]


def test_returned_units_become_erp_lines_in_the_order_units_or_say_why_not():
    status = ErpOrderStatus(7, "SO7", "p-1", "C1", None, ErpOrderState.DONE, True, D(0), D(0), D(0),
                            lines=(ErpOrderLine("A", D(3), "Case of 12", D("9.60")),
                                   ErpOrderLine("B", D(6), "Unit", D("0.50"))))
    factors = {("A", "Case of 12"): 12, ("B", "Unit"): 1}
    assert erp_lines((("A", 24), ("B", 6)), status, factors) == (
        (ErpOrderLine("A", D(2), "Case of 12", D("9.60")), ErpOrderLine("B", D(6), "Unit", D("0.50"))), None)
    assert erp_lines((("A", 5),), status, factors)[1] == "5 units of A is not a whole number of 'Case of 12'"
    assert erp_lines((("Z", 1),), status, factors)[1] == "Z is not on the ERP order"


def _status(*notes: CreditNote, invoices=(Invoice("INV-1", "posted", D("57.60"), D("57.60")),)) -> ErpOrderStatus:
    return ErpOrderStatus(7, "SO7", "p-1", "C1", None, ErpOrderState.COMMITTED, True, D("48"), D("9.60"),
                          D("57.60"), lines=(ErpOrderLine("A", D(3), "Case of 12", D("9.60")),),
                          invoices=invoices, credit_notes=notes)


def _note(number: str, total: str, *, reference=None, state="posted", goods=False, invoice="INV-1",
          lines=()) -> CreditNote:
    return CreditNote(number, D(total), state, dt.date(2026, 3, 9), reference, "Damaged", goods, invoice, lines)


def test_erp_credit_notes_become_refunds_and_returns_but_never_the_shops_own_or_a_cancellation():
    goods = _note("CN-1", "19.20", goods=True, lines=(ErpOrderLine("A", D(1), "Case of 12", D("9.60")),))
    money = _note("CN-2", "5.00")
    status = _status(goods, money, _note("CN-3", "12.00", reference=f"{SHOP_REFUND_PREFIX}refund:p-1:RF-1"),
                     _note("CN-4", "1.00", state="draft"))
    assert [n.number for n in erp_credit_notes(status)] == ["CN-1", "CN-2"]
    update = status_for_sparklayer(status, None, unit_factors={("A", "Case of 12"): 12})
    assert [(t.platform_id, t.type, t.total) for t in update.transactions] == [
        ("erp-credit-CN-1", "refund", D("-19.20")), ("erp-credit-CN-2", "refund", D("-5.00"))]
    assert update.packages == (PackageOut("return", "CN-1", (), (PackageLineOut("A", 12),)),)
    assert update.status == "processing"  # nothing had left: a return does not make it "returned"
    cancelling = _status(_note("CN-9", "57.60", state="paid"), invoices=(Invoice("INV-1", "cancelled", D("57.60"),
                                                                                   D("0")),))
    assert erp_credit_notes(cancelling) == ()
