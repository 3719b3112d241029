"""Master data, ERP → SparkLayer, as Dagster assets: thin wiring over
``sparklayer_erp.masterdata.sync``, with the gates as blocking asset checks beside the assets.

    erp_customers ───────────────────────────────────┐
    erp_price_lists ─┬─ sparklayer_price_lists ──────┴─ sparklayer_customers
    erp_prices ──────┘
    erp_items ────────── sparklayer_pack_sizes
    erp_stock ────────── sparklayer_stock

The ``erp_*`` assets read the ERP and hold back bad rows (each an exception for its owner team); each
carries the blocking check ``not_mass_quarantined``, so a broken extract never reaches a push. The
``sparklayer_*`` assets send only what changed since the last successful push.

Retries: the SparkLayer client already waits out 429s and retries 5xx and dropped connections; the
``RetryPolicy`` here re-runs a step that still failed for a technical reason (ERP or SparkLayer down). A
refusal (a 4xx, which would fail the same way again) fails the step with ``allow_retries=False``.

No ``from __future__ import annotations`` here: Dagster reads the ``context`` and resource annotations as
real types.

Loading this module imports neither pandas nor pandera, because every run worker loads the whole code
location before its run, the order sync's too: what the decorators need comes from ``catalog``, and
``extract``, ``sync`` and ``resend`` are imported inside the steps. Inputs that carry their objects are
annotated with Dagster types that import the class only to check a value (``EXTRACT``, ``PRICES_OUTCOME``);
other hints naming those classes are strings.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import dagster as dg
from dagster import AssetExecutionContext
from pydantic import Field

from sparklayer_erp.masterdata import catalog
from sparklayer_erp.masterdata.catalog import DatasetInfo
from sparklayer_erp.plumbing.failures import TRANSIENT_RETRY, failures_handled
from sparklayer_erp.plumbing.pandera_types import column_schema, load, pandera_dagster_type
from sparklayer_erp.resources import ErpResource, LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.errors import SparkLayerError, SparkLayerNotFound

if TYPE_CHECKING:
    from sparklayer_erp.ledger import Ledger
    from sparklayer_erp.masterdata.extract import Extract
    from sparklayer_erp.masterdata.sync import PushOutcome
    from sparklayer_erp.sparklayer.client import SparkLayerClient

GROUP = "master_data"
MASS_CHECK = "not_mass_quarantined"

SALES_OPERATIONS = "team:sales_operations"
FINANCE = "team:finance"
OPERATIONS = "team:operations"
ECOMMERCE = "team:ecommerce"



# --- Dagster types: an extract after its gate, and the classes the steps hand on ----------------------------------


def class_type(name: str, class_path: str) -> dg.DagsterType:
    """The isinstance check Dagster infers from a class annotation, with the class (``"module:Class"``)
    imported by the check, when a step runs, instead of when the code location loads."""

    def _check(_context: Any, value: object) -> dg.TypeCheck:
        if isinstance(value, load(class_path)):
            return dg.TypeCheck(success=True)
        return dg.TypeCheck(success=False, description=f"expected a {name}, got {type(value).__name__}")

    return dg.DagsterType(type_check_fn=_check, name=name, description=f"A {class_path.replace(':', '.')}.")


EXTRACT = class_type("Extract", "sparklayer_erp.masterdata.extract:Extract")
PRICES_OUTCOME = class_type("PricesOutcome", "sparklayer_erp.masterdata.sync:PricesOutcome")


def extract_type(dataset: DatasetInfo) -> dg.DagsterType:
    """An ``Extract`` whose valid rows pass the dataset's pandera model (the gate's promise, re-checked)."""
    frame_type = pandera_dagster_type(dataset.model_path, name=dataset.model_name,
                                      description=dataset.model_doc)

    def _check(context: Any, value: object) -> dg.TypeCheck:
        from sparklayer_erp.masterdata.extract import Extract

        if not isinstance(value, Extract) or value.dataset != dataset.name:
            return dg.TypeCheck(success=False, description=f"expected the {dataset.name} extract")
        return frame_type.type_check(context, value.valid)

    return dg.DagsterType(type_check_fn=_check, name=dataset.type_name, description=dataset.type_description)


# --- shared wiring ------------------------------------------------------------------------------------------------


def _extract_step(context: AssetExecutionContext, dataset: DatasetInfo, read: Callable[[], "Extract"],
                  ledger_res: LedgerResource, sparklayer: SparkLayerResource,
                  policy: PolicyResource) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Extract + gate + exceptions + the mass-quarantine check, the same for every dataset."""
    from sparklayer_erp.masterdata import extract as erp_extract
    from sparklayer_erp.masterdata import sync as flow

    ledger = ledger_res.ledger()
    started = dt.datetime.now(dt.UTC)
    with failures_handled(ledger, dataset.sync_name):
        extract = read()
    quarantine = erp_extract.record_quarantine(ledger, extract)
    decision = erp_extract.gate_decision(ledger, extract, policy.quarantine_share_limit())
    if decision.blocked:
        context.log.error(f"{dataset.label}: {decision.description}; nothing of it is pushed this run")
        try:  # best effort: the block itself is already in the ledger and on this run
            with sparklayer.session() as client:
                flow.report_blocked(client, ledger, extract, decision, started)
        except SparkLayerError as exc:
            context.log.warning(f"could not report the stopped {dataset.sync_name} sync to SparkLayer: {exc}")
    yield dg.Output(extract, metadata={
        "read": extract.read_count,
        "valid": extract.valid_count,
        "quarantined": extract.quarantined_count,
        "quarantined_share": float(round(extract.share, 4)),
        "exceptions_open": quarantine.raised,
        "exceptions_resolved": quarantine.resolved,
        "quarantined_rows": dg.MetadataValue.md(erp_extract.quarantine_preview(extract)),
        "dagster/row_count": extract.valid_count,
        "dagster/column_schema": column_schema(extract.spec.model),
    })
    yield dg.AssetCheckResult(
        check_name=MASS_CHECK, passed=not decision.blocked, severity=dg.AssetCheckSeverity.ERROR,
        description=decision.description,
        metadata={"quarantined": extract.quarantined_count, "read": extract.read_count,
                  "share": float(round(extract.share, 4)), "limit": float(decision.limit)},
    )


def _mass_check_spec(asset: str, label: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        MASS_CHECK, asset=asset, blocking=True,
        description=f"Stops the push when more than MASS_QUARANTINE_SHARE of the ERP {label} failed their "
                    "checks in one run: so many failures point to a broken extract or a bulk change gone "
                    "wrong, and SparkLayer keeps its last good data instead.",
    )


def _push_metadata(outcome: "PushOutcome") -> dict[str, Any]:
    meta: dict[str, Any] = dict(outcome.counts())
    meta["sync_log_written"] = outcome.sync_log_written
    meta["per_record_errors"] = len(outcome.errors)
    if outcome.created:
        meta["created_in_sparklayer"] = ", ".join(outcome.created)
    if outcome.notes:
        meta["notes"] = "; ".join(outcome.notes)
    if outcome.errors:
        rows = ["| record | problem |", "|---|---|"]
        rows += [f"| {e.external_id} | {e.message.replace('|', '/')} |" for e in outcome.errors[:25]]
        meta["errors"] = dg.MetadataValue.md("\n".join(rows))
    return meta


def _push_step(ledger: "Ledger", client: "SparkLayerClient", sync_name: str,
               push: Callable[[], "PushOutcome"]) -> "PushOutcome":
    from sparklayer_erp.masterdata import sync as flow

    ledger.record_sync_start(sync_name)
    with failures_handled(ledger, sync_name):
        return flow.finish(client, ledger, push())


# --- extracts -------------------------------------------------------------------------------------------------------


@dg.asset(
    group_name=GROUP, owners=[SALES_OPERATIONS], kinds={"erp", "pandas"}, retry_policy=TRANSIENT_RETRY,
    dagster_type=extract_type(catalog.CUSTOMERS), check_specs=[_mass_check_spec("erp_customers", "customers")],
    description="Customer accounts as the ERP holds them: account code, e-mail, payment terms, credit limit, "
                "open balance, credit hold, price level and contract price list. Records that fail a check "
                "(no account code, a code used twice, no or a broken e-mail, an unknown currency, ...) are "
                "held back and listed as exceptions for sales operations; they go through by themselves once "
                "corrected in the ERP.",
)
def erp_customers(context: AssetExecutionContext, erp: ErpResource, ledger: LedgerResource,
                  sparklayer: SparkLayerResource, policy: PolicyResource):
    from sparklayer_erp.masterdata import extract as erp_extract

    with erp.session() as port:
        yield from _extract_step(context, catalog.CUSTOMERS, lambda: erp_extract.extract_customers(port),
                                 ledger, sparklayer, policy)


@dg.asset(
    group_name=GROUP, owners=[FINANCE], kinds={"erp", "pandas"}, retry_policy=TRANSIENT_RETRY,
    dagster_type=extract_type(catalog.PRICE_LISTS), check_specs=[_mass_check_spec("erp_price_lists", "price lists")],
    description="The ERP's price lists: one per price level (Trade, Wholesale, ...) and one per customer "
                "contract. A list that fails its checks (unknown currency, a code that clashes with another) "
                "is held back for finance together with its prices.",
)
def erp_price_lists(context: AssetExecutionContext, erp: ErpResource, ledger: LedgerResource,
                    sparklayer: SparkLayerResource, policy: PolicyResource):
    from sparklayer_erp.masterdata import extract as erp_extract

    with erp.session() as port:
        yield from _extract_step(context, catalog.PRICE_LISTS, lambda: erp_extract.extract_price_lists(port),
                                 ledger, sparklayer, policy)


class ErpPricesConfig(dg.Config):
    quantity_breaks: list[int] = Field(
        default_factory=list,
        description="Quantities (in base units) at which the ERP is asked for a price: 1 plus every volume "
                    "break your price lists use. Empty: the PRICE_QUANTITY_BREAKS setting. Breaks that do not "
                    "lower the price are dropped.")


@dg.asset(
    group_name=GROUP, owners=[FINANCE], kinds={"erp", "pandas"}, retry_policy=TRANSIENT_RETRY,
    dagster_type=extract_type(catalog.PRICES), check_specs=[_mass_check_spec("erp_prices", "prices")],
    description="Every price per base unit (one bottle, not one case) on every ERP price list, with volume "
                "breaks. A price that fails its checks (negative, not a number, unknown currency, no SKU) is "
                "held back for finance: buyers keep seeing the last good price until it is corrected.",
)
def erp_prices(context: AssetExecutionContext, config: ErpPricesConfig, erp: ErpResource,
               ledger: LedgerResource, sparklayer: SparkLayerResource, policy: PolicyResource):
    from sparklayer_erp.masterdata import extract as erp_extract

    breaks = sorted({int(b) for b in config.quantity_breaks or policy.quantity_breaks()} | {1})
    with erp.session() as port:
        yield from _extract_step(context, catalog.PRICES, lambda: erp_extract.extract_prices(port, breaks),
                                 ledger, sparklayer, policy)


@dg.asset(
    group_name=GROUP, owners=[OPERATIONS], kinds={"erp", "pandas"}, retry_policy=TRANSIENT_RETRY,
    dagster_type=extract_type(catalog.ITEMS), check_specs=[_mass_check_spec("erp_items", "items")],
    description="The ERP's sellable items with their units: the base unit prices and stock are counted in, "
                "and the sale unit with its pack size (a case of 12 has pack size 12). Items set up wrongly "
                "(no or a duplicate SKU, pack size below 1) are held back for operations.",
)
def erp_items(context: AssetExecutionContext, erp: ErpResource, ledger: LedgerResource,
              sparklayer: SparkLayerResource, policy: PolicyResource):
    from sparklayer_erp.masterdata import extract as erp_extract

    with erp.session() as port:
        yield from _extract_step(context, catalog.ITEMS, lambda: erp_extract.extract_items(port), ledger, sparklayer, policy)


@dg.asset(
    group_name=GROUP, owners=[OPERATIONS], kinds={"erp", "pandas"}, retry_policy=TRANSIENT_RETRY,
    dagster_type=extract_type(catalog.STOCK), check_specs=[_mass_check_spec("erp_stock", "stock figures")],
    description="Stock per item and warehouse in base units: on hand and already held for confirmed orders "
                "not yet picked. A figure that is not a number is held back for operations; the shop keeps the last good one.",
)
def erp_stock(context: AssetExecutionContext, erp: ErpResource, ledger: LedgerResource,
              sparklayer: SparkLayerResource, policy: PolicyResource):
    from sparklayer_erp.masterdata import extract as erp_extract

    with erp.session() as port:
        yield from _extract_step(context, catalog.STOCK, lambda: erp_extract.extract_stock(port), ledger, sparklayer, policy)


# --- pushes -----------------------------------------------------------------------------------------------------------


@dg.asset(
    group_name=GROUP, owners=[FINANCE], kinds={"sparklayer", "api"}, retry_policy=TRANSIENT_RETRY,
    dagster_type=PRICES_OUTCOME,
    description="Price lists and prices in SparkLayer. Each ERP price list becomes a SparkLayer list (created "
                "when missing, marked as coming from the integration); the prices of every SKU that changed "
                "are sent with their volume breaks, and a SKU removed from an ERP list is cleared from it. "
                "Nothing is sent when nothing changed.",
)
def sparklayer_price_lists(context: AssetExecutionContext, erp_price_lists: EXTRACT, erp_prices: EXTRACT,
                           ledger: LedgerResource, sparklayer: SparkLayerResource) -> dg.Output:
    from sparklayer_erp.masterdata import sync as flow

    led = ledger.ledger()
    with sparklayer.session() as client:
        outcome = _push_step(led, client, catalog.PRICES.sync_name,
                             lambda: flow.push_prices(client, led, erp_price_lists, erp_prices))
    assert isinstance(outcome, flow.PricesOutcome)
    return dg.Output(outcome, metadata=_push_metadata(outcome))


@dg.asset(
    group_name=GROUP, owners=[SALES_OPERATIONS], kinds={"sparklayer", "api"}, retry_policy=TRANSIENT_RETRY,
    deps=[sparklayer_price_lists],
    description="Customer accounts in SparkLayer, each sent whole whenever it changed in the ERP: account "
                "code (accounting id), payment terms, credit limit and ERP open balance, price lists "
                "(contract first, then level). A customer on credit hold in the ERP is moved to the "
                f"'{contract.CREDIT_HOLD_GROUP}' group, which can only pay by card, and back to "
                f"'{contract.DEFAULT_GROUP}' when released; so is a customer closed (inactive) in the ERP, with "
                "a credit limit of 0, until reactivated. An ERP customer the shop does not know yet is "
                "created by e-mail. The link between ERP account and SparkLayer customer is recorded for the "
                "order sync.",
)
def sparklayer_customers(context: AssetExecutionContext, erp_customers: EXTRACT, ledger: LedgerResource,
                         sparklayer: SparkLayerResource) -> dg.MaterializeResult:
    from sparklayer_erp.masterdata import sync as flow

    led = ledger.ledger()
    with sparklayer.session() as client:
        outcome = _push_step(led, client, catalog.CUSTOMERS.sync_name,
                             lambda: flow.push_customers(client, led, erp_customers))
    return dg.MaterializeResult(metadata=_push_metadata(outcome))


@dg.asset(
    group_name=GROUP, owners=[OPERATIONS, ECOMMERCE], kinds={"sparklayer", "api"}, retry_policy=TRANSIENT_RETRY,
    description="Pack sizes in SparkLayer: the ERP sale unit (a case of 12) becomes the product's quantity "
                "rule, so buyers order in whole cases. On stores where SparkLayer cannot hold the rule "
                "(SPARKLAYER_PACK_SIZE_MODE=ledger) the mapping is only recorded and each product sold in "
                "packs is an exception for ecommerce to set up in the shop.",
)
def sparklayer_pack_sizes(context: AssetExecutionContext, erp_items: EXTRACT, ledger: LedgerResource,
                          sparklayer: SparkLayerResource) -> dg.MaterializeResult:
    from sparklayer_erp.masterdata import sync as flow

    led = ledger.ledger()
    writable = sparklayer.pack_sizes_writable()
    with sparklayer.session() as client:
        outcome = _push_step(led, client, catalog.ITEMS.sync_name,
                             lambda: flow.push_pack_sizes(client, led, erp_items, writable=writable))
    return dg.MaterializeResult(metadata={**_push_metadata(outcome), "mode": "variants" if writable else "ledger"})


@dg.asset(
    group_name=GROUP, owners=[OPERATIONS], kinds={"sparklayer", "api"}, retry_policy=TRANSIENT_RETRY,
    description="Stock buyers can still order, per product and warehouse: on hand − held for confirmed "
                "orders not yet picked − held by pay-on-account orders waiting for approval − the safety buffer (STOCK_SAFETY_BUFFER), "
                "in whole units and never below 0. Each ERP warehouse is a SparkLayer stock location with the "
                "warehouse code as its id (created when missing).",
)
def sparklayer_stock(context: AssetExecutionContext, erp_stock: EXTRACT, erp: ErpResource,
                     ledger: LedgerResource, sparklayer: SparkLayerResource,
                     policy: PolicyResource) -> dg.MaterializeResult:
    from sparklayer_erp.masterdata import sync as flow

    led = ledger.ledger()
    buffer = policy.safety_buffer()
    with failures_handled(led, catalog.STOCK.sync_name), erp.session() as port:
        # Each pending order counts against the warehouse the ERP ships it from; the ERP's default warehouse
        # (where the order sync's orders ship from) only when it does not say.
        pending = flow.pending_approval_quantities(led, port, port.default_warehouse_code())
    with sparklayer.session() as client:
        outcome = _push_step(led, client, catalog.STOCK.sync_name,
                             lambda: flow.push_stock(client, led, erp_stock, pending, buffer))
    return dg.MaterializeResult(metadata={**_push_metadata(outcome), "safety_buffer": buffer,
                                          "pending_approval_orders": pending.orders})


# --- checks ---------------------------------------------------------------------------------------------------------


@dg.asset_check(
    asset=erp_customers, blocking=True,
    description="Every customer about to be sent has an ERP account code, used once: it is SparkLayer's "
                "accounting id and the only way an order finds its ERP account.",
)
def customers_have_account_codes(erp_customers: EXTRACT) -> dg.AssetCheckResult:
    codes = erp_customers.valid["account_code"]
    blank = codes.isna() | (codes.astype("str").str.strip() == "")
    duplicated = codes[~blank & codes.duplicated(keep=False)]
    bad = erp_customers.valid.loc[blank, "name"].astype("str").tolist() + sorted(set(duplicated))
    return dg.AssetCheckResult(passed=not bad, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"customers_checked": len(codes), "without_or_shared_code": len(bad),
                                         "examples": dg.MetadataValue.json(bad[:20])})


@dg.asset_check(
    asset=sparklayer_price_lists, blocking=True, additional_ins={"erp_customers": dg.AssetIn("erp_customers")},
    description="Every price list a customer uses exists in SparkLayer before customers are sent: a buyer "
                "pointed at a missing list would see the wrong prices. If this fails, customers wait for the "
                "next run (the ERP still refuses credit to accounts on hold when approving orders).",
)
def customer_price_lists_exist(sparklayer_price_lists: PRICES_OUTCOME,
                               erp_customers: EXTRACT) -> dg.AssetCheckResult:
    from sparklayer_erp.masterdata import sync as flow

    missing = flow.missing_price_lists(erp_customers.valid, sparklayer_price_lists.price_list_slugs)
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"customers_checked": erp_customers.valid_count, "customers_with_missing_lists": len(missing),
                  "missing": dg.MetadataValue.json(dict(list(missing.items())[:20]))},
    )


@dg.asset_check(
    asset=sparklayer_customers,
    description=f"The '{contract.CREDIT_HOLD_GROUP}' customer group exists in SparkLayer and offers neither pay "
                "on account nor pay by invoice: that is what stops a customer on ERP credit hold from buying "
                "on credit in the shop.",
)
def credit_hold_group_blocks_credit(sparklayer: SparkLayerResource) -> dg.AssetCheckResult:
    with sparklayer.session() as client:
        try:
            methods = client.get_group_settings(contract.CREDIT_HOLD_GROUP).payment_methods
        except SparkLayerNotFound:
            return dg.AssetCheckResult(passed=False, description=f"group {contract.CREDIT_HOLD_GROUP!r} is missing")
    credit = sorted({"on_account", "invoice"} & set(methods))
    return dg.AssetCheckResult(passed=not credit, metadata={"payment_methods": dg.MetadataValue.json(list(methods)),
                                                            "credit_methods_allowed": ", ".join(credit) or "none"})


# --- resend (an op, not an asset: it rewrites what the push assets already hold) -------------------------------------


class ResendConfig(dg.Config):
    data_type: Literal["customers", "prices", "stock", "pack_sizes"] = Field(
        description="What to send again in full: customers, prices, stock or pack_sizes.")
    price_list: str | None = Field(
        default=None, description="Prices only: one price list, by its ERP code (TRADE) or SparkLayer slug "
                                  "(trade). Empty: every price list.")
    skus: list[str] = Field(default_factory=list,
                            description="Stock and pack_sizes only: these SKUs. Empty: every SKU.")
    account_codes: list[str] = Field(default_factory=list,
                                     description="Customers only: these ERP account codes. Empty: every customer.")


@dg.op(
    name=catalog.RESEND_OP_NAME, retry_policy=TRANSIENT_RETRY,
    description="Sends one data type (customers, prices, stock or pack sizes) to SparkLayer again in full, "
                "whatever changed, to undo hand edits made in SparkLayer. Records held back by the checks are "
                "never sent; the next scheduled run is quiet again.",
)
def master_data_resend(context: dg.OpExecutionContext, config: ResendConfig, erp: ErpResource,
                       ledger: LedgerResource, sparklayer: SparkLayerResource,
                       policy: PolicyResource) -> dg.Output[None]:
    from sparklayer_erp.masterdata import resend as resending

    try:
        request = resending.parse_request(config.data_type, price_list=config.price_list, skus=config.skus,
                                          account_codes=config.account_codes)
    except ValueError as exc:
        raise dg.Failure(description=f"bad resend request: {exc}", allow_retries=False) from exc
    led = ledger.ledger()
    settings = resending.ResendSettings(
        quarantine_share_limit=policy.quarantine_share_limit(), quantity_breaks=policy.quantity_breaks(),
        safety_buffer=policy.safety_buffer(), pack_sizes_writable=sparklayer.pack_sizes_writable())
    context.log.info(f"resending {request.describe()}")
    try:
        with failures_handled(led, request.sync_name), erp.session() as port, sparklayer.session() as client:
            outcome = resending.run_resend(request, port, client, led, settings, log=context.log.warning)
    except resending.ResendStopped as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    meta = _push_metadata(outcome.push)
    meta.update({
        "data_type": request.data_type,
        "asked_for": ", ".join(request.scope) or "all",
        "sent": outcome.sent,
        "resent_unchanged": outcome.push.resent,
        "sent_keys": dg.MetadataValue.md(_key_list(outcome.sent_keys)),
        "not_found_in_erp": ", ".join(outcome.not_found) or "none",
        "held_back": ", ".join(outcome.held) or "none",
    })
    return dg.Output(None, metadata=meta)


def _key_list(keys: list[str], limit: int = 200) -> str:
    if not keys:
        return "Nothing was sent."
    shown = "\n".join(f"- {k}" for k in keys[:limit])
    return shown + (f"\n\n…and {len(keys) - limit} more." if len(keys) > limit else "")


MASTERDATA_ASSETS = [erp_customers, erp_price_lists, erp_prices, erp_items, erp_stock,
                     sparklayer_price_lists, sparklayer_customers, sparklayer_pack_sizes, sparklayer_stock]
MASTERDATA_CHECKS = [customers_have_account_codes, customer_price_lists_exist, credit_hold_group_blocks_credit]

