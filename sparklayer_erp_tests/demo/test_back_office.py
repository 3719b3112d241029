"""The demo's back office: its choices are deterministic, and against the real Tryton and the sandbox shop its
staff ship in two parts, invoice, credit returned goods and refund in the shop, so the demo shows them all."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from sparklayer_erp.demo.back_office import (
    PARTS_EVERY,
    REFUND_EVERY,
    RETURN_EVERY,
    BackOffice,
    ShopAdmin,
    TrytonStaff,
    first_part,
    refund_amount,
    refunds_paid_order,
    returned_goods,
    staff_plan,
)
from sparklayer_erp.domain.order_lifecycle import SHOP_REFUND_PREFIX
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.refunds import RefundSync
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
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


# --- against the real Tryton and the sandbox ---------------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    store = Ledger.from_url(f"sqlite:///{tmp_path}/ledger-{uuid.uuid4().hex[:6]}.sqlite")
    yield store
    store.close()


@pytest.mark.tryton
def test_the_back_office_ships_in_parts_credits_a_return_and_refunds_a_paid_order(
        shop: Shop, ledger, erp, client, sandbox, erp_server, request):
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
                        settle_s=0, part_gap_s=0, seed=3, only=pids)
    request.addfinalizer(office.staff.close)
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
    assert (number, "invoice posted") in office.actions

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
