"""Month-end reconciliation as a monthly-partitioned asset with a blocking close-ready check.

One partition per calendar month in company time (``COMPANY_TIMEZONE``). Materialising a month reads every
SparkLayer order placed in it, matches it to the ERP's order, invoices and payments, classifies it, and writes
the pack finance opens: a new version per run (``<data dir>/reconciliation/<YYYY-MM>/v<N>/``), recorded in the
ledger with the workbook itself, so ``sparklayer-erp pack --month YYYY-MM`` copies it out anywhere (the Dagster
UI cannot serve a file: the metadata gives the path and that command, no URL). The first close-ready version is
recorded as the month's close; finance gets the pack by e-mail (``ALERT_URLS_FINANCE``) when the month closes or
is blocked. The check ``month_is_close_ready`` passes only when no order is in a class that needs someone to act;
its metadata says which classes block, who must act and what to do. The schedule reconciles the previous month
at 06:00 company time on the 1st; any month can be run again from the UI — a re-run gives the same answer in a
new version and never replaces the version the month closed on.

No ``from __future__ import annotations`` here: Dagster reads the annotations as real types. The
reconciliation itself (pandas, pandera, the workbook) is imported inside the asset and its check: every run
worker loads this module, and the order sync must not pay for month-end's libraries.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import Field

from sparklayer_erp import settings
from sparklayer_erp.domain.money import UnknownCurrency, currency_exponent
from sparklayer_erp.month_end.partitions import monthly
from sparklayer_erp.resources import (
    AlertsResource,
    ErpResource,
    LedgerResource,
    PolicyResource,
    SparkLayerResource,
)
from sparklayer_erp.settings import SettingError

if TYPE_CHECKING:
    from sparklayer_erp.month_end.close import Month

GROUP = "month_end"


class MonthEndConfig(dg.Config):
    as_of: str = Field(default="", description="YYYY-MM-DD. Empty: the month's last day (today while the month "
                                               "is still running). Payments after it are not counted.")
    amount_tolerance: str = Field(default="0.00", description="largest difference per order that is not a "
                                                              "mismatch, e.g. 0.01")


def _as_of(config: MonthEndConfig, month: "Month") -> dt.date:
    if not config.as_of:
        return month.default_as_of(month.today())
    try:
        return dt.date.fromisoformat(config.as_of)
    except ValueError:
        raise dg.Failure(description=f"as_of must be a date like 2026-10-31, got {config.as_of!r}",
                         allow_retries=False) from None


def _tolerance(config: MonthEndConfig) -> Decimal:
    try:
        value = Decimal(config.amount_tolerance)
    except InvalidOperation:
        value = Decimal("-1")
    if not value.is_finite() or value < 0:
        raise dg.Failure(description=f"amount_tolerance must be a non-negative amount such as 0.01, got "
                                     f"{config.amount_tolerance!r}", allow_retries=False)
    return value


def _company_currency() -> str:
    """``COMPANY_CURRENCY``, checked now: a currency whose minor unit is known (totals are rounded to it)."""
    try:
        code = str(settings.read("COMPANY_CURRENCY"))
        currency_exponent(code)
    except (SettingError, UnknownCurrency) as exc:
        raise dg.Failure(description=f"COMPANY_CURRENCY: {exc}", allow_retries=False) from None
    return code


def _recon_type_check(_context: object, value: object) -> dg.TypeCheck:
    from sparklayer_erp.domain.reconciliation import ReconResult
    from sparklayer_erp.month_end import close as flow

    if not isinstance(value, ReconResult):
        return dg.TypeCheck(success=False, description=f"expected a ReconResult, got {type(value).__name__}")
    try:
        flow.validate_result(value)
    except flow.FrameInvalid as exc:
        return dg.TypeCheck(success=False, description=str(exc),
                            metadata={"failures": dg.MetadataValue.md(exc.cases.to_markdown())})
    return dg.TypeCheck(success=True, metadata={"orders": len(value.orders)})


ReconResultType = dg.DagsterType(
    type_check_fn=_recon_type_check, name="ReconResult", typing_type=object,  # a ReconResult, checked lazily
    description="A month's reconciliation: one row per SparkLayer order with its class, totals per customer, "
                "payment method and class (every frame checked by its pandera model).",
)


@dg.asset(
    partitions_def=monthly,
    group_name=GROUP,
    owners=["team:finance"],
    kinds={"pandas", "excel"},
    dagster_type=ReconResultType,
    description=(
        "Every SparkLayer order placed in the month, matched to its ERP order, invoice(s) and payment(s) and "
        "classified: settled; invoiced and open within terms; overdue; pending approval; confirmed, not yet "
        "invoiced; missing in the ERP; amount mismatch; paid in the shop but unpaid in the ERP; cancelled in one "
        "system only; cancelled in both; refunded in the shop with no ERP credit note, or credited in the ERP "
        "and not refunded in the shop; part-shipped (explained when invoiced for exactly the shipped part); "
        "in a currency the ERP does not book; exchange rate differences — plus ERP orders that claim a "
        "SparkLayer order that does not exist. Totals per customer, payment method, currency and class, exact, "
        "in the company currency (COMPANY_CURRENCY) at the ERP's rate for each order. Every run writes a new version of the "
        "pack (a workbook with a Read me sheet, CSV files, a chart) under reconciliation/YYYY-MM/vN in the data "
        "folder and in the ledger (copy it out with `sparklayer-erp pack --month YYYY-MM`); the first "
        "close-ready version is the one the month closes on. Finance gets the pack by e-mail when the month "
        "closes or is blocked."
    ),
)
def month_end_reconciliation(context: dg.AssetExecutionContext, config: MonthEndConfig, ledger: LedgerResource,
                             sparklayer: SparkLayerResource, erp: ErpResource, policy: PolicyResource,
                             alerts: AlertsResource) -> dg.Output:
    from sparklayer_erp.domain.reconciliation import close_ready
    from sparklayer_erp.month_end import close as flow

    month = flow.Month.from_partition_key(context.partition_key, ZoneInfo(monthly.timezone))
    as_of, tolerance, currency = _as_of(config, month), _tolerance(config), _company_currency()
    with sparklayer.session() as client, erp.session() as port:
        frames = flow.build_month_frames(client, port, ledger.ledger(), month)
    try:
        result = flow.reconcile(frames, month, as_of, tolerance, company_currency=currency)
    except flow.FrameInvalid as exc:
        raise dg.Failure(description=str(exc), allow_retries=False,
                         metadata={"frame": exc.frame, "failures": dg.MetadataValue.md(exc.cases.to_markdown())}
                         ) from exc
    published = flow.publish(result, ledger.ledger(), policy.output_dir(), run_id=context.run.run_id,
                             default_currency=currency)
    exported = published.exported
    routing = alerts.routing()
    alert = flow.pack_alert(result, published, routing.ui_url)
    from sparklayer_erp.notify.delivery import deliver  # Apprise: only in the runs that send

    emailed = deliver(routing, [alert], attachments=[exported.spreadsheet]) if alert else {}
    ready = close_ready(result)
    totals = result.totals
    return dg.Output(result, metadata={
        # what a person reads first, in this order; the numbers below feed the UI's plots
        "summary": dg.MetadataValue.md(flow.summary_markdown(result)),
        "what_blocks_the_close": dg.MetadataValue.md(flow.blockers_markdown(result)),
        "chart": dg.MetadataValue.md(flow.bar_chart_image_markdown(result)),  # opens as a picture
        "chart_text": dg.MetadataValue.md(flow.bar_chart_markdown(result)),
        "by_class": dg.MetadataValue.md(flow.by_class_markdown(result)),
        "by_payment_method": dg.MetadataValue.md(flow.by_payment_method_markdown(result)),
        "by_customer": dg.MetadataValue.md(flow.by_customer_markdown(result)),
        "download": dg.MetadataValue.md(flow.download_markdown(published)),
        "pack_version": dg.MetadataValue.int(published.version),
        "closed_on_version": dg.MetadataValue.int(published.close.version) if published.close else "not closed",
        "pack_checksum_sha256": published.checksum,
        "pack_emailed_to_finance": dg.MetadataValue.json(emailed or {"sent": "no (a re-run of a closed month)"}),
        "spreadsheet": dg.MetadataValue.path(str(exported.spreadsheet)),
        "csv_folder": dg.MetadataValue.path(str(exported.folder)),
        "chart_svg": dg.MetadataValue.path(str(exported.chart)),
        "close_ready": ready.ready,
        "who_must_act": ", ".join(flow.who_must_act(result)) or "nobody",
        "orders": dg.MetadataValue.int(int(totals["orders"])),
        "blocking_orders": dg.MetadataValue.int(int(totals["unexplained"]) + int(totals["unknown_erp_orders"])),
        "sparklayer_total": float(totals["sl_total"]),  # floats only for the plots; the files hold exact values
        "erp_total": float(totals["erp_total"]),
        "difference": str(totals["difference"]),
        "as_of": as_of.isoformat(),
        "company_currency": currency,
        "orders_per_class": dg.MetadataValue.json(flow.class_counts(result)),
        **{f"read_{k}": dg.MetadataValue.int(v) for k, v in frames.counts().items()},
    })


@dg.asset_check(
    asset=month_end_reconciliation,
    blocking=True,
    partitions_def=monthly,
    description="The month is close-ready: every SparkLayer order is matched or in an explained state "
                "(settled, open within terms, overdue, pending approval, not yet invoiced, cancelled in both), "
                "and no ERP order claims a SparkLayer order that does not exist. When it fails, the metadata "
                "says which classes block, who must act and what to do.",
)
def month_is_close_ready(month_end_reconciliation) -> dg.AssetCheckResult:  # a ReconResult
    from sparklayer_erp.domain.reconciliation import close_ready
    from sparklayer_erp.month_end import close as flow
    from sparklayer_erp.month_end.export import class_label

    result = month_end_reconciliation
    ready = close_ready(result)
    blockers = [{"status": class_label(b.recon_class), "class": str(b.recon_class), "orders": b.count,
                 "who_must_act": b.owner.value, "difference": str(b.difference), "what_to_do": b.action}
                for b in ready.blockers]
    return dg.AssetCheckResult(
        passed=ready.ready,
        severity=dg.AssetCheckSeverity.ERROR,
        description=ready.text if ready.ready else
        f"{sum(b.count for b in ready.blockers)} order(s) block the close of {result.month_start:%B %Y}; "
        f"who must act: {', '.join(flow.who_must_act(result))}.",
        metadata={
            "month": f"{result.month_start:%Y-%m}",
            "who_must_act": ", ".join(flow.who_must_act(result)) or "nobody",
            "blocking_orders": dg.MetadataValue.int(sum(b.count for b in ready.blockers)),
            "what_blocks_the_close": dg.MetadataValue.md(flow.blockers_markdown(result)),
            "blockers": dg.MetadataValue.json(blockers),
        },
    )
