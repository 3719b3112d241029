"""Demo back office: the ERP's staff (and the shop's admin) at work on the orders the integration created.

The simulated buyers only place orders; without people in the ERP nothing would ever ship, be invoiced or
come back. This slow background actor plays them: on the local Tryton over JSON-RPC as the demo's ERP
administrator (``TrytonStaff``), or on the NetSuite emulator through its REST API (``NetSuiteEmulatorStaff``:
sales order → item fulfilment, shipped → invoice; invoice → credit memo):

* the warehouse ships committed orders: every ``PARTS_EVERY``-th in two parts (the first shipment with part
  of the lines or quantities and a tracking number, the rest ``part_gap_s`` later), the others whole;
* finance books the invoice of a shipped order (Tryton: posts the draft; NetSuite: bills the fulfilled
  order), and the integration settles card orders itself;
* for every ``RETURN_EVERY``-th order, finance credits part of the shipped goods (Tryton's Credit wizard, a
  NetSuite credit memo) and notes "Goods returned" (the mark the adapters read as "goods came back");
* in the shop, every ``REFUND_EVERY``-th shipped card-paid order gets a refund transaction for part of its
  total (the shop admin refunding the buyer), which the follow-up job turns into an ERP credit note.

Which order gets what depends only on the order in which the back office meets them (ERP order id order) and
the seed, so two demos look alike. Everything is re-read from the ERP and the shop each step, so a restart
simply goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.rpc import TrytonRpc

log = logging.getLogger(__name__)

PARTS_EVERY = 3  # the 1st, 4th, 7th … order met ships in two parts
RETURN_EVERY = 5  # the 2nd, 7th, 12th … order met has goods returned (ERP credit note)
REFUND_EVERY = 3  # the 1st, 4th, 7th … shipped card-paid order is partly refunded in the shop
_CENT = Decimal("0.01")
_OPEN_SHIPMENT = ("draft", "waiting", "assigned", "picked", "packed")


# --- the choices (pure; tested without servers) ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StaffPlan:
    """What the staff will do with the k-th order they meet."""

    in_parts: bool
    goods_return: bool


def staff_plan(k: int) -> StaffPlan:
    return StaffPlan(in_parts=k % PARTS_EVERY == 0, goods_return=k % RETURN_EVERY == 1)


def refunds_paid_order(j: int) -> bool:
    """Whether the j-th shipped card-paid order is partly refunded in the shop."""
    return j % REFUND_EVERY == 0


def first_part(moves: Sequence[tuple[int, Decimal]], rng: random.Random) -> dict[int, Decimal] | None:
    """The quantities (move id → ERP units) the first of two shipments takes; None when the order cannot be
    split (one move of one unit). Either some lines ship whole and the others wait, or every line ships about
    half; something always ships and something is always left."""
    moves = [(move, Decimal(qty)) for move, qty in moves if Decimal(qty) > 0]
    halves = [m for m, q in moves if q >= 2]
    if len(moves) >= 2 and (not halves or rng.random() < 0.5):
        shipping = set(rng.sample([m for m, _ in moves], k=rng.randint(1, len(moves) - 1)))
        return {m: (q if m in shipping else Decimal(0)) for m, q in moves}
    if not halves:
        return None
    return {m: (Decimal(int(q) // 2) if q >= 2 else q) for m, q in moves}


def returned_goods(lines: Sequence[tuple[int, Decimal]], rng: random.Random) -> tuple[int, Decimal]:
    """Which invoiced line (id) comes back and how much of it: one to half of its quantity, whole units."""
    line, quantity = rng.choice([(ln, Decimal(q)) for ln, q in lines if Decimal(q) >= 1])
    return line, Decimal(rng.randint(1, max(1, int(quantity) // 2)))


def refund_amount(paid: Decimal, rng: random.Random) -> Decimal:
    """A partial refund: 10-30 % of what was paid, to the cent, at least one cent."""
    share = Decimal(rng.randint(10, 30)) / 100
    return max(_CENT, (paid * share).quantize(_CENT, rounding=ROUND_HALF_UP))


# --- the ERP's people ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ErpOrder:
    """An integration order as the back office sees it in the ERP."""

    order_id: int
    number: str
    purchase_id: str
    to_ship: int | None  # what the next shipment is made from (Tryton: the open shipment; NetSuite: the order)
    shipped: int  # shipments that left
    to_book: tuple[int, ...]  # what finance books next (Tryton: draft invoices; NetSuite: the order to bill)
    booked_invoices: tuple[int, ...]  # posted/open or paid invoices (not credit notes)
    credited: bool  # a credit note points at one of its invoices


class Staff(Protocol):
    """The ERP's warehouse and finance people, as the back office needs them."""

    def orders(self, skip: Sequence[int] = (), only: Sequence[str] | None = None,
               since: dt.datetime | None = None) -> list[ErpOrder]: ...

    def lines_to_ship(self, to_ship: int) -> list[tuple[int, Decimal]]: ...

    def ship(self, to_ship: int, tracking: str, quantities: Mapping[int, Decimal] | None = None) -> bool: ...

    def book(self, to_book: Sequence[int]) -> None: ...

    def credit_returned_goods(self, invoice_id: int, rng: random.Random, reason: str) -> str | None: ...

    def close(self) -> None: ...


# --- … in Tryton -------------------------------------------------------------------------------------------------


class TrytonStaff:
    """Warehouse and finance in the local Tryton, over JSON-RPC (never the integration's own code paths)."""

    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc

    @classmethod
    def local_admin(cls, url: str, db_name: str) -> TrytonStaff:
        """As the administrator of the local demo database (demo-only credentials)."""
        return cls(TrytonRpc(url, db_name, conv.ADMIN_LOGIN, conv.DEFAULT_ADMIN_PASSWORD))

    def close(self) -> None:
        self.rpc.close()

    def orders(self, skip: Sequence[int] = (), only: Sequence[str] | None = None,
               since: dt.datetime | None = None) -> list[ErpOrder]:
        """The integration's committed orders (from the SparkLayer web shop), oldest first, minus ``skip``
        (sale ids); ``only`` these purchase ids, and only those created from ``since`` (UTC), when given."""
        domain: list[Any] = [(conv.PURCHASE_ID_FIELD, "!=", None), (conv.PURCHASE_ID_FIELD, "!=", ""),
                             ("state", "in", ["processing", "done"])]
        if skip:
            domain.append(("id", "not in", list(skip)))
        if only is not None:
            domain.append((conv.PURCHASE_ID_FIELD, "in", list(only)))
        if since is not None:  # Tryton keeps create_date as naive UTC
            domain.append(("create_date", ">=", since.astimezone(dt.UTC).replace(tzinfo=None)))
        rows = self.rpc.search_read("sale.sale", domain, ["number", conv.PURCHASE_ID_FIELD, "state", "shipments",
                                                          "invoices"], order=[("id", "ASC")])
        shipment_ids = sorted({int(i) for r in rows for i in r.get("shipments") or []})
        invoice_ids = sorted({int(i) for r in rows for i in r.get("invoices") or []})
        shipments = {int(s["id"]): s["state"] for s in self.rpc.search_read(
            "stock.shipment.out", [("id", "in", shipment_ids)], ["state"])} if shipment_ids else {}
        invoices = {int(i["id"]): i for i in self.rpc.search_read(
            "account.invoice", [("id", "in", invoice_ids)], ["state", "total_amount", "lines"])} if invoice_ids else {}
        credited_lines = self._credited_lines([ln for i in invoices.values() for ln in i.get("lines") or []])
        out = []
        for r in rows:
            ships = [(int(i), shipments.get(int(i), "")) for i in r.get("shipments") or []]
            invs = [invoices[int(i)] for i in r.get("invoices") or [] if int(i) in invoices]
            booked = [i for i in invs if i["state"] in ("posted", "paid") and Decimal(str(i["total_amount"])) > 0]
            open_shipments = sorted(i for i, s in ships if s in _OPEN_SHIPMENT)
            out.append(ErpOrder(
                order_id=int(r["id"]), number=str(r.get("number") or r["id"]),
                purchase_id=str(r[conv.PURCHASE_ID_FIELD]),
                to_ship=open_shipments[0] if open_shipments else None,
                shipped=sum(1 for _, s in ships if s == "done"),
                to_book=tuple(int(i["id"]) for i in invs if i["state"] == "draft"),
                booked_invoices=tuple(int(i["id"]) for i in booked),
                credited=any(int(ln) in credited_lines for i in invs for ln in i.get("lines") or []),
            ))
        return out

    def _credited_lines(self, line_ids: Sequence[int]) -> set[int]:
        """Invoice lines that a credit note line (draft or booked) points at."""
        if not line_ids:
            return set()
        origins = [f"account.invoice.line,{int(i)}" for i in line_ids]
        rows = self.rpc.search_read("account.invoice.line", [("origin", "in", origins),
                                                             ("invoice.state", "!=", "cancelled")], ["origin"])
        return {int(str(r["origin"]).split(",", 1)[1]) for r in rows}

    def lines_to_ship(self, shipment_id: int) -> list[tuple[int, Decimal]]:
        """The shipment's inventory moves: (move id, quantity in the order line's unit)."""
        (shipment,) = self.rpc.search_read("stock.shipment.out", [("id", "=", shipment_id)], ["inventory_moves"])
        rows = self.rpc.search_read("stock.move", [("id", "in", shipment["inventory_moves"])], ["quantity"],
                                    order=[("id", "ASC")])
        return [(int(r["id"]), Decimal(str(r["quantity"]))) for r in rows]

    def ship(self, shipment_id: int, tracking: str, quantities: Mapping[int, Decimal] | None = None) -> bool:
        """The picker takes ``quantities`` (move id → units; all when None), then assign, tracking, pick, pack,
        done. Tryton puts what was left behind on a new shipment. False (nothing done) when the stock is short."""
        for move, quantity in (quantities or {}).items():
            self.rpc.model("stock.move", "write", [move], {"quantity": float(quantity)})
        self.rpc.model("stock.shipment.out", "assign_try", [shipment_id])
        (row,) = self.rpc.search_read("stock.shipment.out", [("id", "=", shipment_id)], ["state"])
        if row["state"] != "assigned":
            return False
        self.rpc.model("stock.shipment.out", "write", [shipment_id], {conv.TRACKING_FIELD: tracking})
        for step in ("pick", "pack", "do"):
            self.rpc.model("stock.shipment.out", step, [shipment_id])
        return True

    def book(self, invoice_ids: Sequence[int]) -> None:
        """Post the draft invoices (GL entries, number)."""
        self.rpc.model("account.invoice", "post", list(invoice_ids))

    def credit_returned_goods(self, invoice_id: int, rng: random.Random, reason: str) -> str | None:
        """Finance credits part of the invoice with Tryton's Credit wizard (no refund): the draft note is cut
        down to the goods that came back, marked "Goods returned" and posted. Returns the note's number."""
        lines = self.rpc.search_read("account.invoice.line", [("invoice", "=", invoice_id), ("type", "=", "line"),
                                                              ("product", "!=", None)], ["quantity"])
        if not lines:
            return None
        line, quantity = returned_goods([(int(r["id"]), Decimal(str(r["quantity"]))) for r in lines], rng)
        with self.rpc.wizard("account.invoice.credit", "account.invoice", [invoice_id]) as session:
            start = TrytonRpc.view_defaults(session.execute("start", {}))
            start["with_refund"] = False
            session.execute("credit", {"start": start})
        notes = self.rpc.search_read("account.invoice", [
            ("state", "=", "draft"), ("lines.origin", "=", f"account.invoice.line,{line}")], ["lines"])
        if not notes:
            return None
        note = int(notes[-1]["id"])
        note_lines = self.rpc.search_read("account.invoice.line", [("invoice", "=", note)], ["origin"])
        keep = [int(r["id"]) for r in note_lines if r.get("origin") == f"account.invoice.line,{line}"]
        drop = [int(r["id"]) for r in note_lines if int(r["id"]) not in keep[:1]]
        if drop:
            self.rpc.model("account.invoice.line", "delete", drop)
        self.rpc.model("account.invoice.line", "write", keep[:1], {"quantity": -float(quantity)})
        self.rpc.model("account.invoice", "write", [note], {"description": reason[:250],
                                                           "comment": f"Goods returned: {reason}"})
        self.rpc.model("account.invoice", "post", [note])
        (row,) = self.rpc.search_read("account.invoice", [("id", "=", note)], ["number"])
        return str(row.get("number") or note)


# --- … in the NetSuite emulator --------------------------------------------------------------------------------

_SO_WORKED = ("B", "D", "E", "F", "G")  # pending fulfilment … billed (not pending approval, cancelled, closed)


def _letter(row: Mapping[str, Any]) -> str:
    """``"SalesOrd:B"`` → ``"B"``."""
    return str(row.get("statuscode") or "").rpartition(":")[2]


class NetSuiteEmulatorStaff:
    """Warehouse and accounts people in the NetSuite emulator, through its REST API as its administrator:
    ``!transform`` sales order → item fulfilment (shipped) → invoice, invoice → credit memo."""

    def __init__(self, api: Any) -> None:
        self.api = api  # demo.netsuite.staff.NetSuiteStaff

    @classmethod
    def on(cls, base_url: str) -> NetSuiteEmulatorStaff:
        from sparklayer_erp.demo.netsuite.staff import NetSuiteStaff

        return cls(NetSuiteStaff(base_url))

    def close(self) -> None:
        self.api.close()

    def _query(self, query: Any) -> list[dict[str, Any]]:
        return self.api.suiteql(query.q, list(query.params))

    def orders(self, skip: Sequence[int] = (), only: Sequence[str] | None = None,
               since: dt.datetime | None = None) -> list[ErpOrder]:
        """As ``TrytonStaff.orders``; ``since`` by the order's date (a day early)."""
        from sparklayer_erp.erp.netsuite import queries as q

        if only is not None and not only:
            return []
        sql = ("SELECT t.id, t.tranid, t.externalid, BUILTIN.CF(t.status) AS statuscode FROM transaction t "
               "WHERE t.type = 'SalesOrd' AND t.externalid IS NOT NULL")
        params: list[Any] = []
        if skip:
            sql += f" AND t.id NOT IN ({q.in_list(skip)})"
            params.extend(int(i) for i in skip)
        if only is not None:
            sql += f" AND t.externalid IN ({q.in_list(only)})"
            params.extend(only)
        if since is not None:  # a day early: trandate is a day in the account's time zone, not UTC
            day = (since - dt.timedelta(days=1)).date().isoformat()
            sql += f" AND t.trandate >= TO_DATE('{day}', 'YYYY-MM-DD')"
        rows = [r for r in self.api.suiteql(sql + " ORDER BY t.id", params) if _letter(r) in _SO_WORKED]
        if not rows:
            return []
        ids = [int(r["id"]) for r in rows]
        shipped: dict[int, int] = {}
        for f in self._query(q.fulfilments(ids)):
            if _letter(f) == "C":
                shipped[int(f["salesorder"])] = shipped.get(int(f["salesorder"]), 0) + 1
        invoices: dict[int, list[int]] = {}
        for inv in self._query(q.invoices(ids)):
            if _letter(inv) in ("A", "B"):  # open or paid in full
                invoices.setdefault(int(inv["salesorder"]), []).append(int(inv["id"]))
        booked = [i for ids_ in invoices.values() for i in ids_]
        credited = {int(m["invoice"]) for m in self._query(q.credit_memos(booked))} if booked else set()
        out = []
        for r in rows:
            order_id = int(r["id"])
            lines = self._open_lines(order_id)
            left = sum((ordered - done for _, ordered, done, _ in lines), Decimal(0))
            unbilled = sum((done - billed for _, _, done, billed in lines), Decimal(0))
            out.append(ErpOrder(
                order_id=order_id, number=str(r.get("tranid") or order_id), purchase_id=str(r["externalid"]),
                to_ship=order_id if left > 0 else None, shipped=shipped.get(order_id, 0),
                to_book=(order_id,) if left <= 0 and unbilled > 0 else (),
                booked_invoices=tuple(invoices.get(order_id, ())),
                credited=any(i in credited for i in invoices.get(order_id, ())),
            ))
        return out

    def _open_lines(self, order_id: int) -> list[tuple[int, Decimal, Decimal, Decimal]]:
        """(line, quantity, fulfilled, billed) of the order's lines that are not closed."""
        items = ((self.api.get("salesOrder", order_id).get("item") or {}).get("items")) or []
        return [(int(ln["line"]), Decimal(str(ln.get("quantity") or 0)), Decimal(str(ln.get("quantityFulfilled") or 0)),
                 Decimal(str(ln.get("quantityBilled") or 0))) for ln in items if not ln.get("isClosed")]

    def lines_to_ship(self, order_id: int) -> list[tuple[int, Decimal]]:
        return [(line, ordered - done) for line, ordered, done, _ in self._open_lines(order_id) if ordered > done]

    def ship(self, order_id: int, tracking: str, quantities: Mapping[int, Decimal] | None = None) -> bool:
        lines = {line: float(qty) for line, qty in quantities.items() if qty > 0} if quantities else None
        try:
            self.api.ship(order_id, tracking=(tracking,), lines=lines)
        except RuntimeError as exc:  # the emulator refused (e.g. not enough on hand): try again later
            log.info("back office: NetSuite did not fulfil sales order %s: %s", order_id, exc)
            return False
        return True

    def book(self, order_ids: Sequence[int]) -> None:
        """Bill what was fulfilled (the integration then settles card orders)."""
        for order_id in order_ids:
            self.api.invoice(order_id)

    def credit_returned_goods(self, invoice_id: int, rng: random.Random, reason: str) -> str | None:
        from sparklayer_erp.erp.netsuite.conventions import GOODS_RETURNED_MARK

        items = ((self.api.get("invoice", invoice_id).get("item") or {}).get("items")) or []
        lines = [(int(ln["line"]), Decimal(str(ln.get("quantity") or 0))) for ln in items]
        if not any(qty >= 1 for _, qty in lines):
            return None
        line, quantity = returned_goods(lines, rng)
        memo = self.api.transform("invoice", invoice_id, "creditMemo", {
            "memo": f"{GOODS_RETURNED_MARK}. {reason}",
            "item": {"items": [{"line": line, "quantity": float(quantity)}]}})
        return str(self.api.get("creditMemo", memo).get("tranId") or memo)


# --- the shop's admin (sandbox, in process) ----------------------------------------------------------------------


class ShopAdmin:
    """Refunds a buyer in the sandbox shop the way the platform records one: a purchase transaction of type
    refund, applied to the balance. In process (the demo runs the sandbox in the same process), so it is not
    in the log of what the integration wrote."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox  # demo.sandbox.service.Sandbox

    def card_payment(self, purchase_id: str) -> tuple[Decimal, str] | None:
        """What a card-paid, not yet refunded purchase was paid (amount, currency); None otherwise."""
        from sparklayer_erp.demo.sandbox import purchases

        try:
            transactions = purchases.list_transactions(self.sandbox.db, "sparklayer", purchase_id)
        except Exception:  # not in this shop (an order of another sandbox database): nothing to refund
            return None
        if any(t.get("type") == "refund" for t in transactions):
            return None
        paid = [t for t in transactions if t.get("type") == "payment" and t.get("apply_to_balance")]
        if not paid:
            return None
        total = sum((Decimal(str(t["total"]["number"])) for t in paid), Decimal(0))
        return (total, str(paid[0]["total"]["currency"])) if total > 0 else None

    def refund(self, purchase_id: str, platform_id: str, amount: Decimal, currency: str, reason: str) -> None:
        from sparklayer_erp.demo.sandbox import purchases

        purchases.put_transaction(self.sandbox.db, "sparklayer", purchase_id, {
            "platform_id": platform_id, "type": "refund", "apply_to_balance": True,
            "total": {"number": str(-amount), "currency": currency},
            "full_transaction": {"gateway": "sandbox-card", "status": "success", "reason": reason}})


# --- the actor ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Track:
    k: int
    plan: StaffPlan
    first_seen: float
    part_shipped_at: float | None = None
    refund_decided: bool = False
    done: bool = False
    short_logged: bool = False


class BackOffice:
    """The staff's slow loop: one ``step`` every ``every_s``; an order is only touched ``settle_s`` after the
    back office first saw it (buyers may still cancel), the second part ships ``part_gap_s`` after the first.
    ``since``: only orders created from then (the demo's ERP database keeps earlier demos' orders); ``only``:
    work on these purchase ids alone (a test sharing its ERP with others)."""

    def __init__(self, staff: Staff, shop: ShopAdmin | None = None, *, every_s: float = 10.0,
                 settle_s: float = 20.0, part_gap_s: float = 45.0, seed: int = 11,
                 clock: Callable[[], float] = time.monotonic, since: dt.datetime | None = None,
                 only: Sequence[str] | None = None) -> None:
        self.staff, self.shop, self.since, self.only = staff, shop, since, only
        self.every_s, self.settle_s, self.part_gap_s = every_s, settle_s, part_gap_s
        self.rng = random.Random(seed)
        self.clock = clock
        self.tracks: dict[int, _Track] = {}
        self.paid_seen = 0
        self.actions: list[tuple[str, str]] = []  # (ERP order number, what was done), for tests and logs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-back-office", daemon=True)

    def start(self) -> BackOffice:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.staff.close()

    def _did(self, order: ErpOrder, what: str) -> None:
        self.actions.append((order.number, what))
        log.info("back office: order %s %s", order.number, what)

    def step(self) -> None:
        now = self.clock()
        done = [oid for oid, t in self.tracks.items() if t.done]
        for order in self.staff.orders(skip=done, only=self.only, since=self.since):
            track = self.tracks.get(order.order_id)
            if track is None:
                k = len(self.tracks)
                track = self.tracks[order.order_id] = _Track(k, staff_plan(k), now)
            if now - track.first_seen < self.settle_s:
                continue
            try:
                self._work(order, track, now)
            except Exception:  # one order's trouble (e.g. a person's edit in the ERP) must not stop the others
                log.exception("back office: order %s failed; tried again next step", order.number)

    def _work(self, order: ErpOrder, track: _Track, now: float) -> None:
        if order.to_ship is not None:
            self._ship(order, track, now)
            return
        if not order.shipped:  # nothing to ship and nothing shipped (cancelled lines): leave it
            track.done = True
            return
        if order.to_book:
            self.staff.book(order.to_book)
            self._did(order, "invoiced")
            return  # the next step sees the booked invoice
        returned = not track.plan.goods_return or order.credited
        if not returned and order.booked_invoices:
            number = self.staff.credit_returned_goods(order.booked_invoices[0], self.rng,
                                                      f"customer sent back part of order {order.number}")
            self._did(order, f"goods returned: credit note {number}")
            returned = True
        if not track.refund_decided and self.shop is not None and not track.plan.goods_return:
            self._refund(order, track)  # never both on one order: a return already credits its money
        track.done = returned and (track.refund_decided or self.shop is None or track.plan.goods_return)

    def _ship(self, order: ErpOrder, track: _Track, now: float) -> None:
        assert order.to_ship is not None
        part = order.shipped + 1
        tracking = f"TRK-{order.number}-{part}"
        quantities = None
        if order.shipped == 0 and track.plan.in_parts:
            quantities = first_part(self.staff.lines_to_ship(order.to_ship), self.rng)
        elif order.shipped and track.part_shipped_at is not None and now - track.part_shipped_at < self.part_gap_s:
            return  # the rest ships a while later
        if self.staff.ship(order.to_ship, tracking, quantities):
            track.part_shipped_at = now
            self._did(order, f"{'part ' if quantities else ''}shipped (shipment {part}, tracking {tracking})")
        elif not track.short_logged:
            track.short_logged = True
            log.info("back office: order %s waits for stock", order.number)

    def _refund(self, order: ErpOrder, track: _Track) -> None:
        assert self.shop is not None
        track.refund_decided = True
        paid = self.shop.card_payment(order.purchase_id)
        if paid is None:
            return
        j, self.paid_seen = self.paid_seen, self.paid_seen + 1
        if not refunds_paid_order(j):
            return
        amount = refund_amount(paid[0], self.rng)
        self.shop.refund(order.purchase_id, f"refund-{order.number}-1", amount, paid[1],
                         "goodwill: part of the delivery arrived damaged")
        self._did(order, f"refunded {paid[1].upper()} {amount} in the shop")

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.step()
            except Exception:  # the ERP restarting or busy: log and go on, as the simulator does
                log.exception("back office step failed")


def start_back_office(sandbox: Any, *, tryton: Any = None, netsuite_url: str | None = None) -> BackOffice | None:
    """The demo's back office on the local Tryton (a ``TrytonServer``) or the NetSuite emulator, and the
    in-process sandbox; None (one log line) with neither."""
    staff: Staff
    if tryton is not None:
        staff = TrytonStaff.local_admin(tryton.url, tryton.db_name)
    elif netsuite_url:
        staff = NetSuiteEmulatorStaff.on(netsuite_url)
    else:
        log.info("the demo's back office needs the local Tryton or the NetSuite emulator: nobody ships, invoices "
                 "or credits the simulated orders")
        return None
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # the simulator starts at the same moment
    return BackOffice(staff, ShopAdmin(sandbox), since=started).start()
