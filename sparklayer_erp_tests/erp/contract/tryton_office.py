"""The contract suite's back office on the real Tryton: warehouse and finance through ``warehouse.py``."""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp_tests.erp import warehouse


class TrytonBackOffice:
    """Tryton staff: ``person`` is a warehouse/finance user, ``admin`` sets customers and credit positions."""

    name = "tryton"
    base_unit = conv.BASE_UOM_NAME

    def __init__(self, person: TrytonRpc, admin: TrytonRpc) -> None:
        self.person = person
        self.admin = admin

    def unit_name(self, pack_size: int) -> str:
        return conv.uom_name_for_pack_size(pack_size)

    def allocate(self, erp_id: int) -> None:
        states = warehouse.assign_shipments(self.person, erp_id)
        assert states and set(states) == {"assigned"}, states  # the demo warehouses hold enough stock

    def ship(self, erp_id: int, *, tracking: str, partial: bool = False) -> None:
        if partial:
            states = warehouse.ship_first_line(self.person, erp_id, tracking=tracking)
        else:
            states = warehouse.ship_order(self.person, erp_id, tracking=tracking)
        assert "done" in states, states

    def invoice(self, erp_id: int) -> list[str]:
        return warehouse.post_invoices(self.person, erp_id)

    def pay_by_bank(self, erp_id: int, *, reference: str) -> None:
        warehouse.pay_by_bank(self.person, erp_id, reference=reference)

    def new_customer(self, code: str, *, credit_limit: Decimal | None) -> None:
        warehouse.create_customer(self.admin, code, credit_limit=credit_limit, price_list="TRADE")

    def set_credit_limit(self, code: str, limit: Decimal | None) -> None:
        warehouse.set_credit_limit(self.admin, code, limit)

    def set_credit_hold(self, code: str, on: bool) -> None:
        warehouse.set_credit_hold(self.admin, code, on)
