"""The warehouse ships an order in parts, from a test (Tryton's own procedure, as a person would do it):

    first = partial_shipping.ship_part(wh, sale_id, {"SKU-COLA-L": 2}, tracking="TRK-1")
    # Tryton puts what was left behind on a new shipment (its backorder), still waiting
    second = partial_shipping.ship_part(wh, sale_id, {"SKU-CRSP-L": 1}, tracking="TRK-2")
    partial_shipping.cancel_rest(wh, sale_id)   # after the point of no return: the rest will not ship

Quantities are in the ERP unit of the order line (cases for a "Case of 12" line).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp_tests.erp import warehouse


def open_shipment(rpc: TrytonRpc, sale_id: int) -> int:
    """The sale's one shipment that has not left yet (waiting/draft)."""
    ids = warehouse.shipment_ids(rpc, sale_id)
    rows = rpc.search_read("stock.shipment.out", [("id", "in", ids), ("state", "in", ["draft", "waiting"])],
                           ["id"])
    if len(rows) != 1:
        raise AssertionError(f"sale {sale_id} has {len(rows)} open shipments, expected one")
    return int(rows[0]["id"])


def ship_part(rpc: TrytonRpc, sale_id: int, quantities: Mapping[str, int | Decimal],
              tracking: str | None = None) -> int:
    """Ship only ``quantities`` (SKU → ERP units) of the open shipment: the picker takes less than planned,
    then assign, tracking, pick, pack, done. Returns the shipment id. SKUs not named are left behind."""
    shipment = open_shipment(rpc, sale_id)
    inventory = rpc.search_read("stock.shipment.out", [("id", "=", shipment)], ["inventory_moves"])[0]
    for move in rpc.search_read("stock.move", [("id", "in", inventory["inventory_moves"])], ["product.code"]):
        quantity = quantities.get(move["product."]["code"], 0)
        rpc.model("stock.move", "write", [move["id"]], {"quantity": float(quantity)})
    rpc.model("stock.shipment.out", "assign_try", [shipment])
    if tracking:
        rpc.model("stock.shipment.out", "write", [shipment], {conv.TRACKING_FIELD: tracking})
    for step in ("pick", "pack", "do"):
        rpc.model("stock.shipment.out", step, [shipment])
    return shipment


def cancel_rest(rpc: TrytonRpc, sale_id: int) -> None:
    """The warehouse cancels what is still to ship and the sale ignores it (no replacement shipment)."""
    rpc.model("stock.shipment.out", "cancel", [open_shipment(rpc, sale_id)])
    with rpc.wizard("sale.handle.shipment.exception", "sale.sale", [sale_id]) as session:
        ask = session.execute("ask", {})
        domain = TrytonRpc.view_defaults(ask).get("domain_moves") or []
        session.execute("handle", {"ask": {"recreate_moves": [], "ignore_moves": list(domain),
                                           "domain_moves": list(domain)}})
