"""Resend master data to SparkLayer in full, whatever the change hashes say. Plain Python, no Dagster.

A regular push sends only records whose ERP data changed since the last successful push, so a hand edit in
SparkLayer (a credit limit, a price, a stock figure) stays until the ERP record changes. A resend reads the
chosen data type from the ERP and pushes it again: every record, or only the ones asked for (account
codes, one price list, SKUs). It goes through the same extract, gates, push functions, audit rows and sync
log as a regular push (``sync.push_*`` with a ``sync.Resend``), so:

- records the gates hold back are never sent, and a mass quarantine stops the resend as it stops a push;
- whatever else changed in the ERP since the last push is sent too (it would be by the next run anyway);
- the hashes are stored afterwards, so the next scheduled run is quiet.

``master_data_resend_job`` (``masterdata.definitions``) runs it; ``resend_run_config`` builds its config, for
the command line and for scripts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sparklayer_erp.domain import masterdata as md
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.masterdata import extract as erp_extract
from sparklayer_erp.masterdata import sync
from sparklayer_erp.masterdata.catalog import RESEND_JOB_NAME as RESEND_JOB_NAME  # for the command line
from sparklayer_erp.masterdata.catalog import RESEND_OP_NAME
from sparklayer_erp.masterdata.extract import Extract
from sparklayer_erp.masterdata.sync import PushOutcome, Resend
from sparklayer_erp.sparklayer.client import SparkLayerClient

DATA_TYPES = ("customers", "prices", "stock", "pack_sizes")

# The extracts each data type needs, and the sync-log/ledger name its push reports under.
_SYNC_NAMES = {"customers": erp_extract.CUSTOMERS.sync_name, "prices": erp_extract.PRICES.sync_name,
               "stock": erp_extract.STOCK.sync_name, "pack_sizes": erp_extract.ITEMS.sync_name}


class ResendStopped(Exception):
    """The resend cannot go ahead (gate stopped it, nothing to send, ...): the message says why, in plain words."""


# --- the request ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResendRequest:
    """What to resend: a data type, and optionally which records of it (nothing given: all of them)."""

    data_type: str
    price_list: str | None = None  # prices only: an ERP price-list code or its SparkLayer slug
    skus: tuple[str, ...] = ()  # stock and pack_sizes only
    account_codes: tuple[str, ...] = ()  # customers only

    @property
    def sync_name(self) -> str:
        return _SYNC_NAMES[self.data_type]

    @property
    def scope(self) -> tuple[str, ...]:
        """The keys asked for (empty: all)."""
        if self.price_list:
            return (self.price_list,)
        return self.skus or self.account_codes

    def describe(self) -> str:
        what = {"customers": "customers", "prices": "prices", "stock": "stock levels",
                "pack_sizes": "pack sizes"}[self.data_type]
        if self.price_list:
            return f"{what} of price list {self.price_list}"
        if self.scope:
            return f"{what} of {', '.join(self.scope)}"
        return f"all {what}"


def parse_request(data_type: str, *, price_list: str | None = None, skus: Sequence[str] = (),
                  account_codes: Sequence[str] = ()) -> ResendRequest:
    """The cleaned request; ValueError naming the problem for a bad one."""
    if not isinstance(data_type, str) or data_type.strip() not in DATA_TYPES:
        raise ValueError(f"unknown data type {data_type!r}: choose one of {', '.join(DATA_TYPES)}")
    data_type = data_type.strip()
    if price_list is not None and not isinstance(price_list, str):
        raise ValueError(f"the price list must be an ERP price-list code or a SparkLayer slug, got {price_list!r}")
    price_list = (price_list or "").strip() or None
    clean_skus = _clean(skus, "SKU")
    clean_codes = _clean(account_codes, "account code")
    if price_list is not None and data_type != "prices":
        raise ValueError(f"a price list can only be given when resending prices, not {data_type}")
    if clean_skus and data_type not in ("stock", "pack_sizes"):
        raise ValueError(f"SKUs can only be given when resending stock or pack_sizes, not {data_type}")
    if clean_codes and data_type != "customers":
        raise ValueError(f"account codes can only be given when resending customers, not {data_type}")
    return ResendRequest(data_type, price_list, clean_skus, clean_codes)


def _clean(values: Sequence[str] | None, what: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        raise ValueError(f"give the {what}s as a list, not as one string: [{values!r}]")
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"an empty or invalid {what} was given: {value!r}")
        if value.strip() not in out:
            out.append(value.strip())
    return tuple(out)


def resend_run_config(data_type: str, *, price_list: str | None = None, skus: Sequence[str] = (),
                      account_codes: Sequence[str] = ()) -> dict:
    """The run_config for RESEND_JOB_NAME; raises ValueError with a clear message for a bad request."""
    request = parse_request(data_type, price_list=price_list, skus=skus, account_codes=account_codes)
    config: dict = {"data_type": request.data_type}
    if request.price_list:
        config["price_list"] = request.price_list
    if request.skus:
        config["skus"] = list(request.skus)
    if request.account_codes:
        config["account_codes"] = list(request.account_codes)
    return {"ops": {RESEND_OP_NAME: {"config": config}}}


# --- the run ---------------------------------------------------------------------------------------------------------


@dataclass
class ResendOutcome:
    """What a resend did: the push it made, and which of the keys asked for could not be sent."""

    request: ResendRequest
    push: PushOutcome
    not_found: list[str] = field(default_factory=list)  # asked for, unknown to the ERP
    held: list[str] = field(default_factory=list)  # asked for, held back by the gates (never sent)
    extracts: list[Extract] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.push.pushed

    @property
    def sent_keys(self) -> list[str]:
        return self.push.sent_keys


@dataclass(frozen=True)
class ResendSettings:
    """The run's policy, as the resources give it."""

    quarantine_share_limit: Decimal
    quantity_breaks: Sequence[int] = (1,)
    safety_buffer: int = 0
    pack_sizes_writable: bool = True


def run_resend(request: ResendRequest, port: ErpPort, client: SparkLayerClient, ledger: Ledger,
               settings: ResendSettings, *, log: Callable[[str], None] | None = None) -> ResendOutcome:
    """Extract, gate and push ``request`` again in full; ``ResendStopped`` when it cannot go ahead.

    Technical failures propagate as in a regular push (the caller records them); the hashes of what was
    already accepted are saved, so running it again resumes.
    """
    say = log or (lambda _msg: None)
    started = dt.datetime.now(dt.UTC)
    extracts = _extract(request, port, settings)
    for extract in extracts:
        erp_extract.record_quarantine(ledger, extract)
        decision = erp_extract.gate_decision(ledger, extract, settings.quarantine_share_limit)
        if decision.blocked:
            sync.report_blocked(client, ledger, extract, decision, started)
            raise ResendStopped(f"nothing was resent: the ERP {extract.spec.label} failed their checks "
                                f"({decision.description}); fix them in the ERP first")

    scope, not_found, held = _scope(request, extracts)
    if request.scope and not scope:
        raise ResendStopped(_nothing_to_send(request, not_found, held))
    for key in not_found:
        say(f"{key}: not found in the ERP, nothing to resend for it")
    for key in held:
        say(f"{key}: held back by the checks (see its exception), not resent")
    resend = Resend(frozenset(scope) if request.scope else None)

    if request.data_type == "customers":
        _check_price_lists(client, extracts[0], resend)
    ledger.record_sync_start(request.sync_name)
    push = _push(request, port, client, ledger, settings, extracts, resend)
    push.started_at = started
    sync.finish(client, ledger, push)
    return ResendOutcome(request, push, not_found, held, extracts)


def _extract(request: ResendRequest, port: ErpPort, settings: ResendSettings) -> list[Extract]:
    if request.data_type == "customers":
        return [erp_extract.extract_customers(port)]
    if request.data_type == "prices":
        breaks = sorted({int(b) for b in settings.quantity_breaks} | {1})
        return [erp_extract.extract_price_lists(port), erp_extract.extract_prices(port, breaks)]
    if request.data_type == "stock":
        return [erp_extract.extract_stock(port)]
    return [erp_extract.extract_items(port)]


def _scope(request: ResendRequest, extracts: list[Extract]) -> tuple[list[str], list[str], list[str]]:
    """(what ``Resend.only`` names, keys unknown to the ERP, keys held back) for the keys asked for."""
    if not request.scope:
        return [], [], []
    main = extracts[0]
    column = {"customers": "account_code", "prices": "code", "stock": "sku", "pack_sizes": "sku"}[
        request.data_type]
    valid = {str(v) for v in main.valid[column].dropna()}
    held_all = {str(v) for v in main.quarantined[column].dropna()} if column in main.quarantined else set()
    if request.data_type == "prices":  # a price list by its ERP code or its SparkLayer slug
        by_slug = {md.price_list_slug(c): c for c in valid | held_all}
        wanted = request.price_list or ""
        code = wanted if wanted in valid | held_all else by_slug.get(wanted, by_slug.get(wanted.lower()))
        if code is None:
            return [], [wanted], []
        return ([code], [], []) if code in valid else ([], [], [wanted])
    scope = [k for k in request.scope if k in valid]
    held = [k for k in request.scope if k not in valid and k in held_all]
    not_found = [k for k in request.scope if k not in valid and k not in held_all]
    return scope, not_found, held


def _nothing_to_send(request: ResendRequest, not_found: list[str], held: list[str]) -> str:
    parts = []
    if not_found:
        parts.append(f"not found in the ERP: {', '.join(not_found)}")
    if held:
        parts.append(f"held back by the checks (see the open exceptions): {', '.join(held)}")
    return f"nothing was resent for {request.describe()}: " + "; ".join(parts)


def _check_price_lists(client: SparkLayerClient, customers: Extract, resend: Resend) -> None:
    """The customers to send must not point at price lists SparkLayer lacks (as ``customer_price_lists_exist``
    guards the regular push): a buyer would be shown the wrong prices."""
    picked = customers.valid if resend.only is None else customers.valid[
        customers.valid["account_code"].isin(resend.only)]
    missing = sync.missing_price_lists(picked, {pl.slug for pl in client.iter_price_lists()})
    if missing:
        shown = "; ".join(f"{code}: {', '.join(slugs)}" for code, slugs in list(missing.items())[:10])
        raise ResendStopped("nothing was resent: customers use price lists SparkLayer does not have yet "
                            f"({shown}); resend prices first, then customers")


def _push(request: ResendRequest, port: ErpPort, client: SparkLayerClient, ledger: Ledger,
          settings: ResendSettings, extracts: list[Extract], resend: Resend) -> PushOutcome:
    if request.data_type == "customers":
        return sync.push_customers(client, ledger, extracts[0], resend=resend)
    if request.data_type == "prices":
        return sync.push_prices(client, ledger, extracts[0], extracts[1], resend=resend)
    if request.data_type == "stock":
        pending = sync.pending_approval_quantities(ledger, port, port.default_warehouse_code())
        return sync.push_stock(client, ledger, extracts[0], pending, settings.safety_buffer, resend=resend)
    return sync.push_pack_sizes(client, ledger, extracts[0], writable=settings.pack_sizes_writable, resend=resend)
