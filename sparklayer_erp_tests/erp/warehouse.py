"""Act as a person in the ERP, from a test: warehouse staff, finance, a sales administrator.

These are the things the integration must never do itself but has to react to (a shipment allocated =
point of no return, an invoice posted, a quotation approved by a human). They use the same JSON-RPC
client as the adapter, logged in as the person who would do it:

    wh = warehouse.person(tryton_server)                # the integration's rights: stock, invoices
    warehouse.assign_shipments(wh, sale_id)             # -> point of no return
    warehouse.ship_order(wh, sale_id, tracking="TRK1")  # assign, tracking, pick, pack, done
    warehouse.post_invoices(wh, sale_id)
    op = warehouse.operator(tryton_server)               # a human approver (credit-limit group)
    warehouse.approve_as_person(op, sale_id, override_credit_warning=True)
    admin = warehouse.admin(tryton_server)
    warehouse.create_customer(admin, "T-123", credit_limit=Decimal("100"))
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.rpc import TrytonRpc, TrytonUserWarning


def _rpc(server: Any, login: str, password: str) -> TrytonRpc:
    return TrytonRpc(server.url, server.db_name, login, password)


def person(server: Any) -> TrytonRpc:
    """A warehouse/finance person with the integration user's groups (stock, invoices, sales)."""
    return _rpc(server, server.login, server.password)


def operator(server: Any) -> TrytonRpc:
    """The human ERP operator: may override a credit-limit warning knowingly."""
    password = os.environ.get("ERP_OPERATOR_PASSWORD") or conv.DEFAULT_OPERATOR_PASSWORD
    return _rpc(server, conv.OPERATOR_LOGIN, password)


def admin(server: Any) -> TrytonRpc:
    """The ERP administrator of the local demo database (sets credit limits, creates customers)."""
    return _rpc(server, conv.ADMIN_LOGIN, conv.DEFAULT_ADMIN_PASSWORD)


# --- warehouse -----------------------------------------------------------------------------------------


def shipment_ids(rpc: TrytonRpc, sale_id: int) -> list[int]:
    rows = rpc.search_read("sale.sale", [("id", "=", sale_id)], ["shipments"])
    return [int(i) for i in rows[0]["shipments"]] if rows else []


def shipment_states(rpc: TrytonRpc, sale_id: int) -> list[str]:
    ids = shipment_ids(rpc, sale_id)
    return [r["state"] for r in rpc.search_read("stock.shipment.out", [("id", "in", ids)], ["state"])]


def assign_shipments(rpc: TrytonRpc, sale_id: int) -> list[str]:
    """Reserve stock for the sale's shipments (``assign_try``): the point of no return. Returns states."""
    ids = shipment_ids(rpc, sale_id)
    if ids:
        rpc.model("stock.shipment.out", "assign_try", ids)
    return shipment_states(rpc, sale_id)


def ship_order(rpc: TrytonRpc, sale_id: int, tracking: str | None = None) -> list[str]:
    """Assign, write the carrier tracking number, pick, pack and mark done. Returns shipment states."""
    ids = shipment_ids(rpc, sale_id)
    rpc.model("stock.shipment.out", "assign_try", ids)
    if tracking:
        rpc.model("stock.shipment.out", "write", ids, {conv.TRACKING_FIELD: tracking})
    for step in ("pick", "pack", "do"):
        rpc.model("stock.shipment.out", step, ids)
    return shipment_states(rpc, sale_id)


def ship_first_line(rpc: TrytonRpc, sale_id: int, tracking: str | None = None) -> list[str]:
    """Ship only the sale's first line (the rest is out of stock today): the other inventory moves are taken
    off the shipment before picking, and Tryton makes a new shipment for what is left. Returns the states of
    the sale's shipments afterwards."""
    ids = shipment_ids(rpc, sale_id)
    (shipment,) = rpc.search_read("stock.shipment.out", [("id", "=", ids[0])], ["inventory_moves"])
    later = sorted(int(i) for i in shipment["inventory_moves"])[1:]
    if later:
        rpc.model("stock.move", "delete", later)  # still draft: nothing is reserved for them
    rpc.model("stock.shipment.out", "assign_try", ids)
    if tracking:
        rpc.model("stock.shipment.out", "write", ids, {conv.TRACKING_FIELD: tracking})
    for step in ("pick", "pack", "do"):
        rpc.model("stock.shipment.out", step, ids)
    return shipment_states(rpc, sale_id)


# --- finance ---------------------------------------------------------------------------------------------


def invoice_ids(rpc: TrytonRpc, sale_id: int) -> list[int]:
    rows = rpc.search_read("sale.sale", [("id", "=", sale_id)], ["invoices"])
    return [int(i) for i in rows[0]["invoices"]] if rows else []


def post_invoices(rpc: TrytonRpc, sale_id: int) -> list[str]:
    """Post the sale's draft invoices (GL entries, invoice number). Returns the invoice numbers."""
    ids = invoice_ids(rpc, sale_id)
    drafts = [r["id"] for r in rpc.search_read("account.invoice", [("id", "in", ids), ("state", "=", "draft")],
                                               ["id"])]
    if drafts:
        rpc.model("account.invoice", "post", drafts)
    return [r["number"] for r in rpc.search_read("account.invoice", [("id", "in", ids)], ["number"])]


def pay_by_bank(rpc: TrytonRpc, sale_id: int, paid_on: dt.date | None = None, reference: str = "BACS") -> None:
    """The customer pays the whole posted invoice by bank transfer (finance registers it)."""
    method = rpc.model("account.invoice.payment.method", "search",
                       [("name", "=", conv.BANK_PAYMENT_METHOD_NAME)], 0, 1, None)[0]
    for invoice_id in invoice_ids(rpc, sale_id):
        with rpc.wizard("account.invoice.pay", "account.invoice", [invoice_id]) as session:
            start = TrytonRpc.view_defaults(session.execute("start", {}))
            start.update({"payment_method": method, "date": paid_on or dt.date.today(),
                          "description": reference})
            session.execute("choice", {"start": start})


# --- sales administration ----------------------------------------------------------------------------------


def approve_as_person(rpc: TrytonRpc, sale_id: int, override_credit_warning: bool = False) -> str:
    """A person confirms a quotation in the ERP. An operator in the credit-limit group gets a warning on
    a breach; with ``override_credit_warning`` they acknowledge it (``res.user.warning.skip``) and confirm."""
    try:
        rpc.model("sale.sale", "confirm", [sale_id])
    except TrytonUserWarning as warning:
        if not override_credit_warning:
            raise
        rpc.model("res.user.warning", "skip", warning.name, False)  # what the desktop client's "Yes" does
        rpc.model("sale.sale", "confirm", [sale_id])
    return rpc.search_read("sale.sale", [("id", "=", sale_id)], ["state"])[0]["state"]


def create_customer(
    admin_rpc: TrytonRpc,
    code: str,
    *,
    name: str | None = None,
    credit_limit: Decimal | None = None,
    price_list: str | None = "TRADE",
    payment_term: str = "Net 30",
    on_hold: bool = False,
) -> int:
    """A fresh customer (admin only: credit limits need the credit-limit group). Returns the party id.

    Tests use their own customers when they depend on a customer's credit position."""
    values: dict[str, Any] = {
        "name": name or f"Test customer {code}",
        "code": code,
        "addresses": [["create", [{"city": "London"}]]],
        "contact_mechanisms": [["create", [{"type": "email", "value": f"{code.lower()}@test.example"}]]],
        "credit_limit_amount": Decimal(0) if on_hold else credit_limit,
    }
    terms = admin_rpc.model("account.invoice.payment_term", "search", [("name", "=", payment_term)], 0, 1, None)
    if terms:
        values["customer_payment_term"] = terms[0]
    if price_list:
        lists = admin_rpc.model("product.price_list", "search", [("name", "=", price_list)], 0, 1, None)
        values["sale_price_list"] = lists[0]
    if on_hold:
        hold = admin_rpc.model("party.category", "search", [("name", "=", conv.CREDIT_HOLD_CATEGORY)], 0, 1, None)
        values["categories"] = [["add", hold]]
    return int(admin_rpc.model("party.party", "create", [values])[0])


def set_credit_limit(admin_rpc: TrytonRpc, code: str, limit: Decimal | None) -> None:
    party = admin_rpc.model("party.party", "search", [("code", "=", code)], 0, 1, None)
    admin_rpc.model("party.party", "write", party, {"credit_limit_amount": limit})


def set_credit_hold(admin_rpc: TrytonRpc, code: str, on: bool, *, limit_after: Decimal | None = None) -> None:
    """Credit control holds a customer the way the seed does (the hold category and a limit of 0), or
    releases the hold (category off, the limit back to ``limit_after``; None = no limit)."""
    party = admin_rpc.model("party.party", "search", [("code", "=", code)], 0, 1, None)
    hold = admin_rpc.model("party.category", "search", [("name", "=", conv.CREDIT_HOLD_CATEGORY)], 0, 1, None)
    admin_rpc.model("party.party", "write", party, {
        "categories": [["add" if on else "remove", hold]],
        "credit_limit_amount": Decimal(0) if on else limit_after,
    })
