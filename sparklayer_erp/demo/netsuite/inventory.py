"""Stock effects of orders (a modelling assumption, see ``not_confirmed``): approval commits stock at the
line's location, closing or un-approving releases it, a shipped fulfilment lowers on-hand and commitment.

Location quantities live on the item's ``locations`` sublist in base units; sales-order lines show their
committed and back-ordered quantities in the line's unit.
"""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.demo.netsuite.context import Context, dec
from sparklayer_erp.demo.netsuite.projection import unit_factor
from sparklayer_erp.demo.netsuite.store import Doc, ref, ref_id

ZERO = Decimal(0)


def _stock_line(item: Doc, location_id: int) -> Doc:
    lines = item.setdefault("locations", {"items": []}).setdefault("items", [])
    for line in lines:
        if ref_id(line.get("location")) == location_id:
            return line
    line = {"location": ref(location_id), "locationId": Decimal(location_id), "quantityOnHand": ZERO,
            "quantityAvailable": ZERO, "quantityCommitted": ZERO, "quantityBackOrdered": ZERO,
            "quantityOnOrder": ZERO, "quantityInTransit": ZERO}
    lines.append(line)
    return line


def restate(line: Doc) -> None:
    line["quantityAvailable"] = max(dec(line.get("quantityOnHand")) - dec(line.get("quantityCommitted")), ZERO)


def _adjust(ctx: Context, item_id: int, location_id: int, *, on_hand: Decimal = ZERO, committed: Decimal = ZERO,
            backordered: Decimal = ZERO) -> Decimal:
    """Apply deltas; returns the base quantity available before the change."""
    item = ctx.load("inventoryItem", item_id)
    line = _stock_line(item, location_id)
    available = dec(line.get("quantityOnHand")) - dec(line.get("quantityCommitted"))
    line["quantityOnHand"] = dec(line.get("quantityOnHand")) + on_hand
    line["quantityCommitted"] = max(dec(line.get("quantityCommitted")) + committed, ZERO)
    line["quantityBackOrdered"] = max(dec(line.get("quantityBackOrdered")) + backordered, ZERO)
    restate(line)
    ctx.store.save(ctx.conn(), "inventoryItem", item)
    return available


def _where(ctx: Context, order: Doc, line: Doc) -> tuple[int, int, Decimal] | None:
    item_id = ref_id(line.get("item"))
    location_id = ref_id(line.get("location")) or ref_id(order.get("location")) or ctx.default_location()
    if item_id is None or location_id is None:
        return None
    return item_id, location_id, unit_factor(ctx.conn(), line.get("units"))


def commit_order(ctx: Context, order: Doc) -> None:
    """Commit what open lines still need (quantity − fulfilled − committed), as far as stock allows."""
    for line in (order.get("item") or {}).get("items") or []:
        where = _where(ctx, order, line)
        if where is None or line.get("isClosed"):
            continue
        item_id, location_id, factor = where
        need = dec(line.get("quantity")) - dec(line.get("quantityFulfilled")) - dec(line.get("quantityCommitted")) \
            - dec(line.get("quantityBackOrdered"))
        if need <= 0:
            continue
        item = ctx.load("inventoryItem", item_id)
        stock = _stock_line(item, location_id)
        available = max(dec(stock.get("quantityOnHand")) - dec(stock.get("quantityCommitted")), ZERO) / factor
        commit = min(need, available)
        _adjust(ctx, item_id, location_id, committed=commit * factor, backordered=(need - commit) * factor)
        line["quantityCommitted"] = dec(line.get("quantityCommitted")) + commit
        line["quantityBackOrdered"] = dec(line.get("quantityBackOrdered")) + need - commit


def release_order(ctx: Context, order: Doc, only: list[Doc] | None = None) -> None:
    """Give back the commitment (and back-order) of the given lines, default all lines."""
    for line in only if only is not None else (order.get("item") or {}).get("items") or []:
        where = _where(ctx, order, line)
        committed, backordered = dec(line.get("quantityCommitted")), dec(line.get("quantityBackOrdered"))
        if where is None or (committed == 0 and backordered == 0):
            continue
        item_id, location_id, factor = where
        _adjust(ctx, item_id, location_id, committed=-committed * factor, backordered=-backordered * factor)
        line["quantityCommitted"] = ZERO
        line["quantityBackOrdered"] = ZERO


def ship(ctx: Context, order: Doc, line: Doc, quantity: Decimal, location_id: int | None) -> None:
    """A shipped quantity (in the line's unit) leaves the warehouse; its commitment goes with it."""
    where = _where(ctx, order, line)
    if where is None:
        return
    item_id, default_location, factor = where
    from_commit = min(quantity, dec(line.get("quantityCommitted")))
    from_backorder = min(quantity - from_commit, dec(line.get("quantityBackOrdered")))
    _adjust(ctx, item_id, location_id or default_location, on_hand=-quantity * factor,
            committed=-from_commit * factor, backordered=-from_backorder * factor)
    line["quantityCommitted"] = dec(line.get("quantityCommitted")) - from_commit
    line["quantityBackOrdered"] = dec(line.get("quantityBackOrdered")) - from_backorder
