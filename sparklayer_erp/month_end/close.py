"""Month-end reconciliation, without Dagster: read the month, reconcile, export for finance.

Months are company months (``COMPANY_TIMEZONE``): an order belongs to the month of its placed time in
company time, and the month's first and last instants are converted to UTC for the SparkLayer query; the ERP
is asked by its own calendar days.

``build_month_frames`` reads every SparkLayer order *placed* in the month, the ERP's orders for them wherever
they are dated (an order held in October and created in the ERP on 2 November is still October's), the ERP
orders dated in the month (to find those claiming a SparkLayer purchase that does not exist), and their
invoices and payments. The customer's ERP account comes from the ledger's customer link, the same mapping
the order sync uses. ``reconcile`` validates every frame with the pandera gates before and after
``domain.reconciliation.reconcile_month``: a wrong frame would give a confidently wrong close.

Re-running a month reads the same documents and gives the same answer: payments and invoices dated after the
month's last day are rewound by the domain, so the answer is the month as it closed, unless someone changed
documents dated inside it. Each run still writes a new *version* of the pack (``publish``): a new folder
``reconciliation/<YYYY-MM>/v<N>/``, recorded in the ledger with its checksum and the workbook itself; the first
close-ready version is recorded as the one the month closed on, and no later run moves or overwrites it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pandera.errors
import pandera.pandas as pa

from sparklayer_erp import settings
from sparklayer_erp.domain.alerting import Alert
from sparklayer_erp.domain.models import ErpOrderState, ErpOrderStatus
from sparklayer_erp.domain.money import CURRENCY_EXPONENTS, UnknownCurrency, round_money
from sparklayer_erp.domain.order_lifecycle import unit_factors
from sparklayer_erp.domain.reconciliation import (
    ERP_INVOICE_COLUMNS,
    ERP_ORDER_COLUMNS,
    ERP_ORDER_OPTIONAL_COLUMNS,
    ERP_PAYMENT_COLUMNS,
    RECON_CLASSES,
    SL_LINE_COLUMNS,
    SL_ORDER_COLUMNS,
    ReconClass,
    ReconResult,
    close_ready,
    minor_unit_frames,
    reconcile_month,
    to_pence,
)
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.ledger.records import MonthClose
from sparklayer_erp.month_end.export import (
    CSV_FILES,
    PAYMENT_METHOD_LABELS,
    class_label,
    to_csv,
    to_excel,
)
from sparklayer_erp.month_end.gates import INPUT_SCHEMAS, OUTPUT_SCHEMAS
from sparklayer_erp.plumbing.markdown import cell, team_label
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import SparkLayerNotFound, SparkLayerValidationError
from sparklayer_erp.sparklayer.models import Purchase, Transaction

EXPORT_FOLDER = "reconciliation"
UNKNOWN_CUSTOMER = "(no SparkLayer customer)"
ASSET_NAME = "month_end_reconciliation"  # the asset's page in the Dagster UI


class FrameInvalid(ValueError):
    """A frame failed its pandera gate; ``cases`` holds the first failure cases for people to read."""

    def __init__(self, frame: str, cases: pd.DataFrame) -> None:
        super().__init__(f"the {frame} frame failed its checks ({len(cases)} failure case(s)); the month was not "
                         "reconciled")
        self.frame = frame
        self.cases = cases


def company_zone() -> ZoneInfo:
    """``COMPANY_TIMEZONE``, read now (checked: an IANA zone name)."""
    return ZoneInfo(str(settings.read("COMPANY_TIMEZONE")))


@dataclass(frozen=True)
class Month:
    """A calendar month in company time: its days, and the UTC instants it begins and ends at."""

    start: dt.date  # first day
    end: dt.date  # first day of the next month (exclusive), like a Dagster monthly partition
    zone: dt.tzinfo = field(default_factory=company_zone)  # the company's time zone

    @classmethod
    def of(cls, day: dt.date, zone: dt.tzinfo | None = None) -> Month:
        start = day.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1)
        return cls(start, end, zone or company_zone())

    @classmethod
    def from_partition_key(cls, key: str, zone: dt.tzinfo | None = None) -> Month:
        """``2026-10-01`` (a monthly partition key) → October 2026."""
        return cls.of(dt.date.fromisoformat(key), zone)

    @classmethod
    def containing(cls, moment: dt.datetime, zone: dt.tzinfo | None = None) -> Month:
        """The company month ``moment`` falls in: 2026-06-30 23:30 UTC is July in Europe/London."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        zone = zone or company_zone()
        return cls.of(moment.astimezone(zone).date(), zone)

    @property
    def partition_key(self) -> str:
        return self.start.isoformat()

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def default_as_of(self, today: dt.date) -> dt.date:
        """The month's last day once it is over; today while it is still running."""
        return min(today, self.last_day)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The company's calendar day at ``now`` (default: this moment)."""
        return (now or dt.datetime.now(dt.UTC)).astimezone(self.zone).date()

    def starts_at(self) -> dt.datetime:
        """Midnight of the first day in company time, as a UTC instant."""
        return _midnight_utc(self.start, self.zone)

    def ends_at(self) -> dt.datetime:
        """Midnight of the next month's first day in company time, as a UTC instant (exclusive)."""
        return _midnight_utc(self.end, self.zone)


def _midnight_utc(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class MonthFrames:
    sl_orders: pd.DataFrame
    sl_lines: pd.DataFrame
    erp_orders: pd.DataFrame
    erp_invoices: pd.DataFrame
    erp_payments: pd.DataFrame
    known_purchase_ids: frozenset[str]  # SparkLayer orders outside the month that exist (not "unknown")
    lookups: int = 0  # purchases looked up one by one
    # Currencies the ERP refused to book an order in (open ``unknown_currency`` exceptions) and holds no order in
    refused_currencies: frozenset[str] = frozenset()

    def erp_currencies(self) -> frozenset[str] | None:
        """The currencies the ERP books as far as the integration knows (None: every ISO 4217 currency)."""
        return frozenset(CURRENCY_EXPONENTS) - self.refused_currencies if self.refused_currencies else None

    def counts(self) -> dict[str, int]:
        return {"sparklayer_orders_read": len(self.sl_orders), "sparklayer_lines": len(self.sl_lines),
                "erp_orders": len(self.erp_orders), "erp_invoices": len(self.erp_invoices),
                "erp_payments": len(self.erp_payments), "purchases_looked_up": self.lookups,
                "sparklayer_orders_refunded": int((self.sl_orders.get("refunded", pd.Series(dtype=object)) != 0).sum()),
                "erp_orders_credited": int((self.erp_orders.get("credited", pd.Series(dtype=object)) != 0).sum())}


# --- reading ----------------------------------------------------------------------------------------------------


def _sl_row(p: Purchase, accounts: Mapping[str, str], money: tuple[Decimal, Decimal] | None = None) -> dict:
    """``money``: (paid, refunded) from the purchase's transactions when they were read; else SparkLayer's
    ``total_paid`` and no refund (the order's class cannot depend on them: it has no live ERP order)."""
    customer = p.customer_identifiers.get("sparklayer") or UNKNOWN_CUSTOMER
    shipping = (p.shipping_net or Decimal("0")) + (p.shipping_tax or Decimal("0"))
    paid, refunded = money if money is not None else (p.total_paid or Decimal("0"), Decimal(0))
    return {"purchase_id": p.sparklayer_id, "visible_id": p.visible_id, "account_code": accounts.get(customer),
            "customer_sparklayer_id": customer, "payment_method": p.payment_method, "placed_at": p.placed_at,
            "status": p.status, "total_gross": p.total, "total_paid": paid,
            "shipping_gross": shipping, "currency": (p.currency or "").upper() or None, "refunded": refunded}


def refunded_in_shop(transactions: Iterable[Transaction]) -> Decimal:
    """What the shop refunded on a purchase (positive): its refund transactions applied to the balance — the
    shop's own and the ERP credit notes the integration wrote back, which the ERP side counts as credited."""
    return sum((-t.total for t in transactions if t.type == "refund" and t.apply_to_balance and t.total < 0),
               Decimal(0))


def paid_in_shop(transactions: Iterable[Transaction]) -> Decimal:
    """What the buyer paid in the shop, before refunds (those are ``refunded_in_shop``): payment transactions
    applied to the balance. Read from the transactions, not ``total_paid``, so a refund is never taken off twice."""
    return sum((t.total for t in transactions if t.type == "payment" and t.apply_to_balance and t.total > 0),
               Decimal(0))


def _shop_money(client: SparkLayerClient, purchases: Iterable[Purchase]) -> dict[str, tuple[Decimal, Decimal]]:
    """(paid, refunded) per purchase. Transactions come with the purchase when SparkLayer embeds them, else one
    read per purchase — only for purchases whose refunds can change their class: those with a live ERP order."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for p in purchases:
        pid = p.sparklayer_id or ""
        try:
            transactions = p.transactions or tuple(client.get_transactions("sparklayer", pid))
        except SparkLayerNotFound:
            continue
        out[pid] = (paid_in_shop(transactions), refunded_in_shop(transactions))
    return out


def _sl_line_rows(p: Purchase) -> list[dict]:
    """The order's lines, or none when any line lacks a SKU or a gross total (no check beats a false one)."""
    rows = [{"purchase_id": p.sparklayer_id, "sku": ln.sku, "quantity": ln.quantity, "line_total_gross": ln.line_gross}
            for ln in p.lines]
    return rows if rows and all(r["sku"] and r["line_total_gross"] is not None for r in rows) else []


CREDITED_STATES = frozenset({"posted", "paid"})  # a draft or cancelled credit note credits nothing yet


def shipped_facts(status: ErpOrderStatus, factors: Mapping[tuple[str, str], int]) -> dict[str, object]:
    """Ordered vs shipped, from the ERP order's lines and done shipments: base units of the live lines (what the
    ERP cancelled after the point of no return is not ordered any more), base units shipped, and the gross
    value of what shipped (the shipped units at the line's price, with the order's tax ratio, rounded to the
    order currency's minor unit). A unit without a known pack size counts as one (it is then counted the same
    way on both sides)."""
    ordered_units: dict[str, Decimal] = {}
    price: dict[str, tuple[Decimal, str]] = {}
    for ln in status.lines:
        left = ln.quantity - ln.cancelled_quantity
        ordered_units[ln.sku] = ordered_units.get(ln.sku, Decimal(0)) + left * factors.get((ln.sku, ln.unit), 1)
        price.setdefault(ln.sku, (ln.unit_price / factors.get((ln.sku, ln.unit), 1), ln.unit))
    shipped_units: dict[str, Decimal] = {}
    for sh in status.shipments:
        if sh.state != "done":
            continue
        for sl in sh.lines:
            shipped_units[sl.sku] = shipped_units.get(sl.sku, Decimal(0)) + sl.quantity * factors.get((sl.sku, sl.unit), 1)
    net = sum((units * price[sku][0] for sku, units in shipped_units.items() if sku in price), Decimal(0))
    ratio = status.total / status.total_untaxed if status.total_untaxed else Decimal(1)
    try:
        shipped_total = round_money(net * ratio, status.currency)
    except UnknownCurrency:
        shipped_total = round_money(net * ratio)
    return {"quantity_ordered": int(sum(ordered_units.values(), Decimal(0))),
            "quantity_shipped": int(sum(shipped_units.values(), Decimal(0))), "shipped_total": shipped_total}


def _erp_rows(statuses: Iterable[ErpOrderStatus], factors: Mapping[tuple[str, str], int] | None = None
              ) -> tuple[list[dict], list[dict], list[dict]]:
    orders, invoices, payments = [], [], []
    for s in sorted(statuses, key=lambda x: x.erp_id):
        credited = sum((n.total for n in s.credit_notes if n.state in CREDITED_STATES), Decimal(0))
        orders.append({"erp_id": s.erp_id, "number": s.number, "purchase_id": s.purchase_id,
                       "account_code": s.account_code, "state": s.state.value, "total": s.total,
                       "order_date": s.order_date, "currency": s.currency, "company_currency_rate": s.company_rate,
                       "credited": credited, **shipped_facts(s, factors or {})})
        invoices.extend({"erp_id": s.erp_id, "number": i.number, "state": i.state, "total": i.total,
                         "amount_due": i.amount_due, "invoice_date": i.invoice_date, "due_date": i.due_date}
                        for i in s.invoices)
        payments.extend({"invoice_number": p.invoice_number, "amount": p.amount, "paid_on": p.paid_on}
                        for p in s.payments)
    return orders, invoices, payments


def _frame(rows: list[dict], columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def build_month_frames(client: SparkLayerClient, erp: ErpPort, ledger: Ledger, month: Month,
                       *, max_lookups: int = 500) -> MonthFrames:
    """The month's SparkLayer orders, their ERP orders, invoices and payments, as the reconciliation's frames.

    SparkLayer cannot list by placed date, so purchases changed since the month began are read (an order
    placed in the month was last changed in it or later) and kept when placed in the month.
    """
    purchases = [p for p in client.iter_purchases(month.starts_at()) if p.sparklayer_id and p.type == "order"]
    known = {p.sparklayer_id for p in purchases if p.sparklayer_id}
    start, end = month.starts_at(), month.ends_at()
    in_month = [p for p in purchases if p.placed_at is not None and start <= p.placed_at < end]
    accounts = {link.sparklayer_customer_id: link.account_code for link in ledger.customer_links()
                if link.sparklayer_customer_id}

    statuses = {s.erp_id: s for s in erp.list_orders_between(month.start, month.end)}
    refs = erp.find_orders([p.sparklayer_id for p in in_month if p.sparklayer_id]) if in_month else {}
    extra = sorted({r.erp_id for r in refs.values()} - set(statuses))
    statuses.update({s.erp_id: s for s in (erp.order_status(extra) if extra else [])})

    lookups = 0
    for pid in sorted({s.purchase_id for s in statuses.values() if s.purchase_id} - known):
        if lookups >= max_lookups:
            break  # left "unknown": a blocker a person will look at, never a silent pass
        lookups += 1
        try:
            if client.get_purchase("sparklayer", pid).type == "order":
                known.add(pid)
        except (SparkLayerNotFound, SparkLayerValidationError):  # 400: not even a valid purchase id
            pass
    live = {s.purchase_id for s in statuses.values() if s.purchase_id and s.state is not ErpOrderState.CANCELLED}
    money = _shop_money(client, (p for p in in_month if p.sparklayer_id in live))
    shipped_any = any(sh.lines for s in statuses.values() for sh in s.shipments if sh.state == "done")
    factors = unit_factors(erp.list_items()) if shipped_any else {}
    orders, invoices, payments = _erp_rows(statuses.values(), factors)
    return MonthFrames(
        sl_orders=_frame([_sl_row(p, accounts, money.get(p.sparklayer_id or "")) for p in in_month],
                         dict.fromkeys([*SL_ORDER_COLUMNS, "shipping_gross", "currency", "refunded"])),
        sl_lines=_frame([r for p in in_month for r in _sl_line_rows(p)], SL_LINE_COLUMNS),
        erp_orders=_frame(orders, dict.fromkeys([*ERP_ORDER_COLUMNS, *ERP_ORDER_OPTIONAL_COLUMNS])).astype(
            {"quantity_ordered": "int64", "quantity_shipped": "int64"}),
        erp_invoices=_frame(invoices, ERP_INVOICE_COLUMNS),
        erp_payments=_frame(payments, ERP_PAYMENT_COLUMNS),
        known_purchase_ids=frozenset(known),
        lookups=lookups,
        refused_currencies=refused_currencies(ledger, orders),
    )


def refused_currencies(ledger: Ledger, erp_orders: Iterable[Mapping[str, object]]) -> frozenset[str]:
    """Currencies the ERP refused an order in (the order sync's open ``unknown_currency`` exceptions), less
    those it holds an order in (a refusal for a missing day's rate does not make a booked currency unknown)."""
    refused = {str((e.detail or {}).get("currency") or "").upper()
               for e in ledger.open_exceptions(kind="unknown_currency")}
    booked = {str(o.get("currency") or "").upper() for o in erp_orders}
    return frozenset(refused - booked - {""})


# --- the gates and the reconciliation ---------------------------------------------------------------------------


def _validate(name: str, schema: type[pa.DataFrameModel], frame: pd.DataFrame) -> pd.DataFrame:
    try:
        return schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        raise FrameInvalid(name, exc.failure_cases.head(20)) from None


def validate_inputs(frames: MonthFrames, company_currency: str = "GBP") -> dict[str, pd.DataFrame]:
    """Money to integer minor units of each row's currency (the domain's edge), then every input gate."""
    try:
        minor = minor_unit_frames(frames.sl_orders, frames.erp_orders, frames.erp_invoices, frames.erp_payments,
                                  frames.sl_lines, company_currency=company_currency)
    except (TypeError, ValueError) as exc:  # a float or a non-number where money belongs
        raise FrameInvalid("input money", pd.DataFrame({"failure": [str(exc)]})) from None
    return {name: _validate(name, INPUT_SCHEMAS[name], minor[name]) for name in INPUT_SCHEMAS}


def validate_result(result: ReconResult) -> None:
    for name, schema in OUTPUT_SCHEMAS.items():
        _validate(f"result {name}", schema, getattr(result, name))


def reconcile(frames: MonthFrames, month: Month, as_of: dt.date, amount_tolerance: Decimal = Decimal("0.00"),
              company_currency: str | None = None) -> ReconResult:
    """Gate the inputs, reconcile, gate the outputs. ``amount_tolerance`` is per order, in money (minor units of
    the order's currency); totals across orders are in ``company_currency`` (default ``COMPANY_CURRENCY``)."""
    company_currency = company_currency or str(settings.read("COMPANY_CURRENCY"))
    valid = validate_inputs(frames, company_currency)
    sl_lines = valid["sl_lines"]
    with_lines = len(sl_lines) > 0
    result = reconcile_month(
        valid["sl_orders"], valid["erp_orders"], valid["erp_invoices"], valid["erp_payments"],
        as_of=as_of, month_start=month.start, month_end=month.end,
        amount_tolerance_pence=int(to_pence([amount_tolerance])[0]),
        sl_lines=sl_lines if with_lines else None, known_purchase_ids=frames.known_purchase_ids,
        timezone=month.zone, company_currency=company_currency, erp_currencies=frames.erp_currencies(),
    )
    validate_result(result)
    return result


# --- output for finance -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    folder: Path
    spreadsheet: Path
    csv_files: tuple[Path, ...]
    chart: Path


def pack_name(month: str, version: int) -> str:
    """``reconciliation-2026-10-v3.xlsx``: the month and the version in the file name, wherever it is copied."""
    return f"reconciliation-{month}-v{version}.xlsx"


def export(result: ReconResult, data_dir: Path, *, version: int, pack: tuple[tuple[str, object], ...] = (),
           default_currency: str | None = None) -> Exported:
    """Write ``<data dir>/reconciliation/<YYYY-MM>/v<version>/``: the workbook, one CSV per table and the chart.

    Written to a scratch folder first and renamed into place in one step, so a reader never opens a half-written
    pack. Nothing is ever overwritten: should the version folder exist already (a ledger restored from a
    backup, a dry run's scratch ledger), the new one gets a suffix.
    """
    label = f"{result.month_start:%Y-%m}"
    month_dir = Path(data_dir) / EXPORT_FOLDER / label
    month_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".v{version}-{uuid.uuid4().hex[:6]}-", dir=month_dir))
    try:
        to_excel(result, scratch / pack_name(label, version), pack=pack, default_currency=default_currency)
        to_csv(result, scratch, default_currency=default_currency)
        (scratch / "chart.svg").write_text(bar_chart_svg(result), encoding="utf-8")
        folder = month_dir / f"v{version}"
        while True:
            try:
                os.rename(scratch, folder)  # fails when the target exists: never replaces a version
                break
            except OSError:
                if not folder.exists():
                    raise
                folder = month_dir / f"v{version}-{uuid.uuid4().hex[:6]}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Exported(folder=folder, spreadsheet=folder / pack_name(label, version),
                    csv_files=tuple(folder / name for name in CSV_FILES), chart=folder / "chart.svg")


def pack_command(month: str, version: int) -> str:
    """The command that copies a pack version out of the ledger (from any machine that reaches it)."""
    return f"sparklayer-erp pack --month {month} --version {version}"


@dataclass(frozen=True)
class Published:
    """One run's version of the month's pack, and the month's close (this version's or an earlier one's)."""

    month: str  # "2026-10"
    version: int
    exported: Exported
    checksum: str  # SHA-256 of the workbook
    close_ready: bool  # this run's answer
    close: MonthClose | None  # None: the month has not been close-ready yet
    newly_closed: bool  # this run marked the month close-ready

    @property
    def command(self) -> str:
        return pack_command(self.month, self.version)


def _pack_lines(month: str, version: int, run_id: str, earlier: MonthClose | None,
                ready: bool) -> tuple[tuple[str, object], ...]:
    if earlier is not None:
        close = (f"Closed on version {earlier.version} ({earlier.closed_at:%d %b %Y %H:%M} UTC). This later "
                 "version does not replace it.")
    elif ready:
        close = f"Close-ready: the month's close uses this version ({version})."
    else:
        close = "Not closed yet: the month closes on the first version that is close-ready."
    return (("Pack version", f"{month} version {version} (run {run_id or 'outside Dagster'})"),
            ("Month close", close))


def publish(result: ReconResult, ledger: Ledger, data_dir: Path, *, run_id: str,
            default_currency: str | None = None) -> Published:
    """Write a new version of the month's pack, record it in the ledger (path, checksum, the workbook), and mark
    the month close-ready on it when it is and no earlier version was."""
    month = f"{result.month_start:%Y-%m}"
    ready = close_ready(result).ready
    version = ledger.reserve_pack_version(month, run_id)
    earlier = ledger.month_close(month)
    exported = export(result, data_dir, version=version, pack=_pack_lines(month, version, run_id, earlier, ready),
                      default_currency=default_currency)
    content = exported.spreadsheet.read_bytes()
    checksum = hashlib.sha256(content).hexdigest()
    ledger.complete_pack_version(month, version, path=str(exported.spreadsheet), checksum=checksum,
                                 content=content, close_ready=ready)
    close, made = ledger.record_month_close(month, version, run_id) if ready and earlier is None \
        else (earlier, False)
    return Published(month=month, version=version, exported=exported, checksum=checksum, close_ready=ready,
                     close=close, newly_closed=made)


def download_markdown(published: Published) -> str:
    """How finance gets this version: the file where the run wrote it, and the command that copies it out of
    the ledger from any machine (the Dagster UI cannot serve a file, so there is no download link)."""
    if published.close is None:
        close = "The month is not closed yet: it closes on the first close-ready version."
    elif published.close.version == published.version:
        close = f"The month's close uses **this version ({published.version})**."
    else:
        close = (f"The month was closed on **version {published.close.version}**; this later version "
                 f"({published.version}) does not replace it.")
    return "\n".join([
        f"**Pack {published.month}, version {published.version}** — {published.exported.spreadsheet.name}", "",
        f"- Copy it out (any machine that reaches the ledger): `{published.command}`",
        f"- On the machine that ran it: `{published.exported.spreadsheet}`",
        f"- SHA-256: `{published.checksum}`",
        f"- {close}",
    ])


def pack_alert(result: ReconResult, published: Published, ui_url: str = "") -> Alert | None:
    """The e-mail to finance that carries the pack: when this run closed the month, or when the month is
    blocked. None for a re-run of a month that closed earlier and is still close-ready."""
    period = f"{result.month_start:%B %Y}"
    name = published.exported.spreadsheet.name
    where = (f"The pack is attached ({name}, version {published.version}, SHA-256 {published.checksum[:12]}…). "
             f"A copy at any time: {published.command}")
    t = result.totals
    totals = (f"Orders: {t['orders']}; SparkLayer total {_money(t['sl_total'])}, ERP total "
              f"{_money(t['erp_total'])}, difference {_money(t['difference'])}.")
    link = f"{ui_url.rstrip('/')}/assets/{ASSET_NAME}" if ui_url else ""
    if published.close_ready and not published.newly_closed:
        return None
    if published.close_ready:
        return Alert(team="finance", category="month_end",
                     subject=f"[sparklayer-erp] {period} is close-ready: pack version {published.version} attached",
                     lines=(f"{period} is close-ready: every SparkLayer order is matched or in an explained state. "
                            f"The close uses pack version {published.version}.", totals, where),
                     link=link, link_label="Open the month in Dagster")
    ready = close_ready(result)
    blocking = sum(b.count for b in ready.blockers)
    teams = ", ".join(team_label(o) for o in who_must_act(result))
    lines = [f"{period} is not close-ready: {blocking} order(s) block the close. Who must act: {teams}."]
    lines += [f"- {class_label(b.recon_class)}: {b.count} order(s), difference {_money(b.difference)}; "
              f"{team_label(b.owner)}: {b.action}" for b in ready.blockers]
    if published.close is not None:
        lines.append(f"Note: the month was closed on version {published.close.version}; documents dated in the "
                     "month changed since. That close stands; this version shows what changed.")
    lines += [totals, where]
    return Alert(team="finance", category="month_end",
                 subject=f"[sparklayer-erp] {period} is blocked: {blocking} order(s), who must act: {teams}",
                 lines=tuple(lines), link=link, link_label="Open the month in Dagster")


def _money(value: object) -> str:
    d = Decimal(str(value))
    return f"{d:,.2f}"


def summary_markdown(result: ReconResult) -> str:
    """The headline for people, as a list (it stays readable in the UI's narrow metadata column)."""
    ready = close_ready(result)
    t = result.totals
    if ready.ready:
        head = "**Close-ready.** Every order is matched or in an explained state."
    else:
        blocking = sum(b.count for b in ready.blockers)
        head = (f"**Not close-ready:** {blocking} order(s) block the close. Who must act: "
                f"{', '.join(team_label(o) for o in who_must_act(result))} (see *what_blocks_the_close*).")
    return "\n".join([
        head, "",
        f"- Period: {result.month_start:%d %b %Y} to {result.month_end - dt.timedelta(days=1):%d %b %Y}, "
        f"as of {result.as_of:%d %b %Y}",
        f"- Orders placed in SparkLayer: {t['orders']}",
        f"- SparkLayer total (billable): {_money(t['sl_total'])}",
        f"- ERP total (live orders): {_money(t['erp_total'])}",
        f"- Difference (SparkLayer − ERP): {_money(t['difference'])}",
        f"- ERP orders claiming an unknown SparkLayer order: {t['unknown_erp_orders']}",
    ])


def by_class_markdown(result: ReconResult) -> str:
    lines = ["| Status | Orders | Blocks the close | Owner | SparkLayer total | ERP total | Difference |",
             "|---|---:|---:|---|---:|---:|---:|"]
    for r in result.by_class.itertuples(index=False):
        if not r.orders:
            continue
        lines.append(f"| {class_label(r.recon_class)} | {r.orders} | {r.unexplained or ''} | "
                     f"{str(r.owner).replace('_', ' ').capitalize()} | {_money(r.sl_total)} | {_money(r.erp_total)} | "
                     f"{_money(r.difference)} |")
    if len(lines) == 2:
        lines.append("| No orders this month | 0 | | | 0.00 | 0.00 | 0.00 |")
    return "\n".join(lines)


def by_payment_method_markdown(result: ReconResult) -> str:
    lines = ["| Payment method | Orders | Blocking | SparkLayer total | ERP total | Difference |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in result.by_payment_method.itertuples(index=False):
        lines.append(f"| {PAYMENT_METHOD_LABELS.get(r.payment_method, r.payment_method)} | {r.orders} | "
                     f"{r.unexplained} | {_money(r.sl_total)} | {_money(r.erp_total)} | {_money(r.difference)} |")
    return "\n".join(lines)


def by_customer_markdown(result: ReconResult, limit: int = 25) -> str:
    frame = result.by_customer.sort_values(["unexplained", "orders"], ascending=False, kind="stable")
    lines = ["| Customer account | SparkLayer customer | Orders | Blocking | SparkLayer total | ERP total | Difference |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in frame.head(limit).itertuples(index=False):
        account = r.account_code if isinstance(r.account_code, str) else "not linked"
        lines.append(f"| {account} | {r.customer_sparklayer_id} | {r.orders} | {r.unexplained} | "
                     f"{_money(r.sl_total)} | {_money(r.erp_total)} | {_money(r.difference)} |")
    if len(frame) > limit:
        lines.append(f"| … {len(frame) - limit} more customers in the spreadsheet | | | | | | |")
    return "\n".join(lines)


def blockers_markdown(result: ReconResult, limit: int = 50) -> str:
    """What blocks the close: per class who must act and what to do, with the orders under it."""
    ready = close_ready(result)
    if ready.ready:
        return "Nothing blocks the close: every order is matched or in an explained state."
    blocking = result.orders[~result.orders["explained"]]
    unknown = result.erp_orders_claiming_unknown_purchase
    lines: list[str] = []
    shown = 0
    for b in ready.blockers:
        lines.append(f"**{class_label(b.recon_class)}** — {b.count} order(s), difference {_money(b.difference)}. "
                     f"*Who must act:* {team_label(b.owner)}. *What to do:* {b.action}")
        rows = unknown if b.recon_class == ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE else \
            blocking[blocking["recon_class"] == str(b.recon_class)]
        for r in rows.itertuples(index=False):
            if shown >= limit:
                break
            shown += 1
            if b.recon_class == ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE:
                lines.append(f"- ERP order {r.number}: {r.reason}")
            else:
                label = r.visible_id if isinstance(r.visible_id, str) else r.purchase_id
                lines.append(f"- {label} (`{r.purchase_id}`): {r.reason}")
        lines.append("")
    total = len(blocking) + len(unknown)
    if total > shown:
        lines.append(f"… and {total - shown} more in the spreadsheet (Orders sheet, needing attention first).")
    return "\n".join(lines).strip()


_BAR = "█"


def bar_chart_markdown(result: ReconResult, width: int = 20) -> str:
    """Orders per status as a text bar chart (renders wherever markdown does, no plotting library)."""
    rows = [(r.recon_class, int(r.orders), bool(r.explained)) for r in result.by_class.itertuples(index=False)
            if r.orders]
    top = max((n for _, n, _ in rows), default=0)
    lines = []
    for cls, n, explained in rows:
        bar = _BAR * max(1, round(width * n / top)) if top else ""
        flag = "" if explained else " ⚠ blocks the close"
        lines.append(f"- `{bar}` {n} {class_label(cls)}{flag}")
    return "\n".join(lines) or "No orders this month."


def bar_chart_svg(result: ReconResult) -> str:
    """The same chart as a small standalone SVG for the export folder (green: explained, red: blocks)."""
    rows = [(class_label(r.recon_class), int(r.orders), bool(r.explained))
            for r in result.by_class.itertuples(index=False) if r.orders]
    top = max((n for _, n, _ in rows), default=1)
    bar_x, bar_w, row_h = 260, 360, 26
    height = 50 + row_h * max(1, len(rows))
    title = f"SparkLayer orders of {result.month_start:%B %Y} by reconciliation status"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{bar_x + bar_w + 80}" height="{height}" '
             f'font-family="sans-serif" font-size="13">',
             f'<text x="10" y="22" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, n, explained) in enumerate(rows):
        y = 40 + i * row_h
        w = max(2, round(bar_w * n / top))
        colour = "#3a8f4a" if explained else "#c0392b"
        parts += [f'<text x="10" y="{y + 15}">{html.escape(label)}</text>',
                  f'<rect x="{bar_x}" y="{y}" width="{w}" height="{row_h - 8}" fill="{colour}"/>',
                  f'<text x="{bar_x + w + 6}" y="{y + 15}">{n}</text>']
    if not rows:
        parts.append('<text x="10" y="55">No orders this month.</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart_image_markdown(result: ReconResult) -> str:
    """The SVG chart inlined as a markdown image (a data URI), for viewers that render images."""
    encoded = base64.b64encode(bar_chart_svg(result).encode("utf-8")).decode("ascii")
    return f"![Orders per status](data:image/svg+xml;base64,{encoded})"


def who_must_act(result: ReconResult) -> list[str]:
    """Owner teams with something blocking the close, in the order of the class table."""
    owners: list[str] = []
    for b in close_ready(result).blockers:
        if b.owner.value not in owners:
            owners.append(b.owner.value)
    return owners


def class_counts(result: ReconResult) -> dict[str, int]:
    """Orders per class (ERP orders claiming an unknown purchase included), every class present."""
    counts = {str(c): 0 for c in RECON_CLASSES}
    for r in result.by_class.itertuples(index=False):
        counts[str(ReconClass(r.recon_class))] = int(r.orders)
    return counts


def recon_classes_markdown() -> str:
    """Every reconciliation class: does it block the close, who acts, what it means, what to do (for the guide)."""
    lines = ["| Status | Blocks the close? | Who acts | What it means | What to do |", "|---|---|---|---|---|"]
    for cls, rule in RECON_CLASSES.items():
        lines.append(f"| **{class_label(cls)}** (`{cls}`) | {'no' if rule.explained else '**yes**'} | "
                     f"{team_label(rule.owner)} | {cell(rule.meaning)} | {cell(rule.action)} |")
    return "\n".join(lines)

