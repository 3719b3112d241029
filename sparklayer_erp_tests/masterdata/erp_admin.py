"""Changes a person makes in the ERP (Tryton, over JSON-RPC as the ERP administrator), for the tests.

The integration only ever reads master data; these are the edits it must notice: a contract price, a new
customer, a credit hold and its release, a closed account, a pack size, a stock movement, a quotation moved
to another warehouse. Tests share one Tryton per session (the order tests run against it too), so each
helper either works on data the test owns or returns what it needs to put things back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.rpc import TrytonRpc


def admin(server: Any) -> TrytonRpc:
    return TrytonRpc(server.url, server.db_name, conv.ADMIN_LOGIN, conv.DEFAULT_ADMIN_PASSWORD)


def _one(rpc: TrytonRpc, model: str, domain: list, fields: list[str]) -> dict[str, Any]:
    rows = rpc.search_read(model, domain, fields)
    assert len(rows) == 1, f"expected one {model} for {domain}, found {len(rows)}"
    return rows[0]


# --- prices ------------------------------------------------------------------------------------------------


def set_contract_price(rpc: TrytonRpc, price_list: str, sku: str, price: Decimal) -> Decimal:
    """Set the fixed contract price of ``sku`` on ``price_list``; returns the previous price."""
    pl = _one(rpc, "product.price_list", [("name", "=", price_list)], ["lines.product.code", "lines.formula"])
    (line,) = [ln for ln in pl["lines."] if (ln.get("product.") or {}).get("code") == sku]
    rpc.model("product.price_list.line", "write", [line["id"]], {"formula": str(price)})
    return Decimal(line["formula"])


# --- items -------------------------------------------------------------------------------------------------


def set_sale_unit(rpc: TrytonRpc, sku: str, pack_size: int) -> int:
    """Sell ``sku`` in packs of ``pack_size`` (the "Case of N" unit); returns the previous pack size."""
    template = _one(rpc, "product.template", [("code", "=", sku)], ["sale_uom.factor", "sale_uom.name"])
    previous = round(float(template["sale_uom."]["factor"]))
    uom = _one(rpc, "product.uom", [("name", "=", conv.uom_name_for_pack_size(pack_size))], ["id"])
    rpc.model("product.template", "write", [template["id"]], {"sale_uom": uom["id"]})
    return previous


# --- stock -------------------------------------------------------------------------------------------------


def move_stock(rpc: TrytonRpc, sku: str, warehouse: str, quantity: int) -> None:
    """Book ``quantity`` base units into (positive) or out of (negative) the warehouse's storage zone, the
    way a stock count correction does: a confirmed inventory of the new figure (Tryton posts the
    difference against Lost and Found)."""
    product = _one(rpc, "product.product", [("code", "=", sku)], ["id"])
    storage = _one(rpc, "stock.location", [("code", "=", conv.STORAGE_LOCATION_CODES[warehouse])], ["id"])["id"]
    context = {"locations": [storage], "stock_skip_warehouse": False}
    on_hand = rpc.search_read("product.product", [("id", "=", product["id"])], ["quantity"], context=context)
    counted = float(on_hand[0]["quantity"]) + quantity
    (inventory,) = rpc.model("stock.inventory", "create", [{
        "location": storage, "company": rpc.company_id,
        "lines": [["create", [{"product": product["id"], "quantity": counted}]]],
    }])
    rpc.model("stock.inventory", "confirm", [inventory])


# --- customers ---------------------------------------------------------------------------------------------


def create_customer(rpc: TrytonRpc, code: str, *, email: str | None, credit_limit: Decimal | None,
                    price_list: str = "TRADE", payment_term: str = "Net 30", name: str | None = None) -> int:
    values: dict[str, Any] = {
        "name": name or f"Master data test {code}", "code": code,
        "addresses": [["create", [{"city": "Leeds", "street": "2 Mill Lane", "postal_code": "LS1 1AA"}]]],
        "credit_limit_amount": credit_limit,
        "sale_price_list": _one(rpc, "product.price_list", [("name", "=", price_list)], ["id"])["id"],
        "customer_payment_term": _one(rpc, "account.invoice.payment_term", [("name", "=", payment_term)],
                                      ["id"])["id"],
    }
    if email:
        values["contact_mechanisms"] = [["create", [{"type": "email", "value": email}]]]
    return int(rpc.model("party.party", "create", [values])[0])


def add_email(rpc: TrytonRpc, party_id: int, email: str) -> None:
    rpc.model("party.contact_mechanism", "create", [{"party": party_id, "type": "email", "value": email}])


def set_credit_hold(rpc: TrytonRpc, party_id: int, on_hold: bool, credit_limit: Decimal) -> None:
    """The demo's credit hold: the "Credit hold" category and a limit of 0 (released: the limit back)."""
    hold = rpc.model("party.category", "search", [("name", "=", conv.CREDIT_HOLD_CATEGORY)], 0, 1, None)
    rpc.model("party.party", "write", [party_id], {
        "credit_limit_amount": Decimal(0) if on_hold else credit_limit,
        "categories": [["add" if on_hold else "remove", hold]],
    })


def set_active(rpc: TrytonRpc, party_id: int, active: bool) -> None:
    """Close (deactivate) a customer account in the ERP, or reopen it."""
    rpc.model("party.party", "write", [party_id], {"active": active})


def remove_customer(rpc: TrytonRpc, party_id: int) -> None:
    """Delete a test customer (or deactivate it when Tryton keeps it for its history)."""
    try:
        rpc.model("party.party", "delete", [party_id])
    except Exception:  # noqa: BLE001 - a party with history cannot be deleted; hiding it is enough
        rpc.model("party.party", "write", [party_id], {"active": False})


# --- orders ------------------------------------------------------------------------------------------------


def ship_quotation_from(rpc: TrytonRpc, sale_id: int, warehouse_code: str) -> None:
    """Move a quotation to another warehouse the way a person does: back to draft (a quotation's warehouse
    is read-only), change the warehouse, quote it again."""
    (warehouse,) = rpc.model("stock.location", "search",
                             [("code", "=", warehouse_code), ("type", "=", "warehouse")], 0, None, None)
    rpc.model("sale.sale", "draft", [sale_id])
    rpc.model("sale.sale", "write", [sale_id], {"warehouse": warehouse})
    rpc.model("sale.sale", "quote", [sale_id])


def delete_sale(rpc: TrytonRpc, sale_id: int) -> None:
    """Remove a test's quotation for good (cancelled first), so reconciliation tests never see it."""
    state = _one(rpc, "sale.sale", [("id", "=", sale_id)], ["state"])["state"]
    if state != "cancelled":
        rpc.model("sale.sale", "cancel", [sale_id])
    rpc.model("sale.sale", "delete", [sale_id])
    assert rpc.search_read("sale.sale", [("id", "=", sale_id)], ["id"]) == []
