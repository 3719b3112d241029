"""The purchase's packages for an order shipped in parts (pure): units per package, money split exactly,
a second write identical to the first, and what nobody in the integration wrote left alone."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sparklayer_erp.domain.order_lifecycle import PackageLineOut, PackageOut, ShipmentOut, StatusUpdate
from sparklayer_erp.orders.packages import purchase_packages

D = Decimal


def _money(value: str) -> dict[str, str]:
    return {"number": value, "currency": "gbp"}


def _line(sku: str, quantity: int, unit: str, net: str, tax: str) -> dict[str, Any]:
    gross = str(D(net) + D(tax))
    return {"identifiers": {"sku": sku}, "name_parent": sku, "quantity": quantity, "unit_total": _money(unit),
            "tax_rate": "20", "line_total": {"total_net": _money(net), "total_tax": _money(tax),
                                             "total_gross": _money(gross)}}


def _raw(*lines: dict[str, Any], extra: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"currency_code": "GBP", "packages": [
        {"identifiers": {"sparklayer_package_id": "pk-incoming"}, "type": "incoming", "line_items": list(lines),
         "shipping_address": {"city": "London"}},
        *extra]}


def _shipment(ref: str, *lines: tuple[str, int]) -> PackageOut:
    return PackageOut("shipment", ref, (ShipmentOut(ref, "DPD", f"TRK-{ref}", dt.date(2026, 3, 2)),),
                      tuple(PackageLineOut(sku, qty) for sku, qty in lines))


def _update(status: str, *packages: PackageOut) -> StatusUpdate:
    return StatusUpdate("p-1", status, "SO1", tuple(packages), (), (), True)


def _units(packages: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    return {p["identifiers"]["sparklayer_package_id"]: Counter(
        {li["identifiers"]["sku"]: li["quantity"] for li in p["line_items"]}) for p in packages}


def _sum(packages: list[dict[str, Any]], sku: str, key: str) -> Decimal:
    return sum((D(li["line_total"][key]["number"]) for p in packages for li in p["line_items"]
                if li["identifiers"]["sku"] == sku), D(0))


ORDER = (_line("A", 36, "0.6840", "24.62", "4.92"), _line("B", 24, "0.72", "17.28", "3.46"))


def test_a_part_shipment_is_its_own_package_and_the_rest_stays_incoming():
    packages = purchase_packages(_raw(*ORDER), _update("part_shipped", _shipment("SH1", ("A", 24))))
    assert _units(packages) == {"pk-incoming": Counter({"A": 12, "B": 24}), "erp-shipment-SH1": Counter({"A": 24})}
    shipped = packages[1]
    assert shipped["shipments"] == [{"carrier": "DPD", "tracking_number": "TRK-SH1",
                                     "shipped_at": "2026-03-02T00:00:00.000000Z"}]
    assert shipped["shipping_address"] == {"city": "London"}
    piece = shipped["line_items"][0]
    assert piece["line_total"]["total_net"] == _money("16.41")  # 24.62 × 24/36, to the cent
    assert piece["unit_total"] == _money("0.6840")
    for key in ("total_net", "total_tax", "total_gross"):
        assert _sum(packages, "A", key) == D(ORDER[0]["line_total"][key]["number"])  # nothing lost or made


def test_the_last_shipment_empties_the_incoming_package_and_writing_again_changes_nothing():
    first = purchase_packages(_raw(*ORDER), _update("part_shipped", _shipment("SH1", ("A", 24))))
    update = _update("shipped", _shipment("SH1", ("A", 24)), _shipment("SH2", ("A", 12), ("B", 24)))
    second = purchase_packages({"packages": first}, update)
    assert _units(second) == {"erp-shipment-SH1": Counter({"A": 24}), "erp-shipment-SH2": Counter({"A": 12, "B": 24})}
    assert purchase_packages({"packages": second}, update) == second  # a re-run replaces, never adds
    for sku, line in (("A", ORDER[0]), ("B", ORDER[1])):
        assert _sum(second, sku, "total_gross") == D(line["line_total"]["total_gross"]["number"])


def test_cancelled_units_get_a_cancellation_package_and_other_packages_are_kept():
    buyer_return = {"identifiers": {"sparklayer_package_id": "ret-1"}, "type": "return", "line_items": []}
    update = _update("shipped", _shipment("SH1", ("A", 24), ("B", 24)),
                     PackageOut("cancellation", "SO1", (), (PackageLineOut("A", 12),)))
    packages = purchase_packages(_raw(*ORDER, extra=(buyer_return,)), update)
    assert _units(packages) == {"erp-shipment-SH1": Counter({"A": 24, "B": 24}),
                                "erp-cancellation-SO1": Counter({"A": 12}), "ret-1": Counter()}


def test_when_the_erp_says_shipped_but_did_not_say_what_left_the_lines_go_with_the_last_shipment():
    update = _update("shipped", PackageOut("shipment", "SH1", ()), PackageOut("shipment", "SH2", ()))
    packages = purchase_packages(_raw(*ORDER), update)
    assert _units(packages) == {"erp-shipment-SH1": Counter(), "erp-shipment-SH2": Counter({"A": 36, "B": 24})}
    processing = purchase_packages(_raw(*ORDER), _update("processing"))
    assert _units(processing) == {"pk-incoming": Counter({"A": 36, "B": 24})}


def test_more_units_than_were_ordered_are_capped():
    packages = purchase_packages(_raw(*ORDER), _update("part_shipped", _shipment("SH1", ("A", 48), ("Z", 5))))
    assert _units(packages) == {"pk-incoming": Counter({"B": 24}), "erp-shipment-SH1": Counter({"A": 36})}


@settings(max_examples=150, deadline=None)
@given(quantity=st.integers(1, 500), cents=st.integers(0, 10**7), data=st.data())
def test_money_split_over_any_shipments_adds_up_to_the_line(quantity: int, cents: int, data: st.DataObject):
    net = D(cents).scaleb(-2)
    tax = (net / 5).quantize(D("0.01"))
    line = _line("A", quantity, "1.00", str(net), str(tax))
    cuts = data.draw(st.lists(st.integers(1, quantity), max_size=4))
    shipments = [_shipment(f"SH{i}", ("A", q)) for i, q in enumerate(cuts)]
    packages = purchase_packages(_raw(line), _update("part_shipped", *shipments))
    assert sum(li["quantity"] for p in packages for li in p["line_items"]) == quantity
    assert _sum(packages, "A", "total_net") == net and _sum(packages, "A", "total_tax") == tax
    assert all(D(li["line_total"]["total_net"]["number"]) >= 0 for p in packages for li in p["line_items"])
    assert purchase_packages({"packages": packages}, _update("part_shipped", *shipments)) == packages
