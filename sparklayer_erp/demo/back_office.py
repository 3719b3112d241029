"""Demo back office: the ERP's staff (and the shop's admin) at work on the orders the integration created.

The simulated buyers only place orders; without people in the ERP nothing would ever ship, be invoiced or
come back. This slow background actor plays them on the local Tryton, over JSON-RPC as the demo's ERP
administrator, the way ``sparklayer_erp_tests/erp/warehouse.py`` does in tests:

* the warehouse ships committed orders: every ``PARTS_EVERY``-th in two parts (the first shipment with part
  of the lines or quantities and a tracking number, the rest ``part_gap_s`` later, on the shipment Tryton
  made for what was left behind), the others whole;
* finance posts the draft invoice of a shipped order (the integration settles card orders itself);
* for every ``RETURN_EVERY``-th order, finance credits part of the shipped goods with Tryton's own Credit
  wizard and notes "Goods returned" (the mark the adapter reads as "goods came back");
* in the shop, every ``REFUND_EVERY``-th shipped card-paid order gets a refund transaction for part of its
  total (the shop admin refunding the buyer), which the follow-up job turns into an ERP credit note.

Which order gets what depends only on the order in which the back office meets them (ERP order id order) and
the seed, so two demos look alike. Everything is re-read from the ERP and the shop each step, so a restart
simply goes on. With ``ERP_KIND=netsuite`` the back office is not started (Tryton only; one log line).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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


# --- the ERP's people (Tryton) -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ErpOrder:
    """An integration order as the back office sees it in Tryton."""

    sale_id: int
    number: str
    purchase_id: str
    state: str
    open_shipments: tuple[int, ...]
    done_shipments: int
    draft_invoices: tuple[int, ...]
    booked_invoices: tuple[int, ...]  # posted or paid, positive (not credit notes)
    credited: bool  # a credit note points at one of its invoices


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

    def orders(self, skip: Sequence[int] = (), only: Sequence[str] | None = None) -> list[ErpOrder]:
        """The integration's committed orders (from the SparkLayer web shop), oldest first, minus ``skip``
        (sale ids); ``only`` these purchase ids when given."""
        domain: list[Any] = [(conv.PURCHASE_ID_FIELD, "!=", None), (conv.PURCHASE_ID_FIELD, "!=", ""),
                             ("state", "in", ["processing", "done"])]
        if skip:
            domain.append(("id", "not in", list(skip)))
        if only is not None:
            domain.append((conv.PURCHASE_ID_FIELD, "in", list(only)))
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
            out.append(ErpOrder(
                sale_id=int(r["id"]), number=str(r.get("number") or r["id"]), purchase_id=str(r[conv.PURCHASE_ID_FIELD]),
                state=r["state"],
                open_shipments=tuple(sorted(i for i, s in ships if s in _OPEN_SHIPMENT)),
                done_shipments=sum(1 for _, s in ships if s == "done"),
                draft_invoices=tuple(int(i["id"]) for i in invs if i["state"] == "draft"),
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

    def moves(self, shipment_id: int) -> list[tuple[int, Decimal]]:
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

    def post(self, invoice_ids: Sequence[int]) -> None:
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
    ``only``: work on these purchase ids alone (a test sharing its ERP with others)."""

    def __init__(self, staff: TrytonStaff, shop: ShopAdmin | None = None, *, every_s: float = 15.0,
                 settle_s: float = 30.0, part_gap_s: float = 60.0, seed: int = 11,
                 clock: Callable[[], float] = time.monotonic, only: Sequence[str] | None = None) -> None:
        self.staff, self.shop, self.only = staff, shop, only
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
        log.info("back office: %s %s", order.number, what)

    def step(self) -> None:
        now = self.clock()
        for order in self.staff.orders(skip=[sid for sid, t in self.tracks.items() if t.done], only=self.only):
            track = self.tracks.get(order.sale_id)
            if track is None:
                k = len(self.tracks)
                track = self.tracks[order.sale_id] = _Track(k, staff_plan(k), now)
            if now - track.first_seen < self.settle_s:
                continue
            try:
                self._work(order, track, now)
            except Exception:  # one order's trouble (e.g. a person's edit in the ERP) must not stop the others
                log.exception("back office: order %s failed; tried again next step", order.number)

    def _work(self, order: ErpOrder, track: _Track, now: float) -> None:
        if order.open_shipments:
            self._ship(order, track, now)
            return
        if not order.done_shipments:  # nothing to ship and nothing shipped (cancelled lines): leave it
            track.done = True
            return
        if order.draft_invoices:
            self.staff.post(order.draft_invoices)
            self._did(order, "invoice posted")
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
        shipment = order.open_shipments[0]
        part = order.done_shipments + 1
        tracking = f"TRK-{order.number}-{part}"
        quantities = None
        if order.done_shipments == 0 and track.plan.in_parts:
            quantities = first_part(self.staff.moves(shipment), self.rng)
        elif order.done_shipments and track.part_shipped_at is not None and now - track.part_shipped_at < self.part_gap_s:
            return  # the rest ships a while later
        if self.staff.ship(shipment, tracking, quantities):
            track.part_shipped_at = now
            self._did(order, f"{'part ' if quantities else ''}shipped (shipment {part}, tracking {tracking})")
        elif not track.short_logged:
            track.short_logged = True
            log.info("back office: %s waits for stock", order.number)

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


def start_back_office(tryton_url: str | None, tryton_db: str | None, sandbox: Any) -> BackOffice | None:
    """The demo's back office on the local Tryton and the in-process sandbox; None (one log line) without a
    local Tryton (``ERP_KIND=netsuite``)."""
    if not tryton_url or not tryton_db:
        log.info("the demo's back office works in the local Tryton only: with this ERP nobody ships, invoices "
                 "or credits the simulated orders")
        return None
    return BackOffice(TrytonStaff.local_admin(tryton_url, tryton_db), ShopAdmin(sandbox)).start()
