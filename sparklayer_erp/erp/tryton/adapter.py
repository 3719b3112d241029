"""The Tryton adapter for the ERP port, over JSON-RPC (``rpc.TrytonRpc``).

Decisions this module makes, because Tryton leaves them open (details in each method's docstring):

* **Open balance** = ``party.credit_amount``, not ``receivable``: it is exactly the figure Tryton compares
  with the credit limit on confirm (posted receivable + the uninvoiced value of confirmed/processing sales),
  so the remaining credit SparkLayer shows is the one the ERP will enforce.
* **Credit hold** = the ``Credit hold`` party category, or a credit limit of 0 (the seed sets both).
* **Contract customers**: ``sale_price_list`` is the contract list; their level is recognised by the contract
  list's product-less fallback lines being identical to a level list's lines (``None`` if they match none).
* **Stock**: on hand = storage zone of the warehouse (done moves up to today); reserved = committed to
  customer shipments: open moves to a customer whose goods are still in that storage zone (shipment draft,
  waiting or assigned; once picked they have left on hand). A committed order counts before anyone assigns
  it, so the shop cannot sell its stock again. Not ``quantity - forecast_quantity``: that also nets
  incoming supplier moves.
* **Point of no return** = any shipment assigned/picked/packed/shipped/done, or any line move assigned/done
  (``assign_try`` can allocate part of a shipment and leave the shipment ``waiting``).
* **Batch confirm and credit**: Tryton checks every sale of a ``confirm`` call *before* it confirms any of
  them, so two orders of one customer in one call can both pass a limit that only one of them fits. The
  adapter confirms in one call only the orders whose customer can take all of them (``plan_confirm``) and
  the others one at a time.
* **Amending a committed order** is refused with ``INVALID_STATE``: Tryton cannot take a processing sale
  back to draft; the only path (cancel shipments + invoice, then re-create) would leave the purchase id on
  a dead order. Quotations and drafts are amended in place.
* **Cancelling a committed order whose invoice is posted** is refused with ``INVALID_STATE`` (it needs a
  credit note, a finance decision), as is anything past the point of no return (``POINT_OF_NO_RETURN``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from sparklayer_erp.domain.models import (
    ActionResult,
    Address,
    CreateResult,
    ErpCustomer,
    ErpItem,
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderRef,
    ErpOrderState,
    ErpOrderStatus,
    ErpPriceList,
    Invoice,
    Payment,
    PriceEntry,
    PriceListKind,
    Refusal,
    RefusalReason,
    SaleUnit,
    Shipment,
    StockLevel,
)
from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.rpc import TrytonRpc, TrytonUserError, TrytonUserWarning

PONR_SHIPMENT_STATES = frozenset({"assigned", "picked", "packed", "shipped", "done"})
ALLOCATED_MOVE_STATES = frozenset({"assigned", "done"})
_CANCELLABLE_SHIPMENT_STATES = frozenset({"draft", "waiting"})
# Customer shipments whose goods are still in the storage zone: picking moves them to the output dock.
_UNPICKED_SHIPMENT_STATES = ("draft", "waiting", "assigned")
_CLOSED_MOVE_STATES = ("done", "cancelled")
_READ_CHUNK = 200
# Orders per sale.sale create/quote/confirm call. Tryton on SQLite builds one SQL statement over every record
# of a call, and above ~100 sales SQLite fails with "parser stack overflow" (HTTP 503, nothing written).
CREATE_CHUNK = 50
DESCRIPTION_MAX = 250  # characters of sale.description: enough for a reference and a few notes

# Enough to map the state (a "done" sale may be a cancellation), cheap enough for every create.
_REF_FIELDS = (
    "number", "state", conv.PURCHASE_ID_FIELD, "lines.type", "lines.actual_quantity", "invoices.state",
)
# ... plus what the point of no return needs; and everything order_status needs, in one nested read.
_STATE_FIELDS = (
    "number", "state", conv.PURCHASE_ID_FIELD, "party", "party.code",
    "lines.type", "lines.actual_quantity", "lines.moves.state", "invoices.state",
    "shipments.state",
)
_STATUS_FIELDS = _STATE_FIELDS + (
    conv.PO_NUMBER_FIELD, "sale_date", "untaxed_amount", "tax_amount", "total_amount",
    "lines.product.code", "lines.quantity", "lines.unit.name", "lines.unit_price", "lines.description",
    "shipments.number", f"shipments.{conv.TRACKING_FIELD}", "shipments.effective_date",
    "invoices.number", "invoices.total_amount", "invoices.amount_to_pay", "invoices.invoice_date",
    "invoices.lines_to_pay.maturity_date",
    "invoices.payment_lines.date", "invoices.payment_lines.debit", "invoices.payment_lines.credit",
    "invoices.payment_lines.move_description_used",
)


class UnknownErpReference(LookupError):
    """``customer_price`` was asked about a customer, SKU or unit the ERP does not know (a mapping gap)."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def port_method(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Business refusals the adapter expects are turned into ``Refusal`` inside each method; a Tryton
    ``UserError`` that still escapes (an access right missing, a read refused) is a set-up problem the
    caller cannot act on per order, so the port sees it as technical."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        except (TrytonUserError, TrytonUserWarning) as err:
            raise ErpTechnicalError(f"{func.__name__}: the ERP refused an integration call: {err.message}") from None

    return wrapper


# --- pure helpers: Tryton rows -> domain values (unit-tested without a server) ----------------------------


def rel(row: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """The nested record Tryton returns for a dotted Many2One read (``{}`` when empty)."""
    if not row:
        return {}
    return row.get(f"{name}.") or {}


def rels(row: Mapping[str, Any] | None, name: str) -> list[dict[str, Any]]:
    """The nested records Tryton returns for a dotted x2Many read."""
    if not row:
        return []
    return list(row.get(f"{name}.") or [])


def to_decimal(value: Any) -> Decimal:
    """Tryton Float fields arrive as JSON floats: go through ``str`` so 12.0 stays 12, never 12.0000001."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    result = Decimal(str(value))
    return result.quantize(Decimal(1)) if result == result.to_integral_value() else result


def order_state(row: Mapping[str, Any]) -> ErpOrderState:
    """Tryton sale state -> integration state (recipe §6).

    ``done`` with every product line's actual quantity 0 and no live invoice is how Tryton ends a sale
    cancelled after confirmation (shipments + invoice cancelled, exceptions ignored): that is CANCELLED.
    """
    state = row.get("state")
    if state == "draft":
        return ErpOrderState.DRAFT
    if state == "quotation":
        return ErpOrderState.PENDING_APPROVAL
    if state in {"confirmed", "processing"}:
        return ErpOrderState.COMMITTED
    if state == "cancelled":
        return ErpOrderState.CANCELLED
    if state == "done":
        lines = [line for line in rels(row, "lines") if line.get("type") == "line"]
        nothing_delivered = all(to_decimal(line.get("actual_quantity")) == 0 for line in lines)
        no_live_invoice = all(inv.get("state") == "cancelled" for inv in rels(row, "invoices"))
        return ErpOrderState.CANCELLED if nothing_delivered and no_live_invoice else ErpOrderState.DONE
    raise ErpTechnicalError(f"unknown Tryton sale state {state!r}")


def point_of_no_return(row: Mapping[str, Any]) -> bool:
    """Stock allocated to the order: a shipment past waiting, or any line move assigned/done."""
    if any(sh.get("state") in PONR_SHIPMENT_STATES for sh in rels(row, "shipments")):
        return True
    return any(
        move.get("state") in ALLOCATED_MOVE_STATES
        for line in rels(row, "lines")
        for move in rels(line, "moves")
    )


def order_ref(row: Mapping[str, Any]) -> ErpOrderRef:
    return ErpOrderRef(
        erp_id=int(row["id"]),
        number=row.get("number") or None,
        purchase_id=row.get(conv.PURCHASE_ID_FIELD) or "",
        state=order_state(row),
    )


def invoice_from_row(inv: Mapping[str, Any]) -> Invoice:
    """``amount_due``: posted/paid -> Tryton's amount_to_pay; a draft invoice is not a receivable yet, but
    its whole total will be, so it reports the total; a cancelled one is due nothing."""
    state = inv.get("state") or ""
    total = to_decimal(inv.get("total_amount"))
    if state == "cancelled":
        due = Decimal(0)
    elif state in {"posted", "paid"}:
        due = to_decimal(inv.get("amount_to_pay"))
    else:
        due = total
    maturities = [ln.get("maturity_date") for ln in rels(inv, "lines_to_pay") if ln.get("maturity_date")]
    return Invoice(
        number=inv.get("number") or None,
        state=state,
        total=total,
        amount_due=due,
        invoice_date=inv.get("invoice_date"),
        due_date=min(maturities) if maturities else None,
    )


def payments_from_invoice(inv: Mapping[str, Any]) -> list[Payment]:
    """Payments = the invoice's payment lines (what the pay wizard and bank reconciliation add)."""
    out = []
    for line in rels(inv, "payment_lines"):
        amount = to_decimal(line.get("credit")) - to_decimal(line.get("debit"))
        out.append(Payment(
            invoice_number=inv.get("number") or None,
            amount=amount,
            paid_on=line.get("date"),
            reference=line.get("move_description_used") or None,
        ))
    return out


def status_from_row(row: Mapping[str, Any]) -> ErpOrderStatus:
    lines = []
    for line in rels(row, "lines"):
        product = rel(line, "product")
        if line.get("type") != "line" or not product.get("code"):
            continue  # comments, titles and product-less lines (shipping) count in totals only
        lines.append(ErpOrderLine(
            sku=product["code"],
            quantity=to_decimal(line.get("quantity")),
            unit=rel(line, "unit").get("name") or "",
            unit_price=to_decimal(line.get("unit_price")),
            description=line.get("description") or "",
        ))
    shipments = tuple(
        Shipment(
            number=sh.get("number") or None,
            state=sh.get("state") or "",
            tracking_number=sh.get(conv.TRACKING_FIELD) or None,
            shipped_on=sh.get("effective_date") if sh.get("state") == "done" else None,
        )
        for sh in rels(row, "shipments")
    )
    invoice_rows = rels(row, "invoices")
    return ErpOrderStatus(
        erp_id=int(row["id"]),
        number=row.get("number") or None,
        purchase_id=row.get(conv.PURCHASE_ID_FIELD) or None,
        account_code=rel(row, "party").get("code") or "",
        po_number=row.get(conv.PO_NUMBER_FIELD) or None,
        state=order_state(row),
        point_of_no_return=point_of_no_return(row),
        total_untaxed=to_decimal(row.get("untaxed_amount")),
        total_tax=to_decimal(row.get("tax_amount")),
        total=to_decimal(row.get("total_amount")),
        order_date=row.get("sale_date"),
        lines=tuple(lines),
        shipments=shipments,
        invoices=tuple(invoice_from_row(inv) for inv in invoice_rows),
        payments=tuple(p for inv in invoice_rows for p in payments_from_invoice(inv)),
    )


def payment_term_days(term: Mapping[str, Any]) -> int | None:
    """The longest delay among the term's lines (days + 7*weeks + 30*months); 0 for "remainder now"."""
    if not term:
        return None
    longest = 0
    for line in rels(term, "lines"):
        for delta in rels(line, "relativedeltas"):
            days = int(delta.get("days") or 0) + 7 * int(delta.get("weeks") or 0)
            days += 30 * int(delta.get("months") or 0)
            longest = max(longest, days)
    return longest


def quantity_is_whole(quantity: Decimal, rounding: Decimal) -> bool:
    """A line quantity must be a multiple of the unit's rounding (1 for units and cases)."""
    if rounding <= 0:
        return True
    return quantity % rounding == 0


def order_description(text: str | None) -> str | None:
    """``sale.description`` is a Char: Tryton refuses line breaks and tabs in it, and it is shown in one-line
    lists. Lines become " / "-separated parts (blank ones dropped), runs of spaces and tabs one space, and
    the text is cut to ``DESCRIPTION_MAX`` characters with an ellipsis, so callers may pass any text.
    Empty -> ``None``."""
    parts = (" ".join(line.split()) for line in (text or "").splitlines())
    joined = " / ".join(part for part in parts if part)
    if len(joined) > DESCRIPTION_MAX:
        joined = joined[:DESCRIPTION_MAX - 1].rstrip(" /") + "…"
    return joined or None


def _level_signature(lines: Iterable[Mapping[str, Any]]) -> tuple:
    """What makes a price list's generic (product- and category-less) lines equal to another's."""
    return tuple(
        (float(line.get("quantity") or 0), (line.get("formula") or "").replace(" ", ""))
        for line in lines
        if not line.get("product") and not line.get("category")
    )


def plan_confirm(sale_ids: Sequence[int], rows: Mapping[int, Mapping[str, Any]]) -> tuple[list[int], list[int]]:
    """Split orders to confirm into (safe: one batched call, risky: one call each, in order).

    Tryton's ``confirm`` checks the credit of every sale in the call *before* confirming any, so orders of
    one customer that fit the limit one by one but not together would all pass in a single call. An order
    is safe when its customer has no limit, or when the customer's credit amount plus ALL of this call's
    orders for them still fits. Risky ones are confirmed one at a time, so each sees the ones before it,
    and an expected refusal (e.g. a customer on hold) cannot make the batched call fail for everyone.
    """
    by_party: dict[Any, list[int]] = defaultdict(list)
    for sid in sale_ids:
        by_party[(rows.get(sid) or {}).get("party")].append(sid)
    risky_parties = set()
    for party_id, sids in by_party.items():
        party = rel(rows.get(sids[0]), "party")
        limit = party.get("credit_limit_amount")
        if limit is None:
            continue
        total = sum((to_decimal((rows.get(s) or {}).get("untaxed_amount")) for s in sids), Decimal(0))
        if to_decimal(party.get("credit_amount")) + total > to_decimal(limit):
            risky_parties.add(party_id)
    safe = [s for s in sale_ids if (rows.get(s) or {}).get("party") not in risky_parties]
    risky = [s for s in sale_ids if (rows.get(s) or {}).get("party") in risky_parties]
    return safe, risky


def _credit_related(message: str) -> bool:
    return "credit" in message.lower()


# --- the adapter -----------------------------------------------------------------------------------------


class TrytonErp:
    """``ErpPort`` on a Tryton 8.2 server. Reference data (units, shop, warehouses) is cached per instance."""

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        timeout: float = 60.0,
        *,
        rpc: TrytonRpc | None = None,
    ) -> None:
        self.rpc = rpc or TrytonRpc(url, database, login, password, timeout=timeout)
        self._uom_cache: dict[str, dict[str, Any]] | None = None
        self._shop_id: int | None = None
        self._warehouse_cache: dict[str, dict[str, Any]] | None = None
        self._company_cache: dict[str, Any] | None = None
        self._payment_method_id: int | None = None
        self._shipping_taxes: list[int] | None = None

    def close(self) -> None:
        self.rpc.close()

    # ================================================================ reference data (cached)

    def _company(self) -> dict[str, Any]:
        if self._company_cache is None:
            rows = self.rpc.search_read(
                "company.company", [("id", "=", self.rpc.company_id)], ["party", "currency.code"]
            )
            if not rows:
                raise ErpTechnicalError("the integration user's company is not readable")
            self._company_cache = rows[0]
        return self._company_cache

    @property
    def currency(self) -> str:
        return rel(self._company(), "currency").get("code") or conv.CURRENCY

    def _uoms(self) -> dict[str, dict[str, Any]]:
        if self._uom_cache is None:
            rows = self.rpc.search_read("product.uom", [], ["name", "factor", "rounding", "category"])
            self._uom_cache = {row["name"]: row for row in rows}
        return self._uom_cache

    def _uom_by_id(self, uom_id: int) -> dict[str, Any]:
        for row in self._uoms().values():
            if row["id"] == uom_id:
                return row
        raise ErpTechnicalError(f"unit of measure {uom_id} is not readable")

    def _base_uom_id(self) -> int:
        base = self._uoms().get(conv.BASE_UOM_NAME)
        if base is None:
            raise ErpTechnicalError(f"the base unit {conv.BASE_UOM_NAME!r} does not exist in Tryton")
        return int(base["id"])

    def _shop(self) -> int:
        if self._shop_id is None:
            ids = self.rpc.model("web.shop", "search", [("name", "=", conv.WEB_SHOP_NAME)], 0, 1, None)
            if not ids:
                raise ErpTechnicalError(f"web shop {conv.WEB_SHOP_NAME!r} (owner of purchase ids) is missing")
            self._shop_id = int(ids[0])
        return self._shop_id

    def _warehouses(self) -> dict[str, dict[str, Any]]:
        if self._warehouse_cache is None:
            rows = self.rpc.search_read(
                "stock.location", [("type", "=", "warehouse")], ["code", "name", "storage_location"],
                order=[("code", "ASC")],
            )
            self._warehouse_cache = {row["code"]: row for row in rows if row.get("code")}
        return self._warehouse_cache

    def _pay_method(self) -> int:
        if self._payment_method_id is None:
            ids = self.rpc.model(
                "account.invoice.payment.method", "search", [("name", "=", conv.PAYMENT_METHOD_NAME)], 0, 1, None
            )
            if not ids:
                raise ErpTechnicalError(f"payment method {conv.PAYMENT_METHOD_NAME!r} is missing")
            self._payment_method_id = int(ids[0])
        return self._payment_method_id

    def _shipping_tax_ids(self) -> list[int]:
        if self._shipping_taxes is None:
            self._shipping_taxes = [
                int(i) for i in self.rpc.model("account.tax", "search", [("name", "=", conv.VAT_TAX_NAME)], 0, 1, None)
            ]
        return self._shipping_taxes

    # ================================================================ master data

    def _internal_party_ids(self) -> set[int]:
        """The company's own party and its employees' parties: coded parties that are not customers."""
        ids = {int(self._company()["party"])}
        for row in self.rpc.search_read("company.employee", [], ["party"]):
            if row.get("party"):
                ids.add(int(row["party"]))
        return ids

    @port_method
    def list_customers(self) -> list[ErpCustomer]:
        """Every coded party (active or not) except the company's and its employees' parties.

        Tryton has no "customer" flag; a party with an account code is one. Inactive parties are included
        with ``active=False`` so the storefront can close their accounts.
        """
        fields = [
            "code", "name", "email", "active", "credit_limit_amount", "credit_amount",
            "categories.name", "sale_price_list.name",
            "customer_payment_term.name", "customer_payment_term.lines.relativedeltas.days",
            "customer_payment_term.lines.relativedeltas.weeks",
            "customer_payment_term.lines.relativedeltas.months",
            "addresses.party_name", "addresses.street", "addresses.city", "addresses.postal_code",
            "addresses.country.code",
        ]
        internal = self._internal_party_ids()
        rows = self.rpc.search_read(
            "party.party",
            [("active", "in", [True, False]), ("code", "!=", None), ("id", "not in", sorted(internal))],
            fields,
            order=[("code", "ASC")],
        )
        contract_levels = self._contract_levels()
        out = []
        for row in rows:
            limit = row.get("credit_limit_amount")
            categories = {c.get("name") for c in rels(row, "categories")}
            price_list = rel(row, "sale_price_list").get("name")
            is_contract = bool(price_list and price_list.startswith(conv.CONTRACT_PRICE_LIST_PREFIX))
            term = rel(row, "customer_payment_term")
            out.append(ErpCustomer(
                account_code=row["code"],
                name=row.get("name") or "",
                email=row.get("email") or None,
                payment_terms=term.get("name"),
                payment_terms_days=payment_term_days(term),
                credit_limit=None if limit is None else to_decimal(limit),
                open_balance=to_decimal(row.get("credit_amount")),
                on_credit_hold=conv.CREDIT_HOLD_CATEGORY in categories or (limit is not None and limit == 0),
                price_level=contract_levels.get(price_list) if is_contract else price_list,
                contract_price_list=price_list if is_contract else None,
                currency=self.currency,
                addresses=tuple(
                    Address(
                        name=a.get("party_name") or row.get("name") or "",
                        street=(a.get("street") or "").replace("\n", ", "),
                        city=a.get("city") or "",
                        postal_code=a.get("postal_code") or "",
                        country_code=rel(a, "country").get("code") or "",
                    )
                    for a in rels(row, "addresses")
                ),
                active=bool(row.get("active", True)),
            ))
        return out

    def _contract_levels(self) -> dict[str, str | None]:
        """Contract list name -> the level whose generic lines its fallback lines repeat (or None)."""
        lists = self.rpc.search_read(
            "product.price_list", [],
            ["name", "lines.product", "lines.category", "lines.quantity", "lines.formula"],
        )
        levels = {
            _level_signature(rels(pl, "lines")): pl["name"]
            for pl in lists
            if not pl["name"].startswith(conv.CONTRACT_PRICE_LIST_PREFIX)
        }
        return {
            pl["name"]: levels.get(_level_signature(rels(pl, "lines")))
            for pl in lists
            if pl["name"].startswith(conv.CONTRACT_PRICE_LIST_PREFIX)
        }

    @port_method
    def list_price_lists(self) -> list[ErpPriceList]:
        """Price list name = code; ``CONTRACT-<account code>`` lists are one customer's contract."""
        rows = self.rpc.search_read("product.price_list", [], ["name"], order=[("name", "ASC")])
        out = []
        for row in rows:
            name = row["name"]
            if name.startswith(conv.CONTRACT_PRICE_LIST_PREFIX):
                out.append(ErpPriceList(
                    code=name, name=name, currency=self.currency, kind=PriceListKind.CONTRACT,
                    customer_account_code=name[len(conv.CONTRACT_PRICE_LIST_PREFIX):] or None,
                ))
            else:
                out.append(ErpPriceList(code=name, name=name, currency=self.currency, kind=PriceListKind.LEVEL))
        return out

    @port_method
    def list_prices(self, quantity_breaks: Sequence[int] = (1,)) -> list[PriceEntry]:
        """Tryton computes every price itself: one ``search_read`` of ``sale_price_uom`` per (list, break)
        over all salable products, with context ``{price_list, quantity, uom: Unit}`` -> per base unit."""
        base = self._base_uom_id()
        lists = self.rpc.search_read("product.price_list", [], ["name"], order=[("name", "ASC")])
        out = []
        for price_list in lists:
            for brk in sorted(set(quantity_breaks)):
                rows = self.rpc.search_read(
                    "product.product",
                    [("salable", "=", True), ("code", "!=", None)],
                    ["code", "sale_price_uom"],
                    order=[("code", "ASC")],
                    context={"price_list": price_list["id"], "quantity": float(brk), "uom": base},
                )
                for row in rows:
                    if row.get("sale_price_uom") is None:
                        continue
                    out.append(PriceEntry(
                        price_list_code=price_list["name"], sku=row["code"], min_quantity=int(brk),
                        unit_price=to_decimal(row["sale_price_uom"]), currency=self.currency,
                    ))
        return out

    @port_method
    def customer_price(self, account_code: str, sku: str, quantity: Decimal, unit: str) -> Decimal:
        """Per ``unit`` at ``quantity`` (in ``unit``), through the customer's own price list.

        Raises ``UnknownErpReference`` (a ``LookupError``) for an unknown customer, SKU or unit.
        """
        parties = self.rpc.search_read("party.party", [("code", "=", account_code)], ["sale_price_list"])
        if not parties:
            raise UnknownErpReference(f"no customer with account code {account_code!r}")
        uom = self._uoms().get(unit)
        if uom is None:
            raise UnknownErpReference(f"no unit of measure {unit!r}")
        context = {
            "customer": parties[0]["id"],
            "price_list": parties[0].get("sale_price_list"),
            "uom": uom["id"],
            "quantity": float(quantity),
        }
        rows = self.rpc.search_read("product.product", [("code", "=", sku)], ["sale_price_uom"], context=context)
        if not rows:
            raise UnknownErpReference(f"no product with SKU {sku!r}")
        price = rows[0].get("sale_price_uom")
        if price is None:
            raise UnknownErpReference(f"SKU {sku!r} has no sale price")
        return to_decimal(price)

    @port_method
    def customer_prices(
        self, requests: Iterable[tuple[str, str, Decimal, str]]
    ) -> dict[tuple[str, str, Decimal, str], Decimal | None]:
        """``customer_price`` for many (account code, SKU, quantity, unit) at once, for the order sync's price
        checks (beyond the port). An unknown customer, SKU or unit, or an unpriced SKU, answers ``None``.

        Tryton prices by price list, not by who holds it, and a quantity only matters through the list line
        it reaches: between two consecutive line quantities every product matches the same line. So the
        requests are grouped by (price list, unit, product base unit, quantity bracket) and each group is one
        read of ``sale_price_uom`` — a handful of reads for a whole batch of orders.
        """
        wanted = list(dict.fromkeys(requests))
        out: dict[tuple[str, str, Decimal, str], Decimal | None] = {key: None for key in wanted}
        accounts = sorted({key[0] for key in wanted})
        if not accounts:
            return out
        parties = {row["code"]: row for row in self.rpc.search_read(
            "party.party", [("code", "in", accounts)], ["code", "sale_price_list"])}
        products = {row["code"]: row for row in self.rpc.search_read(
            "product.product", [("code", "in", sorted({key[1] for key in wanted}))], ["code", "default_uom"])}
        list_ids = sorted({p["sale_price_list"] for p in parties.values() if p.get("sale_price_list")})
        breaks: dict[int, list[float]] = {}
        for row in self.rpc.search_read("product.price_list", [("id", "in", list_ids)], ["unit", "lines.quantity"]):
            if row.get("unit") in (None, "product_default"):  # line quantities are in the product's base unit
                breaks[row["id"]] = sorted({float(line.get("quantity") or 0) for line in rels(row, "lines")})
        uoms = self._uoms()
        groups: dict[tuple, list[tuple[str, str, Decimal, str]]] = defaultdict(list)
        for key in wanted:
            account, sku, quantity, unit = key
            party, product = parties.get(account), products.get(sku)
            if party is None or product is None or unit not in uoms:
                continue
            price_list = party.get("sale_price_list")
            bracket: object = quantity  # unknown list layout: exact quantity
            if price_list in breaks:
                base = float(quantity) * float(uoms[unit]["factor"]) / float(
                    self._uom_by_id(product["default_uom"])["factor"])
                bracket = sum(1 for threshold in breaks[price_list] if threshold <= base)
            groups[(price_list, unit, product["default_uom"], bracket, party["id"] if price_list is None else None)
                   ].append(key)
        for keys in groups.values():
            account, _, quantity, unit = keys[0]
            context = {
                "customer": parties[account]["id"],
                "price_list": parties[account].get("sale_price_list"),
                "uom": uoms[unit]["id"],
                "quantity": float(quantity),
            }
            rows = self.rpc.search_read(
                "product.product", [("code", "in", sorted({k[1] for k in keys}))], ["code", "sale_price_uom"],
                context=context,
            )
            prices = {row["code"]: row.get("sale_price_uom") for row in rows}
            for key in keys:
                price = prices.get(key[1])
                out[key] = None if price is None else to_decimal(price)
        return out

    @port_method
    def list_items(self) -> list[ErpItem]:
        """Salable products (active or not), with base unit, sale unit (= template sale_uom) and list price
        per base unit (``list_price_used``: a variant's own ``list_price`` reads None, pitfall P19)."""
        rows = self.rpc.search_read(
            "product.product",
            [("active", "in", [True, False]), ("salable", "=", True), ("code", "!=", None)],
            ["code", "name", "active", "default_uom", "sale_uom", "list_price_used"],
            order=[("code", "ASC")],
        )
        out = []
        for row in rows:
            base = self._uom_by_id(row["default_uom"])
            sale = self._uom_by_id(row.get("sale_uom") or row["default_uom"])
            factor = round(float(sale["factor"]) / float(base["factor"]))
            out.append(ErpItem(
                sku=row["code"],
                name=row.get("name") or "",
                base_unit=base["name"],
                sale_unit=SaleUnit(name=sale["name"], factor=int(factor)),
                list_price=to_decimal(row.get("list_price_used")),
                active=bool(row.get("active", True)),
            ))
        return out

    @port_method
    def list_stock(self) -> list[StockLevel]:
        """Per warehouse: on hand in its storage zone, and reserved = committed to customer shipments.

        Reserved is every open (not done, not cancelled) move from the warehouse to a customer whose goods
        are still in the storage zone: its shipment is draft, waiting or assigned (picking carries the goods
        to the output dock, out of on hand), or the warehouse ships straight from storage. So an order counts
        from the moment it is committed, whether or not a person has assigned it yet, and never twice.

        Two calls per warehouse: one ``quantity`` read over all goods with ``stock_skip_warehouse`` (the
        warehouse's storage zone; goods in its input/output docks are not sellable or already picked), one
        ``search_read`` of those moves in product default units (``internal_quantity``).
        """
        out = []
        for code, wh in self._warehouses().items():
            storage = wh.get("storage_location")
            if not storage:
                continue
            rows = self.rpc.search_read(
                "product.product",
                [("type", "=", "goods"), ("code", "!=", None)],
                ["code", "quantity"],
                order=[("code", "ASC")],
                context={"locations": [wh["id"]], "stock_skip_warehouse": True},
            )
            moves = self.rpc.search_read(
                "stock.move",
                [
                    ("to_location.type", "=", "customer"),
                    ("state", "not in", list(_CLOSED_MOVE_STATES)),
                    ("from_location", "child_of", [wh["id"]], "parent"),
                    ["OR",
                     ("from_location", "child_of", [storage], "parent"),  # a one-step warehouse
                     ("shipment", "=", None),
                     ("shipment.state", "in", list(_UNPICKED_SHIPMENT_STATES), "stock.shipment.out")],
                ],
                ["product", "internal_quantity"],
            )
            reserved: dict[int, Decimal] = defaultdict(Decimal)
            for move in moves:
                reserved[move["product"]] += to_decimal(move.get("internal_quantity"))
            for row in rows:
                out.append(StockLevel(
                    sku=row["code"], warehouse_code=code,
                    on_hand=to_decimal(row.get("quantity")), reserved=reserved.get(row["id"], Decimal(0)),
                ))
        return out

    # ================================================================ orders: reads

    def _sale_rows(self, domain: list[Any], fields: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.rpc.search_read(
                "sale.sale", domain, fields, order=[("id", "ASC")], limit=500, offset=offset
            )
            out.extend(page)
            if len(page) < 500:
                return out
            offset += 500

    def _rows_by_id(self, ids: Sequence[int], fields: Sequence[str]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        unique = sorted({int(i) for i in ids})
        for start in range(0, len(unique), _READ_CHUNK):
            chunk = unique[start:start + _READ_CHUNK]
            for row in self.rpc.search_read("sale.sale", [("id", "in", chunk)], fields):
                out[int(row["id"])] = row
        return out

    def _rows_by_purchase_id(self, purchase_ids: Iterable[str], fields: Sequence[str]) -> dict[str, dict]:
        wanted = sorted({p for p in purchase_ids if p})
        fields = list(dict.fromkeys([*fields, conv.PURCHASE_ID_FIELD]))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _READ_CHUNK):
            chunk = wanted[start:start + _READ_CHUNK]
            rows = self.rpc.search_read(
                "sale.sale",
                [(conv.WEB_SHOP_FIELD, "=", self._shop()), (conv.PURCHASE_ID_FIELD, "in", chunk)],
                fields,
            )
            for row in rows:
                out[row[conv.PURCHASE_ID_FIELD]] = row
        return out

    @port_method
    def find_orders(self, purchase_ids: Sequence[str]) -> dict[str, ErpOrderRef]:
        """One search on (web_shop, web_id) per 200 ids."""
        rows = self._rows_by_purchase_id(purchase_ids, _REF_FIELDS)
        return {pid: order_ref(row) for pid, row in rows.items()}

    @port_method
    def order_status(self, erp_ids: Sequence[int]) -> list[ErpOrderStatus]:
        """One nested ``search_read`` per 200 orders; ids Tryton does not know are left out."""
        rows = self._rows_by_id(erp_ids, _STATUS_FIELDS)
        return [status_from_row(rows[i]) for i in dict.fromkeys(int(e) for e in erp_ids) if i in rows]

    @port_method
    def list_orders_between(self, start: dt.date, end: dt.date) -> list[ErpOrderStatus]:
        """Orders of the SparkLayer shop dated in [start, end): by ``sale_date`` (set at creation by this
        adapter; Tryton sets it on confirm otherwise), else by creation time for undated quotations."""
        start_ts = dt.datetime.combine(start, dt.time.min)
        end_ts = dt.datetime.combine(end, dt.time.min)
        domain = [
            (conv.WEB_SHOP_FIELD, "=", self._shop()),
            (conv.PURCHASE_ID_FIELD, "!=", None),
            ["OR",
             [("sale_date", ">=", start), ("sale_date", "<", end)],
             [("sale_date", "=", None), ("create_date", ">=", start_ts), ("create_date", "<", end_ts)]],
        ]
        return [status_from_row(row) for row in self._sale_rows(domain, _STATUS_FIELDS)]

    # ================================================================ orders: create

    def _parties(self, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
        codes = sorted({c for c in codes if c})
        if not codes:
            return {}
        rows = self.rpc.search_read(
            "party.party",
            [("code", "in", codes)],
            ["code", "customer_payment_term", "sale_price_list", "addresses.invoice", "addresses.delivery"],
        )
        return {row["code"]: row for row in rows}

    def _products(self, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
        skus = sorted({s for s in skus if s})
        if not skus:
            return {}
        rows = self.rpc.search_read(
            "product.product",
            [("code", "in", skus), ("salable", "=", True)],
            ["code", "name", "default_uom", "account_category.customer_taxes_used"],
        )
        return {row["code"]: row for row in rows}

    def _check_lines(
        self, lines: Sequence[ErpOrderLine], products: Mapping[str, dict[str, Any]]
    ) -> Refusal | None:
        """Refuse before any write: unknown SKUs, unknown or foreign units, non-whole quantities."""
        if not lines:
            return Refusal(RefusalReason.OTHER, "the order has no lines")
        unknown = sorted({ln.sku for ln in lines if ln.sku not in products})
        if unknown:
            return Refusal(RefusalReason.UNKNOWN_SKU, f"SKU(s) not sold in the ERP: {', '.join(unknown)}")
        uoms = self._uoms()
        for ln in lines:
            uom = uoms.get(ln.unit)
            if uom is None:
                return Refusal(RefusalReason.OTHER, f"unit {ln.unit!r} of {ln.sku} does not exist in the ERP")
            base = self._uom_by_id(products[ln.sku]["default_uom"])
            if uom["category"] != base["category"]:
                return Refusal(RefusalReason.OTHER, f"{ln.sku} cannot be sold in {ln.unit!r}")
            if ln.quantity <= 0:
                return Refusal(RefusalReason.OTHER, f"{ln.sku}: quantity must be positive, not {ln.quantity}")
            if not quantity_is_whole(Decimal(ln.quantity), to_decimal(uom.get("rounding"))):
                return Refusal(
                    RefusalReason.FRACTIONAL_QUANTITY,
                    f"{ln.sku}: {ln.quantity} {ln.unit} is not a whole number of {ln.unit}",
                )
        return None

    def _line_values(self, ln: ErpOrderLine, product: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "type": "line",
            "product": product["id"],
            "quantity": float(ln.quantity),
            "unit": self._uoms()[ln.unit]["id"],
            "unit_price": Decimal(ln.unit_price),
            "description": ln.description or product.get("name") or ln.sku,
        }
        # create does not fill taxes (pitfall P8); the product's are its accounting category's
        taxes = list(rel(product, "account_category").get("customer_taxes_used") or [])
        if taxes:
            values["taxes"] = [["add", taxes]]
        return values

    def _sale_values(self, draft: ErpOrderDraft, party: Mapping[str, Any], products: Mapping) -> dict:
        addresses = rels(party, "addresses")
        invoice_address = next((a for a in addresses if a.get("invoice")), addresses[0])
        delivery_address = next((a for a in addresses if a.get("delivery")), addresses[0])
        lines = [self._line_values(ln, products[ln.sku]) for ln in draft.lines]
        if draft.shipping_amount:
            shipping: dict[str, Any] = {
                "type": "line", "quantity": 1.0, "unit_price": Decimal(draft.shipping_amount),
                "description": "Shipping",
            }
            if self._shipping_tax_ids():
                shipping["taxes"] = [["add", self._shipping_tax_ids()]]
            lines.append(shipping)
        values: dict[str, Any] = {
            "party": party["id"],
            "invoice_address": invoice_address["id"],
            "shipment_address": delivery_address["id"],
            "payment_term": party.get("customer_payment_term"),
            "price_list": party.get("sale_price_list"),
            conv.PO_NUMBER_FIELD: draft.po_number or None,
            "description": order_description(draft.description),
            conv.WEB_SHOP_FIELD: self._shop(),
            conv.PURCHASE_ID_FIELD: draft.purchase_id,
            "sale_date": dt.date.today(),
            "lines": [["create", lines]],
        }
        warehouse = self._warehouses().get(conv.DEFAULT_WAREHOUSE_CODE)
        if warehouse:
            values["warehouse"] = warehouse["id"]
        return values

    def _refuse_draft(
        self, draft: ErpOrderDraft, parties: Mapping[str, dict], products: Mapping[str, dict]
    ) -> Refusal | None:
        party = parties.get(draft.account_code)
        if party is None:
            return Refusal(RefusalReason.UNKNOWN_CUSTOMER, f"no active ERP customer {draft.account_code!r}")
        if not rels(party, "addresses"):
            return Refusal(RefusalReason.OTHER, f"customer {draft.account_code} has no address in the ERP")
        if draft.currency != self.currency:
            return Refusal(RefusalReason.OTHER, f"order currency {draft.currency} is not {self.currency}")
        return self._check_lines(draft.lines, products)

    @port_method
    def create_orders(self, drafts: Sequence[ErpOrderDraft]) -> list[CreateResult]:
        """Lookup-before-create, typed refusals without an ERP write, then create, quote and confirm in
        batched calls of ``CREATE_CHUNK`` orders (any batch size is accepted).

        An existing order is returned with ``already_existed=True``; if it was left half-done by a crash it
        is finished (draft -> quote; commit requested and still a quotation -> confirm). A credit refusal on
        confirm leaves a quotation: the result carries the order (pending approval) AND the refusal.
        """
        results: dict[int, CreateResult] = {}
        first_of: dict[str, int] = {}
        for index, draft in enumerate(drafts):
            first_of.setdefault(draft.purchase_id, index)
        existing = self._rows_by_purchase_id(first_of, _REF_FIELDS)

        parties = self._parties(d.account_code for d in drafts if d.purchase_id not in existing)
        products = self._products(ln.sku for d in drafts if d.purchase_id not in existing for ln in d.lines)

        sale_of: dict[int, int] = {}  # draft index -> sale id
        known: dict[int, dict[str, Any]] = {}  # sale id -> its state before we finish it
        reused: set[int] = set()
        to_create: list[tuple[int, dict[str, Any]]] = []
        for pid, index in first_of.items():
            draft = drafts[index]
            if pid in existing:
                sale_of[index] = int(existing[pid]["id"])
                known[sale_of[index]] = existing[pid]
                reused.add(index)
                continue
            refusal = self._refuse_draft(draft, parties, products)
            if refusal is not None:
                results[index] = CreateResult(purchase_id=pid, refusal=refusal)
            else:
                to_create.append((index, self._sale_values(draft, parties[draft.account_code], products)))

        created, create_refusals, raced = self._create(to_create, drafts)
        for sid in created.values():
            known[sid] = {"state": "draft"}
        sale_of.update(created)
        sale_of.update(raced)
        reused.update(raced)
        if raced:
            known.update(self._rows_by_id(list(raced.values()), _REF_FIELDS))
        for index, refusal in create_refusals.items():
            results[index] = CreateResult(purchase_id=drafts[index].purchase_id, refusal=refusal)

        # finish: quote what is still a draft, confirm what must be committed
        to_quote = [sid for sid in sale_of.values() if known.get(sid, {}).get("state") == "draft"]
        failures: dict[int, Refusal] = {}
        for sid, err in self._each("quote", to_quote).items():
            failures[sid] = Refusal(RefusalReason.OTHER, f"the ERP would not quote the order: {err.message}")
        to_confirm = [
            sale_of[i] for i in sale_of
            if drafts[i].commit and sale_of[i] not in failures
            and known.get(sale_of[i], {}).get("state") in {"draft", "quotation"}
        ]
        failures.update(self._confirm(to_confirm))

        final = self._rows_by_id(list(sale_of.values()), _REF_FIELDS)
        for index, sid in sale_of.items():
            row = final.get(sid)
            if row is None:
                raise ErpTechnicalError(f"sale {sid} vanished right after it was created")
            results[index] = CreateResult(
                purchase_id=drafts[index].purchase_id,
                order=order_ref(row),
                refusal=failures.get(sid),
                already_existed=index in reused,
            )
        # a purchase id repeated within one call gets the first occurrence's order
        out = []
        for index, draft in enumerate(drafts):
            first = first_of[draft.purchase_id]
            if index == first:
                out.append(results[index])
            else:
                r = results[first]
                out.append(CreateResult(purchase_id=r.purchase_id, order=r.order, refusal=r.refusal,
                                        already_existed=r.order is not None))
        return out

    def _create(
        self, to_create: Sequence[tuple[int, dict[str, Any]]], drafts: Sequence[ErpOrderDraft]
    ) -> tuple[dict[int, int], dict[int, Refusal], dict[int, int]]:
        """``_create_chunk`` per ``CREATE_CHUNK`` orders (the constant says why), results merged."""
        created: dict[int, int] = {}
        refusals: dict[int, Refusal] = {}
        raced: dict[int, int] = {}
        for start in range(0, len(to_create), CREATE_CHUNK):
            chunk_created, chunk_refusals, chunk_raced = self._create_chunk(
                to_create[start:start + CREATE_CHUNK], drafts
            )
            created.update(chunk_created)
            refusals.update(chunk_refusals)
            raced.update(chunk_raced)
        return created, refusals, raced

    def _create_chunk(
        self, to_create: Sequence[tuple[int, dict[str, Any]]], drafts: Sequence[ErpOrderDraft]
    ) -> tuple[dict[int, int], dict[int, Refusal], dict[int, int]]:
        """One batched create; on a business error (typically another writer created one of these purchase
        ids meanwhile: the unique constraint fires and nothing was written) re-look-up, then create the
        rest one by one so a single bad order cannot block the others.

        Returns (created: index -> id, refusals: index -> Refusal, raced: index -> existing id).
        """
        if not to_create:
            return {}, {}, {}
        try:
            ids = self.rpc.model("sale.sale", "create", [values for _, values in to_create])
            return {index: int(sid) for (index, _), sid in zip(to_create, ids, strict=True)}, {}, {}
        except (TrytonUserError, TrytonUserWarning):
            pass
        created: dict[int, int] = {}
        refusals: dict[int, Refusal] = {}
        raced: dict[int, int] = {}
        found = self._rows_by_purchase_id((drafts[i].purchase_id for i, _ in to_create), ["id"])
        for index, values in to_create:
            pid = drafts[index].purchase_id
            if pid in found:
                raced[index] = int(found[pid]["id"])
                continue
            try:
                created[index] = int(self.rpc.model("sale.sale", "create", [values])[0])
            except (TrytonUserError, TrytonUserWarning) as err:
                again = self._rows_by_purchase_id([pid], ["id"])
                if pid in again:
                    raced[index] = int(again[pid]["id"])
                else:
                    refusals[index] = Refusal(RefusalReason.OTHER, f"the ERP refused the order: {err.message}")
        return created, refusals, raced

    def _each(self, method: str, ids: Sequence[int]) -> dict[int, TrytonUserError | TrytonUserWarning]:
        """``sale.sale.<method>`` on the ids, ``CREATE_CHUNK`` per call; if Tryton refuses a chunk (nothing
        of it is written), one call per id of that chunk so the refusal lands on the order that caused it."""
        errors: dict[int, TrytonUserError | TrytonUserWarning] = {}
        for start in range(0, len(ids), CREATE_CHUNK):
            errors.update(self._each_chunk(method, ids[start:start + CREATE_CHUNK]))
        return errors

    def _each_chunk(self, method: str, ids: Sequence[int]) -> dict[int, TrytonUserError | TrytonUserWarning]:
        if not ids:
            return {}
        try:
            self.rpc.model("sale.sale", method, list(ids))
            return {}
        except (TrytonUserError, TrytonUserWarning) as err:
            if len(ids) == 1:
                return {ids[0]: err}
        errors: dict[int, TrytonUserError | TrytonUserWarning] = {}
        for sid in ids:
            try:
                self.rpc.model("sale.sale", method, [sid])
            except (TrytonUserError, TrytonUserWarning) as err:
                errors[sid] = err
        return errors

    def _confirm(self, sale_ids: Sequence[int]) -> dict[int, Refusal]:
        """Confirm the orders that cannot breach a credit limit in one call, the others one by one."""
        if not sale_ids:
            return {}
        if len(sale_ids) == 1:  # nothing to plan: one order is one call either way
            safe, risky = [int(sale_ids[0])], []
        else:
            info = self._rows_by_id(
                sale_ids, ["party", "untaxed_amount", "party.credit_limit_amount", "party.credit_amount"]
            )
            safe, risky = plan_confirm([int(s) for s in sale_ids], info)
        errors = self._each("confirm", safe)
        for sid in risky:
            errors.update(self._each("confirm", [sid]))
        return self._classify_confirm_failures(errors)

    def _classify_confirm_failures(
        self, errors: Mapping[int, TrytonUserError | TrytonUserWarning]
    ) -> dict[int, Refusal]:
        """Credit refusals are recognised from the party's figures, not only the (translatable) text."""
        if not errors:
            return {}
        rows = self._rows_by_id(
            list(errors),
            ["untaxed_amount", "party.credit_limit_amount", "party.credit_amount", "party.categories.name"],
        )
        out = {}
        for sid, err in errors.items():
            party = rel(rows.get(sid), "party")
            limit = party.get("credit_limit_amount")
            on_hold = conv.CREDIT_HOLD_CATEGORY in {c.get("name") for c in rels(party, "categories")} or (
                limit is not None and limit == 0
            )
            exceeded = limit is not None and (
                to_decimal(party.get("credit_amount")) + to_decimal(rows.get(sid, {}).get("untaxed_amount"))
                > to_decimal(limit)
            )
            credit = exceeded or _credit_related(err.message)
            if credit and on_hold:
                out[sid] = Refusal(RefusalReason.CREDIT_HOLD, f"customer is on credit hold: {err.message}")
            elif credit:
                out[sid] = Refusal(RefusalReason.CREDIT_LIMIT, err.message)
            else:
                out[sid] = Refusal(RefusalReason.OTHER, f"the ERP would not confirm the order: {err.message}")
        return out

    # ================================================================ orders: actions

    def _one(self, erp_id: int, fields: Sequence[str]) -> dict[str, Any] | None:
        return self._rows_by_id([erp_id], fields).get(int(erp_id))

    @port_method
    def approve_order(self, erp_id: int) -> ActionResult:
        """Confirm a pending-approval order. Already committed/done -> ok (idempotent)."""
        row = self._one(erp_id, _STATE_FIELDS)
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        state = order_state(row)
        if state in {ErpOrderState.COMMITTED, ErpOrderState.DONE}:
            return ActionResult(ok=True, detail={"state": state.value, "already": True})
        if state == ErpOrderState.CANCELLED:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.ALREADY_CANCELLED, "the order is cancelled"))
        if state == ErpOrderState.DRAFT:
            error = self._each("quote", [int(erp_id)]).get(int(erp_id))
            if error is not None:
                return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, error.message))
        refusal = self._confirm([int(erp_id)]).get(int(erp_id))
        if refusal is not None:
            return ActionResult(ok=False, refusal=refusal, detail={"state": ErpOrderState.PENDING_APPROVAL.value})
        return ActionResult(ok=True, detail={"state": ErpOrderState.COMMITTED.value})

    @port_method
    def cancel_order(self, erp_id: int) -> ActionResult:
        """Draft/quotation -> ``sale.cancel``. Committed with nothing allocated -> cancel the draft/waiting
        shipments and the draft invoices, then ignore both in the exception wizards (Tryton ends the sale in
        ``done`` with nothing delivered, which this adapter reports as cancelled). Refuses, touching nothing,
        once stock is allocated or an invoice is posted."""
        row = self._one(erp_id, _STATE_FIELDS)
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        state = order_state(row)
        if state == ErpOrderState.CANCELLED:
            return ActionResult(ok=True, detail={"already": True})
        if point_of_no_return(row):
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.POINT_OF_NO_RETURN,
                "stock is already allocated to a shipment: the warehouse owns this order now",
            ))
        if state in {ErpOrderState.DRAFT, ErpOrderState.PENDING_APPROVAL}:
            error = self._each("cancel", [int(erp_id)]).get(int(erp_id))
            if error is not None:
                return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, error.message))
            return ActionResult(ok=True, detail={"procedure": "cancel"})
        if state == ErpOrderState.DONE:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.POINT_OF_NO_RETURN, "the order is done"))
        return self._cancel_committed(int(erp_id))

    def _cancel_committed(self, erp_id: int) -> ActionResult:
        detail = self._one(erp_id, ["shipments.state", "invoices.state"]) or {}
        shipments = [sh for sh in rels(detail, "shipments") if sh.get("state") != "cancelled"]
        invoices = [inv for inv in rels(detail, "invoices") if inv.get("state") != "cancelled"]
        if any(inv.get("state") != "draft" for inv in invoices):
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.INVALID_STATE,
                "the invoice is already posted: cancelling needs a credit note (finance)",
            ))
        if any(sh.get("state") not in _CANCELLABLE_SHIPMENT_STATES for sh in shipments):
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.POINT_OF_NO_RETURN, "a shipment is already being fulfilled"
            ))
        try:
            if shipments:
                self.rpc.model("stock.shipment.out", "cancel", [int(sh["id"]) for sh in shipments])
            if invoices:
                self.rpc.model("account.invoice", "cancel", [int(inv["id"]) for inv in invoices])
            self._ignore_exceptions(erp_id, "sale.handle.invoice.exception", "invoices")
            self._ignore_exceptions(erp_id, "sale.handle.shipment.exception", "moves")
        except (TrytonUserError, TrytonUserWarning) as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, err.message))
        row = self._one(erp_id, _STATE_FIELDS)
        if row is None or order_state(row) != ErpOrderState.CANCELLED:
            raise ErpTechnicalError(f"sale {erp_id}: cancel procedure ran but the order is not cancelled")
        return ActionResult(ok=True, detail={"procedure": "cancel_after_commit"})

    def _ignore_exceptions(self, erp_id: int, wizard: str, kind: str) -> None:
        """Run a sale exception wizard telling Tryton to ignore (not recreate) every cancelled record."""
        with self.rpc.wizard(wizard, "sale.sale", [erp_id]) as session:
            ask = session.execute("ask", {})
            domain = TrytonRpc.view_defaults(ask).get(f"domain_{kind}") or []
            if not domain:
                return
            session.execute("handle", {"ask": {
                f"recreate_{kind}": [], f"ignore_{kind}": list(domain), f"domain_{kind}": list(domain),
            }})

    @port_method
    def amend_order(self, erp_id: int, lines: Sequence[ErpOrderLine]) -> ActionResult:
        """Replace the lines of a draft or quotation (quotation -> draft -> write -> quote).

        Committed orders are refused with INVALID_STATE (Tryton cannot reopen a processing sale; see the
        module doc), allocated ones with POINT_OF_NO_RETURN.
        """
        row = self._one(erp_id, _STATE_FIELDS + ("lines",))
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        state = order_state(row)
        if point_of_no_return(row) or state == ErpOrderState.DONE:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.POINT_OF_NO_RETURN, "stock is already allocated: the order cannot change"
            ))
        if state == ErpOrderState.CANCELLED:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.ALREADY_CANCELLED, "the order is cancelled"))
        if state == ErpOrderState.COMMITTED:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.INVALID_STATE,
                "the order is committed: Tryton cannot reopen it; cancel and re-order instead",
            ))
        products = self._products(ln.sku for ln in lines)
        refusal = self._check_lines(lines, products)
        if refusal is not None:
            return ActionResult(ok=False, refusal=refusal)
        new_lines = [self._line_values(ln, products[ln.sku]) for ln in lines]
        old_lines = [int(i) for i in row.get("lines") or []]
        try:
            if state == ErpOrderState.PENDING_APPROVAL:
                self.rpc.model("sale.sale", "draft", [int(erp_id)])
            self.rpc.model("sale.sale", "write", [int(erp_id)], {
                "lines": [["delete", old_lines], ["create", new_lines]],
            })
            if state == ErpOrderState.PENDING_APPROVAL:
                self.rpc.model("sale.sale", "quote", [int(erp_id)])
        except (TrytonUserError, TrytonUserWarning) as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, err.message))
        return ActionResult(ok=True, detail={"lines": len(new_lines)})

    # ================================================================ payments

    @port_method
    def record_payment(self, erp_id: int, amount: Decimal, paid_on: dt.date, reference: str) -> ActionResult:
        """Settle the order's invoice(s) with a payment taken at checkout.

        Posts a draft invoice first (that is when it becomes a receivable), then runs ``account.invoice.pay``
        with the card payment method, ``reference`` as the payment's description. Idempotent: a payment line
        with this reference, or a fully paid invoice, means done. A payment larger than what is due is
        refused (no silent overpayment); a smaller one is recorded as a partial payment.
        """
        amount = Decimal(amount)
        fields = [
            "invoices.state", "invoices.number", "invoices.total_amount", "invoices.amount_to_pay",
            "invoices.payment_lines.move_description_used",
        ]
        row = self._one(erp_id, fields)
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        invoices = [inv for inv in rels(row, "invoices") if inv.get("state") != "cancelled"]
        recorded = {
            ln.get("move_description_used") for inv in invoices for ln in rels(inv, "payment_lines")
        }
        if reference and reference in recorded:
            return ActionResult(ok=True, detail={"already": True})
        if not invoices:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.INVALID_STATE, "the order has no invoice yet (it is not committed)"
            ))
        if all(inv.get("state") == "paid" for inv in invoices):
            return ActionResult(ok=True, detail={"already": True})
        if amount <= 0:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"payment amount {amount}"))
        due = sum(
            (to_decimal(inv.get("total_amount")) if inv.get("state") == "draft"
             else to_decimal(inv.get("amount_to_pay")))
            for inv in invoices if inv.get("state") in {"draft", "posted"}
        )
        if amount > due:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.OTHER, f"payment {amount} is more than the {due} due on the order"
            ))
        drafts = [int(inv["id"]) for inv in invoices if inv.get("state") == "draft"]
        try:
            if drafts:
                self.rpc.model("account.invoice", "post", drafts)
            posted = self.rpc.search_read(
                "account.invoice", [("id", "in", [int(inv["id"]) for inv in invoices]), ("state", "=", "posted")],
                ["amount_to_pay", "number"], order=[("id", "ASC")],
            )
            remaining = amount
            paid_numbers = []
            for inv in posted:
                to_pay = min(remaining, to_decimal(inv.get("amount_to_pay")))
                if to_pay <= 0:
                    continue
                self._pay_invoice(int(inv["id"]), to_pay, paid_on, reference)
                paid_numbers.append(inv.get("number"))
                remaining -= to_pay
                if remaining <= 0:
                    break
        except (TrytonUserError, TrytonUserWarning) as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, err.message))
        return ActionResult(ok=True, detail={"invoices": paid_numbers, "unapplied": str(remaining)})

    def _pay_invoice(self, invoice_id: int, amount: Decimal, paid_on: dt.date, reference: str) -> None:
        """The ``account.invoice.pay`` wizard (its create needs a fresh session: the RPC client re-logs in
        on the 401 Tryton answers for a stale one)."""
        with self.rpc.wizard("account.invoice.pay", "account.invoice", [invoice_id]) as session:
            start = TrytonRpc.view_defaults(session.execute("start", {}))
            start.update({
                "payment_method": self._pay_method(), "date": paid_on, "description": reference,
                "amount": amount,
            })
            answer = session.execute("choice", {"start": start})
            if session.view_state(answer) == "ask":  # less than the whole amount: a partial payment
                ask = TrytonRpc.view_defaults(answer)
                ask["type"] = "partial"
                session.execute("pay", {"start": start, "ask": ask})
