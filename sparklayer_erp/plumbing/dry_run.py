"""``DRY_RUN=on``: every flow computes its writes exactly as it would, and none is sent.

Three pieces, wired in ``resources.py`` when ``DRY_RUN`` is on:

* ``dry_run_client(client, recorder)``: the SparkLayer client with every writing method (each one that sends a
  POST, PUT, PATCH or DELETE, listed in ``SPARKLAYER_WRITES``) replaced by one that records the call (method,
  key, digest of the body) and returns a plausible answer; reads, the token and the read-only
  ``batch_fetch_stock`` go to SparkLayer as usual.
* ``dry_run_port(port, recorder)``: the ERP port, likewise (``ERP_WRITES``). ``create_orders`` looks the
  purchase ids up in the real ERP first, as the adapter does, and answers the rest with an order ref with a
  negative id and a ``DRY-RUN-…`` number, so the flows carry on (status, payment, ledger link).
* ``dry_run_ledger_url(data_dir, source_url)``: those fake answers must never reach the real ledger, so in
  dry-run the ledger is a scratch copy, ``<data dir>/ledger-dry-run.sqlite``, made afresh from the real ledger
  the first time a process asks for it (a ``LEDGER_DATABASE_URL`` whose database name says ``dry-run`` /
  ``dry_run`` is used as it is instead).

Alerts are planned writes too: ``notify.delivery.deliver`` records each message (system ``alerts``) instead of
sending it, since the dry run's exceptions live in the scratch ledger.

The recorder keeps the planned writes in memory and appends each one to ``<data dir>/dry-run-writes.jsonl``
(one JSON object a line, from every process); ``python -m sparklayer_erp.plumbing.dry_run`` prints the
markdown report of that file, and ``DryRunRecorder.render_markdown`` gives the same for one process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import itertools
import json
import logging
import math
import os
import sqlite3
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from sparklayer_erp import settings
from sparklayer_erp.domain.models import (
    ActionResult,
    CreateResult,
    CreditNoteRequest,
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderRef,
    ErpOrderState,
    ErpOrderStatus,
)
from sparklayer_erp.erp.port import ErpCreditNotes
from sparklayer_erp.plumbing.markdown import cell
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.batching import PushReport
from sparklayer_erp.sparklayer.client import UpsertedCustomer
from sparklayer_erp.sparklayer.errors import SparkLayerNotFound
from sparklayer_erp.sparklayer.models import (
    Customer,
    CustomerGroup,
    PriceList,
    StockLocation,
    strip_calculated,
)

log = logging.getLogger("sparklayer_erp.dry_run")

SETTING = "DRY_RUN"
JOURNAL_NAME = "dry-run-writes.jsonl"
LEDGER_NAME = "ledger-dry-run.sqlite"
_DRY_RUN_NAMES = ("dry-run", "dry_run", "dryrun")

# Every SparkLayerClient method that sends a POST, PUT, PATCH or DELETE, with its HTTP method. Reads pass
# through, and so do the token request and the read-only POST ``batch_fetch_stock``. A test fails when the
# client gains a writing method that is not listed here.
SPARKLAYER_WRITES: dict[str, str] = {
    "create_price_list": "POST /api/v1/price-lists",
    "update_price_list": "PATCH /api/v1/price-lists/{slug}",
    "patch_pricing": "PATCH /api/v1/price-lists/{slug}/pricing",
    "batch_update_pricing": "PATCH /api/v1/batch-update-pricing",
    "create_stock_location": "POST /api/v1/stock-locations",
    "batch_update_stock": "POST /api/v1/batch-update-stock",
    "update_variant_settings": "PATCH /api/v1/variants/{external_id}",
    "upsert_customer": "PUT /api/v2/customers/{lookup}/{id}",
    "create_customer_group": "POST /api/v1/customer-groups",
    "put_purchase": "PUT /api/v1/purchases/{lookup}/{id}",
    "add_purchase_history": "POST /api/v1/purchases/{lookup}/{id}/history",
    "put_transaction": "PUT /api/v1/purchases/{lookup}/{id}/transactions",
    "put_sync_log": "PUT /api/v1/sync-log/{integration}/{data_type}",
}
SPARKLAYER_READS_BY_POST = ("batch_fetch_stock", "get_token")
# Every ErpPort method that changes the ERP.
ERP_WRITES = ("create_orders", "approve_order", "cancel_order", "amend_order", "record_payment")
ERP_CREDIT_NOTE_WRITES = ("create_credit_note",)  # ``ErpCreditNotes``: see ``DryRunErpCreditNotes``


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``DRY_RUN`` says on (any case; a malformed value raises naming the variable)."""
    return settings.switch_on(SETTING, environ)


# --- the record ------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-able, order-stable form of a body (API models by their wire form, dataclasses by their fields)."""
    to_api = getattr(value, "to_api", None)
    if callable(to_api) and not isinstance(value, type):
        return _plain(to_api())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal | dt.date | dt.datetime):
        return str(value)
    return value


def digest(body: Any) -> str:
    """First 16 hex digits of the SHA-256 of the body's canonical JSON: two runs planning the same write agree."""
    text = json.dumps(_plain(body), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class PlannedWrite:
    """One write a dry run computed and did not send."""

    system: str  # SparkLayer, ERP
    call: str  # the client or port method
    method: str  # HTTP method and path template (SparkLayer), the port method (ERP)
    key: str  # what it is about: purchase id, SKU, customer, slug, …
    digest: str  # of the body that would have been sent
    summary: str = ""  # for people: "3 rows", "2 lines for C1006, PO-1, committed"
    at: str = ""  # UTC, ISO 8601


class DryRunRecorder:
    """Collects planned writes (thread-safe) and renders them as a markdown report.

    With ``journal`` every write is also appended to that file as one JSON line, so writes planned in many
    processes (sensor ticks, run workers) end up in one report (``DryRunRecorder.load``)."""

    def __init__(self, journal: Path | None = None) -> None:
        self.journal = journal
        self._writes: list[PlannedWrite] = []
        self._lock = threading.Lock()

    @property
    def writes(self) -> list[PlannedWrite]:
        with self._lock:
            return list(self._writes)

    def record(self, system: str, call: str, method: str, key: object, body: Any, summary: str = "") -> PlannedWrite:
        write = PlannedWrite(system, call, method, str(key), digest(body), summary,
                             dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        with self._lock:
            self._writes.append(write)
            if self.journal is not None:
                self.journal.parent.mkdir(parents=True, exist_ok=True)
                with self.journal.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(dataclasses.asdict(write)) + "\n")
        log.info("DRY RUN: would %s %s (%s) %s", method, write.key, write.digest, summary)
        return write

    @classmethod
    def load(cls, journal: Path) -> DryRunRecorder:
        """The writes a journal file holds (``recorder()`` appends to it from every process)."""
        recorder = cls()
        if journal.exists():
            for line in journal.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    recorder._writes.append(PlannedWrite(**json.loads(line)))
        return recorder

    def render_markdown(self, *, limit: int = 500) -> str:
        writes = self.writes
        lines = ["# Dry run: writes computed and not sent", ""]
        if not writes:
            lines.append("Nothing would have been written.")
            return "\n".join(lines) + "\n"
        counts = Counter((w.system, w.call) for w in writes)
        lines += ["| system | what | how many |", "|---|---|---|"]
        lines += [f"| {cell(system)} | {cell(call)} | {n} |" for (system, call), n in sorted(counts.items())]
        lines += ["", "| when (UTC) | system | write | key | would send | body digest |", "|---|---|---|---|---|---|"]
        for w in writes[:limit]:
            lines.append(f"| {cell(w.at)} | {cell(w.system)} | {cell(w.method)} | {cell(w.key)} | "
                         f"{cell(w.summary)} | `{w.digest}` |")
        if len(writes) > limit:
            lines.append(f"| … | | {len(writes) - limit} more | | | |")
        return "\n".join(lines) + "\n"


_recorders: dict[Path, DryRunRecorder] = {}
_recorders_lock = threading.Lock()


def recorder(data_dir: Path | str | None = None) -> DryRunRecorder:
    """The process's recorder, journaling to ``<data dir>/dry-run-writes.jsonl``."""
    journal = Path(data_dir or settings.data_dir()) / JOURNAL_NAME
    with _recorders_lock:
        return _recorders.setdefault(journal, DryRunRecorder(journal))


def _rows(rows: Iterable[Any]) -> list[Any]:
    return list(rows)


def _batches(n: int, size: int) -> int:
    return math.ceil(n / max(1, size)) if n else 0


# --- SparkLayer -------------------------------------------------------------------------------------------------


class DryRunSparkLayerClient:
    """A SparkLayer client that reads for real and records its writes instead of sending them."""

    system = "SparkLayer"

    def __init__(self, client: Any, recorder: DryRunRecorder) -> None:
        self._client = client
        self._recorder = recorder
        self._fake_ids = itertools.count(1)

    def __getattr__(self, name: str) -> Any:
        if name in SPARKLAYER_WRITES:  # never reached (each has a method below); a guard for the future
            raise AttributeError(f"{name} is a write and has no dry-run stand-in")
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"DryRun({self._client!r})"

    def __enter__(self) -> DryRunSparkLayerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def _record(self, call: str, key: object, body: Any, summary: str = "") -> None:
        self._recorder.record(self.system, call, SPARKLAYER_WRITES[call], key, body, summary)

    def _push(self, call: str, label: str, rows: Iterable[Any], body: Any, key: object, batch_size: int) -> PushReport:
        rows = _rows(rows)
        self._record(call, key, body(rows), f"{len(rows)} rows")
        return PushReport(label, len(rows), _batches(len(rows), batch_size), 0.0)

    # price lists and prices
    def create_price_list(self, price_list: PriceList) -> PriceList:
        self._record("create_price_list", price_list.slug, price_list, f"new price list {price_list.name}")
        return price_list

    def update_price_list(self, slug: str, *, name: str | None = None, currency_code: str | None = None,
                          tax_inclusive_display: bool | None = None, rules: Sequence[Any] | None = None) -> PriceList:
        changes = {k: v for k, v in (("name", name), ("currency_code", currency_code),
                                     ("tax_inclusive_display", tax_inclusive_display)) if v is not None}
        if rules is not None:
            changes["rules"] = tuple(rules)
        self._record("update_price_list", slug, changes, ", ".join(sorted(changes)))
        try:
            current = self._client.get_price_list(slug)
        except SparkLayerNotFound:  # created earlier in this dry run
            current = PriceList(slug=slug, name=name or slug, currency_code=currency_code or "")
        return dataclasses.replace(current, **changes)

    def patch_pricing(self, slug: str, rows: Iterable[Any], *, batch_size: int | None = None) -> PushReport:
        return self._push("patch_pricing", f"pricing {slug}", rows,
                          lambda rs: [r.to_api(with_slug=False) for r in rs], slug,
                          batch_size or self._client.pricing_batch_size)

    def batch_update_pricing(self, entries: Iterable[Any], *, batch_size: int | None = None) -> PushReport:
        return self._push("batch_update_pricing", "pricing", entries, lambda rs: [r.to_api(with_slug=True) for r in rs],
                          "many price lists", batch_size or self._client.pricing_batch_size)

    # stock
    def create_stock_location(self, name: str, external_id: str) -> StockLocation:
        self._record("create_stock_location", external_id, {"name": name, "external_id": external_id},
                     f"new stock location {name}")
        return StockLocation(id=f"dry-run-{next(self._fake_ids)}", name=name, external_id=external_id)

    def batch_update_stock(self, rows: Iterable[Any], *, batch_size: int | None = None) -> PushReport:
        return self._push("batch_update_stock", "stock", rows, lambda rs: [r.to_api() for r in rs], "stock levels",
                          batch_size or self._client.stock_batch_size)

    def update_variant_settings(self, external_id: str, settings: Sequence[Any]) -> None:
        self._record("update_variant_settings", external_id, {"settings": [s.to_api() for s in settings]},
                     f"{len(settings)} group settings")

    # customers
    def upsert_customer(self, lookup_by: str, identifier: str, customer: Customer | Mapping[str, Any]) -> Any:
        body = customer.to_api() if isinstance(customer, Customer) else dict(customer)
        try:
            existing: Customer | None = self._client.get_customer(lookup_by, identifier)
        except SparkLayerNotFound:
            existing = None
        self._record("upsert_customer", f"{lookup_by}/{identifier}", body,
                     "replace" if existing is not None else "create")
        doc = {**body, "id": existing.id if existing is not None and existing.id else f"dry-run-{next(self._fake_ids)}"}
        return UpsertedCustomer(Customer.from_api(doc), created=existing is None)

    def create_customer_group(self, slug: str, name: str, parent_slug: str | None = None) -> list[CustomerGroup]:
        parent = parent_slug or contract.BASE_GROUP
        self._record("create_customer_group", slug, {"slug": slug, "name": name, "parent_slug": parent},
                     f"new customer group {name}")
        return [*self._client.list_customer_groups(), CustomerGroup(slug, name, parent)]

    # purchases and the sync log
    def put_purchase(self, lookup_by: str, identifier: str, body: Mapping[str, Any]) -> None:
        missing = [k for k in ("type", "purchase_identifiers", "customer_identifiers", "dates", "packages",
                               "accounting_files", "custom_fields") if k not in body]
        if missing:  # the real client refuses a partial full-replace body before sending; so does a dry run
            raise ValueError(f"purchase PUT is a full replace; body lacks {', '.join(missing)}")
        status = body.get("status") or ""
        self._record("put_purchase", f"{lookup_by}/{identifier}", strip_calculated(body),
                     f"status {status}" if status else "")
        return None  # as when SparkLayer answers without a body: the caller re-reads the purchase

    def add_purchase_history(self, lookup_by: str, identifier: str, body: str, *, event_type: str = "note",
                             author: str = "sparklayer-erp") -> None:
        self._record("add_purchase_history", f"{lookup_by}/{identifier}",
                     {"event_type": event_type, "body": body, "author": author}, f"{event_type}: {body[:60]}")

    def put_transaction(self, lookup_by: str, identifier: str, transaction: Any) -> None:
        self._record("put_transaction", f"{lookup_by}/{identifier}", transaction,
                     f"transaction {getattr(transaction, 'platform_id', '')}")

    def put_sync_log(self, data_type: str, entry: Any, *, integration: str | None = None) -> None:
        errors = getattr(entry, "errors", ()) or ()
        self._record("put_sync_log", f"{integration or contract.SYNC_LOG_INTEGRATION}/{data_type}", entry,
                     f"{len(errors)} errors")


def dry_run_client(client: Any, recorder: DryRunRecorder) -> DryRunSparkLayerClient:
    """``client`` (a ``SparkLayerClient``) with its writes recorded instead of sent."""
    return DryRunSparkLayerClient(client, recorder)


# --- ERP -------------------------------------------------------------------------------------------------------


class DryRunErp:
    """An ERP port that reads for real and records its writes; created orders get negative ids."""

    system = "ERP"

    def __init__(self, port: Any, recorder: DryRunRecorder) -> None:
        self._port = port
        self._recorder = recorder
        self._fake_ids = itertools.count(1)
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name in ERP_WRITES or name in ERP_CREDIT_NOTE_WRITES:
            raise AttributeError(f"{name} is a write and has no dry-run stand-in")
        return getattr(self._port, name)

    def __repr__(self) -> str:
        return f"DryRun({self._port!r})"

    def close(self) -> None:
        close = getattr(self._port, "close", None)
        if callable(close):
            close()

    def _record(self, call: str, key: object, body: Any, summary: str = "") -> None:
        self._recorder.record(self.system, call, call, key, body, summary)

    def create_orders(self, drafts: Sequence[ErpOrderDraft]) -> list[CreateResult]:
        existing = self._port.find_orders([d.purchase_id for d in drafts]) if drafts else {}
        results = []
        for draft in drafts:
            found = existing.get(draft.purchase_id)
            if found is not None:  # exactly as the adapter: an existing order is returned, not created again
                results.append(CreateResult(draft.purchase_id, found, already_existed=True))
                continue
            with self._lock:
                erp_id = -next(self._fake_ids)
            state = ErpOrderState.COMMITTED if draft.commit else ErpOrderState.PENDING_APPROVAL
            self._record("create_orders", draft.purchase_id, draft,
                         f"{len(draft.lines)} lines for {draft.account_code}, PO {draft.po_number or '-'}, "
                         f"{draft.payment_method}, {state.value.replace('_', ' ')}")
            results.append(CreateResult(draft.purchase_id, ErpOrderRef(erp_id, f"DRY-RUN{erp_id}", draft.purchase_id,
                                                                       state)))
        return results

    def order_status(self, erp_ids: Sequence[int]) -> list[ErpOrderStatus]:
        """Real orders from the ERP. A pretend order (negative id) has no status: the ERP never computed its
        totals, and a made-up total would raise a false amount difference."""
        real = [i for i in erp_ids if i > 0]
        return list(self._port.order_status(real)) if real else []

    def _action(self, call: str, erp_id: int, body: Any, summary: str) -> ActionResult:
        self._record(call, erp_id, body, summary)
        return ActionResult(ok=True, detail={"dry_run": True})

    def approve_order(self, erp_id: int) -> ActionResult:
        return self._action("approve_order", erp_id, {"erp_id": erp_id}, "approve")

    def cancel_order(self, erp_id: int) -> ActionResult:
        return self._action("cancel_order", erp_id, {"erp_id": erp_id}, "cancel")

    def amend_order(self, erp_id: int, lines: Sequence[ErpOrderLine]) -> ActionResult:
        return self._action("amend_order", erp_id, {"erp_id": erp_id, "lines": lines}, f"{len(lines)} lines")

    def record_payment(self, erp_id: int, amount: Decimal, paid_on: dt.date, reference: str) -> ActionResult:
        return self._action("record_payment", erp_id,
                            {"erp_id": erp_id, "amount": amount, "paid_on": paid_on, "reference": reference},
                            f"{amount} paid {paid_on.isoformat()} ({reference})")


class DryRunErpCreditNotes(DryRunErp):
    """The same for an adapter that also raises credit notes (``ErpCreditNotes``): the note is recorded, not
    raised; reading which orders have notes goes to the ERP."""

    def create_credit_note(self, erp_id: int, request: CreditNoteRequest) -> ActionResult:
        what = f"{request.amount}" if request.amount is not None else f"{len(request.lines)} lines"
        self._record("create_credit_note", erp_id, {"erp_id": erp_id, "request": request},
                     f"{request.reference}: {what}")
        return ActionResult(ok=True, detail={"dry_run": True, "number": f"DRY-RUN-{request.reference}"})


def dry_run_port(port: Any, recorder: DryRunRecorder) -> DryRunErp:
    """``port`` (an ``ErpPort``) with its writes recorded instead of sent; with credit notes when it has them
    (a dry run must never forward a credit note to the ERP, nor claim credit notes an adapter lacks)."""
    if isinstance(port, ErpCreditNotes):
        return DryRunErpCreditNotes(port, recorder)
    return DryRunErp(port, recorder)


# --- the scratch ledger ----------------------------------------------------------------------------------------

_ledgers: dict[Path, str] = {}
_ledgers_lock = threading.Lock()


def is_dry_run_url(url: str) -> bool:
    """A ledger URL someone set up for dry runs: its database (or file) name says dry-run."""
    name = (make_url(url).database or "").lower()
    return any(word in Path(name).name for word in _DRY_RUN_NAMES)


def dry_run_ledger_url(data_dir: Path | str, source_url: str | None = None) -> str:
    """The ledger URL for a dry run.

    ``source_url`` (the real ledger) when it is explicitly a dry-run database; otherwise
    ``<data dir>/ledger-dry-run.sqlite``, made afresh the first time this process asks: a copy of the real
    ledger's rows when ``source_url`` names one that exists (SQLite or PostgreSQL; the real one is only read),
    else empty. The real ledger is never written by a dry run."""
    if source_url and is_dry_run_url(source_url):
        return source_url
    path = Path(data_dir) / LEDGER_NAME
    with _ledgers_lock:
        if path not in _ledgers:
            _fresh_copy(path, source_url)
            _ledgers[path] = f"sqlite:///{path}"
        return _ledgers[path]


def _fresh_copy(path: Path, source_url: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.unlink(missing_ok=True)
    source = make_url(source_url) if source_url else None
    if source is not None and source.get_backend_name() == "sqlite":
        if source.database and source.database != ":memory:" and Path(source.database).exists():
            with closing(sqlite3.connect(f"file:{source.database}?mode=ro", uri=True)) as src, \
                    closing(sqlite3.connect(scratch)) as dst:
                src.backup(dst)
    elif source is not None:
        _copy_rows(str(source_url), f"sqlite:///{scratch}")
    for suffix in ("-wal", "-shm", "-journal"):  # an earlier scratch ledger's leftovers must not replay
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if scratch.exists():
        os.replace(scratch, path)
    else:
        path.unlink(missing_ok=True)  # empty: the ledger creates its schema on first use
    log.warning("DRY RUN: the ledger is a scratch copy at %s; the real ledger is not written", path)


def _copy_rows(source_url: str, target_url: str) -> None:
    from sparklayer_erp.ledger import Ledger
    from sparklayer_erp.ledger.engine import make_engine
    from sparklayer_erp.ledger.models import Base

    source = make_engine(source_url)
    try:
        with Ledger.from_url(target_url, migrate=True) as target, source.connect() as src, target.engine.begin() as dst:
            for table in Base.metadata.sorted_tables:
                rows = [dict(r) for r in src.execute(select(table)).mappings()]
                for start in range(0, len(rows), 500):
                    dst.execute(insert(table), rows[start:start + 500])
    finally:
        source.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sparklayer_erp.plumbing.dry_run [journal]``: the markdown report of the planned writes."""
    args = list(sys.argv[1:] if argv is None else argv)
    journal = Path(args[0]) if args else settings.data_dir() / JOURNAL_NAME
    sys.stdout.write(DryRunRecorder.load(journal).render_markdown(limit=10_000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
