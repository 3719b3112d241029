"""The demo's back office: its choices are deterministic, and against the real Tryton and the sandbox shop its
staff ship in two parts, invoice, credit returned goods and refund in the shop, so the demo shows them all."""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sparklayer_erp.demo.back_office import (
    PARTS_EVERY,
    REFUND_EVERY,
    RETURN_EVERY,
    BackOffice,
    ErpOrder,
    NetSuiteEmulatorStaff,
    ShopAdmin,
    TrytonStaff,
    first_part,
    refund_amount,
    refunds_paid_order,
    returned_goods,
    staff_plan,
    start_back_office,
)
from sparklayer_erp.demo.bootstrap import netsuite_environment
from sparklayer_erp.domain.order_lifecycle import SHOP_REFUND_PREFIX
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.refunds import RefundSync
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp.resources import erp_resource_from_settings
from sparklayer_erp_tests import fixtures_erp
from sparklayer_erp_tests.orders.shop import Shop

erp_server = fixtures_erp.erp_server
erp = fixtures_erp.erp
admin_rpc = fixtures_erp.admin_rpc
sandbox = fixtures_erp.sandbox
client = fixtures_erp.client
shop = fixtures_erp.shop


# --- the choices -------------------------------------------------------------------------------------------------


def _choices(seed: int) -> list:
    rng = random.Random(seed)
    moves = [(1, Decimal(3)), (2, Decimal(1)), (3, Decimal(4))]
    return [(first_part(moves, rng), returned_goods(moves, rng), refund_amount(Decimal("123.45"), rng))
            for _ in range(20)]


def test_the_same_seed_makes_the_same_choices_and_another_seed_others():
    assert _choices(11) == _choices(11)
    assert _choices(11) != _choices(12)


def test_the_mix_ships_some_orders_in_parts_returns_some_and_refunds_some_paid_ones():
    plans = [staff_plan(k) for k in range(30)]
    assert sum(p.in_parts for p in plans) == 30 // PARTS_EVERY
    assert sum(p.goods_return for p in plans) == 30 // RETURN_EVERY
    assert plans[0].in_parts and plans[1].goods_return  # the first orders of a demo already show both
    assert [j for j in range(10) if refunds_paid_order(j)] == list(range(0, 10, REFUND_EVERY))


@pytest.mark.parametrize("seed", range(30))
def test_a_first_part_ships_something_and_leaves_something(seed):
    rng = random.Random(seed)
    moves = [(10 + i, Decimal(rng.randint(1, 4))) for i in range(rng.randint(1, 3))]
    part = first_part(moves, rng)
    if part is None:
        assert moves == [(10, Decimal(1))]
        return
    assert set(part) == {m for m, _ in moves}
    ordered = dict(moves)
    assert all(0 <= part[m] <= ordered[m] and part[m] == int(part[m]) for m in part)
    assert 0 < sum(part.values()) < sum(ordered.values())


def test_a_single_unit_cannot_be_split():
    assert first_part([(1, Decimal(1))], random.Random(1)) is None


@pytest.mark.parametrize("seed", range(20))
def test_returns_and_refunds_are_partial_and_exact(seed):
    rng = random.Random(seed)
    line, quantity = returned_goods([(1, Decimal(1)), (2, Decimal(6))], rng)
    assert (line == 1 and quantity == 1) or (line == 2 and 1 <= quantity <= 3)
    paid = Decimal(rng.randint(1, 100_000)) / 100
    refund = refund_amount(paid, rng)
    assert refund == refund.quantize(Decimal("0.01")) and Decimal("0.01") <= refund <= paid
    assert refund <= paid * Decimal("0.3") + Decimal("0.01")


class _PaperErp:
    """The ERP's orders on paper (unit tests): lines to ship, shipments made, invoices booked, notes raised."""

    def __init__(self, orders: int) -> None:
        self.left = {n: {1: Decimal(3), 2: Decimal(2)} for n in range(1, orders + 1)}
        self.shipped: dict[int, list[dict[int, Decimal]]] = {n: [] for n in self.left}
        self.booked: set[int] = set()
        self.credited: dict[int, tuple[int, Decimal]] = {}

    def orders(self, skip=(), only=None, since=None) -> list[ErpOrder]:
        return [ErpOrder(n, f"SO{n}", f"p-{n}", n if any(left.values()) else None, len(self.shipped[n]),
                         (n,) if not any(left.values()) and n not in self.booked else (),
                         (n,) if n in self.booked else (), n in self.credited)
                for n, left in self.left.items() if n not in skip]

    def lines_to_ship(self, n: int) -> list[tuple[int, Decimal]]:
        return [(line, qty) for line, qty in self.left[n].items() if qty > 0]

    def ship(self, n: int, tracking: str, quantities=None) -> bool:
        taken = dict(quantities) if quantities else dict(self.left[n])
        self.left[n] = {line: qty - taken.get(line, Decimal(0)) for line, qty in self.left[n].items()}
        self.shipped[n].append(taken)
        return True

    def book(self, ids) -> None:
        self.booked.update(ids)

    def credit_returned_goods(self, n: int, rng: random.Random, reason: str) -> str:
        self.credited[n] = returned_goods([(1, Decimal(3)), (2, Decimal(2))], rng)
        return f"CN{n}"

    def close(self) -> None:
        pass


def _run_back_office(seed: int, steps: int = 6) -> tuple[_PaperErp, list[tuple[str, str]]]:
    paper = _PaperErp(12)
    office = BackOffice(paper, settle_s=0, part_gap_s=0, seed=seed, clock=lambda: 0.0)
    for _ in range(steps):
        office.step()
    return paper, office.actions


def test_the_back_office_does_the_same_with_the_same_seed():
    first, actions = _run_back_office(5)
    again, actions_again = _run_back_office(5)
    assert actions == actions_again and first.shipped == again.shipped and first.credited == again.credited
    other, _ = _run_back_office(6)
    assert other.shipped != first.shipped or other.credited != first.credited


def test_every_order_ships_in_full_is_invoiced_and_some_come_back():
    paper, actions = _run_back_office(5)
    assert all(not any(left.values()) for left in paper.left.values())
    assert paper.booked == set(paper.left)
    assert [n for n, ships in paper.shipped.items() if len(ships) == 2] == [1, 4, 7, 10]  # every PARTS_EVERY-th
    assert sorted(paper.credited) == [2, 7, 12]  # every RETURN_EVERY-th
    assert len(actions) == sum(len(s) for s in paper.shipped.values()) + len(paper.booked) + len(paper.credited)


def test_the_second_part_waits_its_time():
    paper = _PaperErp(1)
    now = [0.0]
    office = BackOffice(paper, settle_s=10, part_gap_s=30, clock=lambda: now[0])
    for at in (0.0, 5.0, 10.0, 20.0, 39.0):
        now[0] = at
        office.step()
    assert len(paper.shipped[1]) == 1  # settled at 10 s, first part then; the rest not before 40 s
    now[0] = 40.0
    office.step()
    assert len(paper.shipped[1]) == 2


def test_without_an_erp_the_back_office_says_so_and_does_not_start(caplog):
    caplog.set_level(logging.INFO, logger="sparklayer_erp.demo.back_office")
    assert start_back_office(object()) is None
    assert "nobody ships" in caplog.text


# --- against the real Tryton and the sandbox ---------------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    store = Ledger.from_url(f"sqlite:///{tmp_path}/ledger-{uuid.uuid4().hex[:6]}.sqlite")
    yield store
    store.close()


@pytest.mark.tryton
def test_the_back_office_ships_in_parts_credits_a_return_and_refunds_a_paid_order(
        shop: Shop, ledger, erp, client, sandbox, erp_server, request):
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    tag = uuid.uuid4().hex[:6]
    parts = shop.place(buyer, [("SKU-COLA-L", 36), ("SKU-CHOC-L", 24)], "invoice", po=f"PO-BO-PARTS-{tag}")
    returned = shop.place(buyer, [("SKU-PRTZ-L", 36), ("SKU-CRSP-L", 12)], "invoice", po=f"PO-BO-RETURN-{tag}")
    paid = shop.place(buyer, [("SKU-COLA-L", 24)], "platform_upfront", po=f"PO-BO-CARD-{tag}")
    pids = [parts, returned, paid]
    OrderSync(ledger, erp).run(fetch_requested(client, pids, None))
    erp_ids = {pid: ledger.get_order_link(pid).erp_order_id for pid in pids}
    assert all(erp_ids.values())

    office = BackOffice(TrytonStaff.local_admin(erp_server.url, erp_server.db_name), ShopAdmin(sandbox.sandbox),
                        settle_s=0, part_gap_s=0, seed=3, since=started, only=pids)
    request.addfinalizer(office.staff.close)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert office.staff.orders(only=pids, since=later) == []  # orders from before the demo started: not ours
    followup = OrderFollowup(ledger, erp, client)
    statuses = []
    for _ in range(4):
        office.step()
        followup.write_back_status()
        statuses.append(shop.purchase(parts).status)
    assert [plan.in_parts for plan in (office.tracks[erp_ids[pid]].plan for pid in pids)] == [True, False, False]

    # shipped in two parts: part_shipped, then shipped, one package per ERP shipment with its tracking number
    assert statuses[:2] == ["part_shipped", "shipped"] and statuses[-1] == "shipped"
    number = erp.order_status([erp_ids[parts]])[0].number
    shipped = shop.purchase(parts)
    tracking = sorted(s.tracking_number for p in shipped.packages if p.type == "shipment" for s in p.shipments)
    assert tracking == [f"TRK-{number}-1", f"TRK-{number}-2"]
    assert (number, "invoiced") in office.actions

    # goods returned: an ERP credit note marked so, shown in the shop as a refund and a return package
    (status,) = erp.order_status([erp_ids[returned]])
    (note,) = status.credit_notes
    assert note.goods_returned and note.state == "posted" and 0 < note.total < status.total
    back = shop.purchase(returned)
    assert [p for p in back.packages if p.type == "return"]
    assert [t.total for t in client.get_transactions("sparklayer", returned) if t.type == "refund"] == [-note.total]

    # the paid order is partly refunded in the shop; the follow-up's refund step credits it in the ERP
    (refund,) = [t for t in client.get_transactions("sparklayer", paid) if t.type == "refund"]
    assert Decimal(0) > refund.total > -shop.purchase(paid).total
    RefundSync(ledger, erp, client).run([paid])
    (card_note,) = erp.order_status([erp_ids[paid]])[0].credit_notes
    assert card_note.total == -refund.total
    assert card_note.reference == f"{SHOP_REFUND_PREFIX}refund:{paid}:{refund.platform_id}"

    before = list(office.actions)
    office.step()  # everything done: another step changes nothing
    assert office.actions == before


@pytest.fixture(scope="module")
def netsuite_erp(netsuite_emulator) -> Iterator[Any]:
    """The integration's NetSuite adapter on the session's emulator, built as a deployment builds it."""
    with closing(erp_resource_from_settings(netsuite_environment(netsuite_emulator.settings("oauth2"))).port()) as port:
        yield port


def test_on_the_netsuite_emulator_the_back_office_ships_in_parts_bills_and_credits_a_return(
        netsuite_emulator, netsuite_erp, sandbox, client, ledger, request):
    shop = Shop(sandbox, client, netsuite_erp, admin=None)  # type: ignore[arg-type]
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    tag = uuid.uuid4().hex[:6]
    parts = shop.place(buyer, [("SKU-COLA-L", 36), ("SKU-CHOC-L", 24)], "invoice", po=f"PO-NS-PARTS-{tag}")
    returned = shop.place(buyer, [("SKU-PRTZ-L", 36), ("SKU-CRSP-L", 12)], "invoice", po=f"PO-NS-RETURN-{tag}")
    pids = [parts, returned]
    OrderSync(ledger, netsuite_erp).run(fetch_requested(client, pids, None))
    erp_ids = {pid: ledger.get_order_link(pid).erp_order_id for pid in pids}
    assert all(erp_ids.values())

    office = BackOffice(NetSuiteEmulatorStaff.on(netsuite_emulator.base_url), ShopAdmin(sandbox.sandbox),
                        settle_s=0, part_gap_s=0, seed=3, since=dt.datetime.now(dt.UTC), only=pids)
    request.addfinalizer(office.staff.close)
    assert office.staff.orders(only=pids, since=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)) == []
    followup = OrderFollowup(ledger, netsuite_erp, client)
    packages, statuses = [], []
    for _ in range(4):
        office.step()
        followup.write_back_status()
        packages.append(sorted(s.tracking_number for p in shop.purchase(parts).packages if p.type == "shipment"
                               for s in p.shipments))
        statuses.append(shop.purchase(parts).status)

    number = netsuite_erp.order_status([erp_ids[parts]])[0].number
    assert packages[0] == [f"TRK-{number}-1"]  # one fulfilment with part of the order, then the rest
    assert packages[1] == packages[-1] == [f"TRK-{number}-1", f"TRK-{number}-2"]
    # NetSuite keeps no open fulfilment for the rest: part_shipped comes from the units still to ship
    assert statuses[0] == "part_shipped" and statuses[-1] == "shipped"
    (status,) = netsuite_erp.order_status([erp_ids[returned]])
    (note,) = status.credit_notes
    assert note.goods_returned and 0 < note.total < status.total
    assert [p for p in shop.purchase(returned).packages if p.type == "return"]
