"""Order-to-cash assets: thin Dagster wiring over ``orders.sync`` and ``orders.followup``.

Each asset is one step a finance or operations person can recognise in the UI, and each run's metadata says
what happened to every order it touched, with the exceptions it raised and who owns them. Business problems
never fail a run (they are exceptions in the ledger); only a technical failure does, and a transient one
(SparkLayer 429/5xx/timeouts, the ERP unreachable) is retried inside the run by ``TRANSIENT_RETRY``.
"""

# No ``from __future__ import annotations`` here: Dagster reads the ``config`` annotation at definition time.
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import dagster as dg
from pydantic import Field

from sparklayer_erp.domain.orders import PricePolicy
from sparklayer_erp.erp.port import ErpCreditNotes
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.orders.followup import OrderFollowup, StepReport
from sparklayer_erp.orders.refunds import SYNC_NAME as REFUNDS_SYNC
from sparklayer_erp.orders.refunds import RefundSync, late_credit_note_orders
from sparklayer_erp.orders.sync import (
    SYNC_NAME,
    OrderSync,
    SyncReport,
    SyncSettings,
    fetch_requested,
    fetch_sweep,
    report_sync_log,
    utc_now,
)
from sparklayer_erp.plumbing.failures import TRANSIENT_RETRY, failures_handled
from sparklayer_erp.plumbing.markdown import MISSING, cell
from sparklayer_erp.resources import ErpResource, LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import SparkLayerError

GROUP = "orders"
OWNERS = ["team:operations"]
# Run-queue keys (dagster.yaml ``tag_concurrency_limits``): ``erp/orders`` = at most two order syncs at once (the
# next batch starts while one ends); ``erp/order-state`` = "writes" (limit 1) for runs that may change an existing
# ERP order (order sync by default, the follow-up). A sensor batch of purchases with no ERP order yet overrides it
# with "new-only", which is not limited, so a new order never waits for a follow-up run.
ORDERS_KEY, ORDER_STATE_KEY = "erp/orders", "erp/order-state"
CHANGES, NEW_ONLY = "writes", "new-only"
WRITER_TAG = {ORDERS_KEY: "sync", ORDER_STATE_KEY: CHANGES}
_MAX_TABLE_ROWS = 200


class OrderBatchConfig(dg.Config):
    """What the order sensor asks for; empty = a sweep (last 24 h re-read, held orders retried)."""

    purchase_ids: list[str] = Field(default_factory=list, description="SparkLayer purchase ids of the batch")
    updated_from: str | None = Field(default=None, description="earliest last_updated in the batch (ISO 8601)")
    sweep_hours: int = Field(default=24, ge=1, le=24 * 90,
                             description="a sweep (no purchase ids) re-reads orders changed in this many hours; "
                                         "raise it after an outage longer than a day")


@contextmanager
def _recorded(ledger: Ledger, name: str) -> Iterator[None]:
    """The run's start and any failure go to the ledger's sync status; ``failures_handled`` decides retries."""
    ledger.record_sync_start(name)
    with failures_handled(ledger, name):
        yield


def _settings(policy: PolicyResource) -> SyncSettings:
    return SyncSettings(policy=PricePolicy(policy.policy()), tolerance=Decimal(policy.tolerance()),
                        tax_rate_percent=policy.tax_rate())


def _exceptionscell(ids: Sequence[int], kinds: Sequence[str]) -> str:
    return ", ".join(f"#{i} {k}" for i, k in zip(ids, kinds, strict=False)) or MISSING


def sync_table(report: SyncReport) -> str:
    rows = ["| Order | Outcome | ERP order | What happened | Exceptions (ledger id, kind) |",
            "|---|---|---|---|---|"]
    for r in report.results[:_MAX_TABLE_ROWS]:
        rows.append(f"| {cell(r.label)} | {cell(r.outcome.value)} | {cell(r.erp_number)} | {cell(r.detail)} | "
                    f"{_exceptionscell(r.exception_ids, r.exception_kinds)} |")
    if len(report.results) > _MAX_TABLE_ROWS:
        rows.append(f"| … {len(report.results) - _MAX_TABLE_ROWS} more | | | | |")
    if not report.results:
        rows.append("| (no order needed work) | | | | |")
    return "\n".join(rows)


def step_table(report: StepReport) -> str:
    rows = ["| Order | Outcome | ERP order | What happened | Exceptions |", "|---|---|---|---|---|"]
    for s in report.steps[:_MAX_TABLE_ROWS]:
        ids = ", ".join(f"#{i}" for i in s.exception_ids) or MISSING
        rows.append(f"| {cell(s.label)} | {cell(s.outcome)} | {cell(s.erp_number)} | {cell(s.detail)} | {ids} |")
    if not report.steps:
        rows.append("| (nothing to do) | | | | |")
    return "\n".join(rows)


def _step_result(store: Ledger, name: str, report: StepReport, **extra: object) -> dg.MaterializeResult:
    """A follow-up run that finished: its success in the ledger; its counts, ``extra`` and the per-order
    table in Dagster. Orders whose SparkLayer call failed after its retries do not fail the run: they are
    counted in ``failed_writes``, named in ``failed_write_orders`` and logged, and the next run retries them."""
    store.record_sync_success(name, report.counts)
    return _step_metadata(name, report, **extra)


def _step_metadata(name: str, report: StepReport, **extra: object) -> dg.MaterializeResult:
    """``_step_result`` without the ledger's sync status (for a synchronizer that records its own)."""
    failed = [s.purchase_id for s in report.failed]
    if failed:
        dg.get_dagster_logger().warning(
            f"{name}: {len(failed)} order(s) could not be written after retries and are retried "
            f"next run: {', '.join(failed[:20])}{' …' if len(failed) > 20 else ''}")
    return dg.MaterializeResult(metadata={
        **{k.replace(" ", "_"): dg.MetadataValue.int(v) for k, v in report.counts.items()},
        "failed_writes": dg.MetadataValue.int(len(failed)),
        "failed_write_orders": dg.MetadataValue.json(failed[:_MAX_TABLE_ROWS]),
        **extra,
        "orders": dg.MetadataValue.md(step_table(report)),
    })


def _report_to_sparklayer(context: dg.AssetExecutionContext, client: SparkLayerClient | None, ledger: Ledger,
                          started: dt.datetime) -> int | None:
    """The SparkLayer sync log is a courtesy copy: failing to write it must not undo a finished sync."""
    if client is None:
        return None
    try:
        return report_sync_log(client, ledger, started, succeeded=True)
    except SparkLayerError as exc:
        context.log.warning(f"could not update SparkLayer's orders sync log: {exc}")
        return None


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"sparklayer", "tryton"},
    retry_policy=TRANSIENT_RETRY,
    description=(
        "ERP sales orders made from SparkLayer trade orders. Each confirmed SparkLayer order becomes one ERP "
        "order, exactly once: pay on account → waiting for approval, pay by invoice → confirmed, card → "
        "confirmed (the follow-up settles its invoice with the card payment). Orders that cannot go through (customer not "
        "linked, unknown product, not whole packs, price or total disagreement) are held with an exception for "
        "the team that can fix them, and go through by themselves once fixed. Cancellations and changes made "
        "in SparkLayer are applied to the ERP order until the warehouse allocates stock; after that the ERP "
        "order is left alone and operations get an exception."
    ),
)
def erp_sales_orders(context: dg.AssetExecutionContext, config: OrderBatchConfig, ledger: LedgerResource,
                     sparklayer: SparkLayerResource, erp: ErpResource, policy: PolicyResource
                     ) -> dg.MaterializeResult:
    store = ledger.ledger()
    started = utc_now()
    with _recorded(store, SYNC_NAME), sparklayer.session() as client, erp.session() as port:
        if config.purchase_ids:
            since = dt.datetime.fromisoformat(config.updated_from) if config.updated_from else None
            purchases = fetch_requested(client, config.purchase_ids, since)
            mode = f"batch of {len(config.purchase_ids)} from the order sensor"
        else:
            purchases = fetch_sweep(client, store, started, dt.timedelta(hours=config.sweep_hours))
            mode = f"sweep: last {config.sweep_hours} h re-read, held orders retried"
        # No SparkLayer client for the sync itself: a fresh card order's invoice is settled by the follow-up
        # (minutes later), so the run ends as soon as the ERP has the orders and the next batch is not held.
        report = OrderSync(store, port, _settings(policy)).run(purchases)
        open_errors = _report_to_sparklayer(context, client, store, started)
    counts = report.counts
    store.record_sync_success(SYNC_NAME, counts)
    raised = sorted({i for r in report.results for i in r.exception_ids})
    return dg.MaterializeResult(metadata={
        "mode": mode,
        "purchases_read": len(purchases),
        **{k: dg.MetadataValue.int(v) for k, v in counts.items()},
        "exceptions_raised": dg.MetadataValue.int(len(raised)),
        "exception_ids": dg.MetadataValue.json(raised),
        "open_order_exceptions_in_sparklayer_sync_log": open_errors if open_errors is not None else "not written",
        "orders": dg.MetadataValue.md(sync_table(report)),
        "seconds": round((report.finished_at or utc_now()).timestamp() - started.timestamp(), 3),
        "stage_timings": dg.MetadataValue.json(stage_timings(context, purchases, report, started)),
    })


STAGES = ("placed_earliest", "placed_latest", "seen_by_sensor", "run_requested", "run_started",
          "erp_create_sent", "erp_confirmed", "ledger_recorded")


def stage_timings(context: dg.AssetExecutionContext, purchases: Sequence, report: SyncReport,
                  started: dt.datetime) -> dict[str, str]:
    """Where the batch's seconds went, as UTC ISO timestamps: placed (the purchases' ``placed_at``), seen by the
    sensor and run requested (the run's tags), run started (the run record), then ``OrderSync``'s own stages."""
    out: dict[str, dt.datetime] = {}
    placed = sorted(p.placed_at for p in purchases if getattr(p, "placed_at", None) is not None)
    if placed:
        out["placed_earliest"], out["placed_latest"] = placed[0], placed[-1]
    tags = context.run.tags if context.run else {}
    for stage, tag in (("seen_by_sensor", "orders/seen_at"), ("run_requested", "orders/requested_at")):
        if tags.get(tag):
            out[stage] = dt.datetime.fromisoformat(tags[tag])
    record = context.instance.get_run_record_by_id(context.run.run_id)
    out["run_started"] = (dt.datetime.fromtimestamp(record.start_time, dt.UTC)
                          if record is not None and record.start_time else started)
    out.update(report.timings)
    return {k: out[k].astimezone(dt.UTC).isoformat() for k in STAGES if k in out}


@dg.asset(
    group_name=GROUP,
    owners=["team:finance"],
    kinds={"tryton"},
    deps=[erp_sales_orders],
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Approval of pay-on-account orders. An order waiting for approval is confirmed in the ERP when the "
        "customer is not on credit hold and their open balance plus this order stays within the credit limit; "
        "the ERP's own credit check has the last word. Otherwise it keeps waiting, with an exception for "
        "finance. An order a person already approved in the ERP is recognised and carried on."
    ),
)
def erp_order_approvals(context: dg.AssetExecutionContext, ledger: LedgerResource, erp: ErpResource
                        ) -> dg.MaterializeResult:
    store = ledger.ledger()
    with _recorded(store, "order_approvals"), erp.session() as port:
        report = OrderFollowup(store, port, None).approve()
    return _step_result(store, "order_approvals", report)


@dg.asset(
    group_name=GROUP,
    owners=["team:finance"],
    kinds={"tryton", "sparklayer"},
    deps=[erp_order_approvals],
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Card payments taken at SparkLayer checkout, recorded against the ERP invoice of the order, so the ERP "
        "never shows an unpaid invoice for an order the buyer already paid."
    ),
)
def erp_card_payments(context: dg.AssetExecutionContext, ledger: LedgerResource, sparklayer: SparkLayerResource,
                      erp: ErpResource) -> dg.MaterializeResult:
    store = ledger.ledger()
    with _recorded(store, "order_card_payments"), sparklayer.session() as client, erp.session() as port:
        report = OrderFollowup(store, port, client).record_card_payments()
    return _step_result(store, "order_card_payments", report)


_said_refunds_wait: set[str] = set()  # ERP connections already logged as without credit notes (once a process)


@dg.asset(
    group_name=GROUP,
    owners=["team:finance"],
    kinds={"sparklayer", "tryton"},
    deps=[erp_card_payments],
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Refunds and returns recorded in SparkLayer raised as credit notes in the ERP, exactly once each: a "
        "refund transaction is credited for its amount, a return package for the returned goods at the invoiced "
        "prices. A refund the ERP cannot credit yet (no posted invoice, more than the invoice holds) waits "
        "with an exception for finance, or operations for goods, and goes through by itself later. When the "
        "ERP connection cannot raise credit notes, refunds wait and the run says so."
    ),
)
def erp_credit_notes(context: dg.AssetExecutionContext, ledger: LedgerResource, sparklayer: SparkLayerResource,
                     erp: ErpResource) -> dg.MaterializeResult:
    store = ledger.ledger()
    with failures_handled(store, REFUNDS_SYNC), erp.session() as port:
        if not isinstance(port, ErpCreditNotes):
            if erp.adapter not in _said_refunds_wait:
                _said_refunds_wait.add(erp.adapter)
                context.log.warning(f"the {erp.adapter} ERP connection cannot raise credit notes yet: refunds and "
                                    "returns recorded in SparkLayer wait until it can (nothing is lost)")
            return dg.MaterializeResult(metadata={
                "credit_notes": f"not raised: the {erp.adapter} ERP connection has no credit notes; refunds wait"})
        with sparklayer.session() as client:
            report = RefundSync(store, port, client).run()  # records its own sync status (its re-read window)
    return _step_metadata(REFUNDS_SYNC, report)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"sparklayer"},
    deps=[erp_credit_notes],
    retry_policy=TRANSIENT_RETRY,
    description=(
        "The ERP's truth shown in SparkLayer: the ERP order number, confirmed, shipped (with tracking), "
        "invoiced, paid or cancelled, written to each SparkLayer order so customer service never needs to log "
        "into the ERP; one package per shipment of an order shipped in parts, and each ERP credit note as a "
        "refund (with a return package when goods came back), also on orders that had already ended. Only "
        "orders whose status changed are written."
    ),
)
def sparklayer_order_status(context: dg.AssetExecutionContext, ledger: LedgerResource,
                            sparklayer: SparkLayerResource, erp: ErpResource) -> dg.MaterializeResult:
    store = ledger.ledger()
    started = utc_now()
    with _recorded(store, "order_status"), sparklayer.session() as client, erp.session() as port:
        # ``refunds.credit_notes_back``, with the reopened orders counted for the run's metadata
        reopened = late_credit_note_orders(store, port, started.date())
        followup = OrderFollowup(store, port, client, invoice_url=_invoice_url(erp))
        report = followup.write_back_status(reopen=reopened)
        open_errors = _report_to_sparklayer(context, client, store, started)
    sync_log = open_errors if open_errors is not None else "not written"
    return _step_result(store, "order_status", report, open_order_exceptions_in_sparklayer_sync_log=sync_log,
                        orders_with_recent_credit_notes=dg.MetadataValue.int(len(reopened)))


def _invoice_url(erp: ErpResource):
    """Invoice links shown to buyers point at the ERP (where invoice documents live is deployment-specific)."""
    base = str(erp.url).rstrip("/")
    return lambda number: f"{base}/invoices/{number}"
