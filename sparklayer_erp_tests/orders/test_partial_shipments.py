"""An order the ERP ships in parts, against the real Tryton and the sandbox shop: one SparkLayer package per ERP
shipment (its lines and tracking), ``part_shipped`` until the last one leaves, then ``shipped``; each shipment
written once however often the follow-up runs; a line the ERP cancels after the point of no return shown as
cancelled; and neither the order sync nor the drift monitor taking any of it for a problem."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from sparklayer_erp.domain.drift import DriftConfig, evaluate_drift
from sparklayer_erp.monitoring.watch import MonitorSettings, build_snapshot, utc_now
from sparklayer_erp.orders.followup import PACKAGE_KIND, OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, Outcome, fetch_requested
from sparklayer_erp.sparklayer.models import Purchase
from sparklayer_erp_tests.erp import partial_shipping
from sparklayer_erp_tests.orders.shop import Shop


def _sync(ledger, erp, client, pids):
    return {r.purchase_id: r for r in OrderSync(ledger, erp).run(fetch_requested(client, pids, None)).results}


def _units(purchase: Purchase, package_type: str) -> dict[str, Counter[str]]:
    """Package id → units per SKU, for the packages of one type."""
    return {p.package_id or "": Counter({ln.sku: ln.quantity for ln in p.lines})
            for p in purchase.packages if p.type == package_type}


def _gross(purchase: Purchase) -> Decimal:
    return sum((ln.line_gross or Decimal(0) for p in purchase.packages if p.type != "return" for ln in p.lines),
               Decimal(0))


def _buyer_writes(client, pid: str) -> None:
    """Something on the purchase changes that is not the order (a message), so the next sync re-reads it."""
    client.add_purchase_history("sparklayer", pid, "Where is the rest of my order?", event_type="message",
                                author="buyer")


def _drift_for(client, erp, ledger, pid: str) -> list[str]:
    """The drift findings about this one order, judged two hours on (past every grace period)."""
    later = utc_now() + dt.timedelta(hours=2)
    snapshot = build_snapshot(client, erp, ledger, later,
                              MonitorSettings(lookback=dt.timedelta(days=1), max_purchase_lookups=0))
    assert pid in snapshot.purchase_ids
    return [p.kind for p in evaluate_drift(snapshot.drift, DriftConfig(), later) if p.entity_id == pid]


def test_two_shipments_become_two_packages_part_shipped_then_shipped_each_written_once(
        shop: Shop, ledger, erp, client, wh):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pid = shop.place(buyer, [("SKU-COLA-L", 36), ("SKU-CHOC-L", 24)], "invoice", po="PO-PARTS")
    _sync(ledger, erp, client, [pid])
    erp_id = ledger.get_order_link(pid).erp_order_id
    ordered = shop.purchase(pid)
    followup = OrderFollowup(ledger, erp, client)

    partial_shipping.ship_part(wh, erp_id, {"SKU-COLA-L": 2}, tracking="TRK-PART-1")  # 24 of 36 cans
    followup.write_back_status()
    first = shop.purchase(pid)
    assert first.status == "part_shipped"
    assert first.raw["calculated_fulfilment_status"] == "part_shipped"
    (shipment_1,) = _units(first, "shipment").values()
    assert shipment_1 == Counter({"SKU-COLA-L": 24})
    assert [s.tracking_number for p in first.packages if p.type == "shipment" for s in p.shipments] == ["TRK-PART-1"]
    assert sum(_units(first, "incoming").values(), Counter()) == Counter({"SKU-COLA-L": 12, "SKU-CHOC-L": 24})
    assert first.total == ordered.total and _gross(first) == _gross(ordered)  # the money is split, not changed

    assert not followup.write_back_status().steps  # nothing new in the ERP: nothing written

    partial_shipping.ship_part(wh, erp_id, {"SKU-COLA-L": 1, "SKU-CHOC-L": 2}, tracking="TRK-PART-2")
    followup.write_back_status()
    for _ in range(2):  # re-runs, as the schedule does every two minutes
        OrderFollowup(ledger, erp, client).write_back_status()
    done = shop.purchase(pid)
    assert done.status == "shipped"
    assert done.raw["calculated_fulfilment_status"] == "shipped"
    shipments = _units(done, "shipment")
    assert len(shipments) == 2
    assert sorted(shipments.values(), key=len) == [Counter({"SKU-COLA-L": 24}),
                                                    Counter({"SKU-COLA-L": 12, "SKU-CHOC-L": 24})]
    assert not _units(done, "incoming")  # every unit has left
    tracking = sorted(s.tracking_number for p in done.packages if p.type == "shipment" for s in p.shipments)
    assert tracking == ["TRK-PART-1", "TRK-PART-2"]
    assert done.total == ordered.total

    written = [e.detail["package"] for e in ledger.audit_entries(key=pid, operation="put_package")]
    assert sorted(written) == sorted(shipments)  # each shipment recorded exactly once
    assert {k.split(":", 1)[1] for k in ledger.load_push_hashes(PACKAGE_KIND) if k.startswith(pid)} == set(shipments)

    # The purchase changed in SparkLayer (packages), not the buyer's order: the sync sees no amendment.
    _buyer_writes(client, pid)
    (again,) = _sync(ledger, erp, client, [pid]).values()
    assert again.outcome is Outcome.UNCHANGED
    assert not [e for e in ledger.open_exceptions() if e.entity_id == pid]
    assert _drift_for(client, erp, ledger, pid) == []


def test_a_line_cancelled_in_the_erp_after_the_point_of_no_return_shows_as_cancelled(
        shop: Shop, ledger, erp, client, wh):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pid = shop.place(buyer, [("SKU-PRTZ-L", 36), ("SKU-CRSP-L", 12)], "invoice", po="PO-PART-CANCEL")
    _sync(ledger, erp, client, [pid])
    erp_id = ledger.get_order_link(pid).erp_order_id
    ordered = shop.purchase(pid)
    followup = OrderFollowup(ledger, erp, client)

    partial_shipping.ship_part(wh, erp_id, {"SKU-PRTZ-L": 2}, tracking="TRK-CUT-1")
    followup.write_back_status()
    assert shop.purchase(pid).status == "part_shipped"
    assert _drift_for(client, erp, ledger, pid) == []  # part shipped is not a mismatch

    partial_shipping.cancel_rest(wh, erp_id)  # the warehouse will not send the rest
    (status,) = erp.order_status([erp_id])
    assert {ln.sku: ln.cancelled_quantity for ln in status.lines} == {"SKU-PRTZ-L": 1, "SKU-CRSP-L": 1}
    followup.write_back_status()
    followup.write_back_status()
    cut = shop.purchase(pid)
    assert cut.status == "shipped"  # everything that will leave has left
    assert cut.raw["calculated_fulfilment_status"] == "shipped"
    assert list(_units(cut, "cancellation").values()) == [Counter({"SKU-PRTZ-L": 12, "SKU-CRSP-L": 12})]
    assert list(_units(cut, "shipment").values()) == [Counter({"SKU-PRTZ-L": 24})]
    assert _gross(cut) == _gross(ordered)
    assert cut.total is not None and ordered.total is not None and cut.total < ordered.total  # not charged
    assert len(ledger.audit_entries(key=pid, operation="put_package")) == 2  # the shipment and the cancellation

    _buyer_writes(client, pid)
    (again,) = _sync(ledger, erp, client, [pid]).values()
    assert again.outcome is Outcome.UNCHANGED
    assert _drift_for(client, erp, ledger, pid) == []
