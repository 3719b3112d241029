"""Master data, ERP → SparkLayer: push what changed, report. Plain Python, no Dagster.

The assets (``sparklayer_erp.masterdata.assets``) are thin wiring over ``extract.py`` (read the ERP, gate,
quarantine) and these services:

3. **push** (``push_*``): content hashes of what was last pushed live in the ledger; only new, changed and
   removed records are sent, so a run in which nothing changed sends nothing — not even a sync-log entry.
   A ``Resend`` (``masterdata.resend``) makes a push also send the chosen records whatever their hashes
   say, to undo hand edits made in SparkLayer; held records are never sent, and the hashes are stored as
   after any push.
4. **report** (``report_sync_log``): each push's outcome (success, per-record errors) goes to SparkLayer's
   sync log, but only when that outcome differs from the last one reported.

Every write to SparkLayer is audited in the ledger (a digest of the body, never the body).
Errors: a record SparkLayer refuses (4xx) becomes an exception and the others go on; a technical failure
(ERP or SparkLayer unreachable, 5xx after the client's retries) propagates, after saving the hashes of what
was already sent, so the retried run resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pandas as pd

from sparklayer_erp.domain import masterdata as md
from sparklayer_erp.domain.exception_kinds import Entity, problem
from sparklayer_erp.domain.hashing import content_hash, key_from_text, key_text, row_hashes
from sparklayer_erp.domain.models import ErpCustomer, ErpItem, ErpOrderState, ErpPriceList, PriceListKind
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.ledger import AuditOutcome, AuditSystem, CustomerLink, Ledger, LedgerConflict, SyncState
from sparklayer_erp.masterdata import mapper
from sparklayer_erp.masterdata.extract import (
    CUSTOMERS,
    ITEMS,
    PRICES,
    STOCK,
    Extract,
    GateDecision,
    raise_problem,
    resolve_gone,
)
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import (
    SparkLayerError,
    SparkLayerNotFound,
    is_refusal,
)
from sparklayer_erp.sparklayer.models import (
    SYNC_LOG_MAX_ERRORS,
    Customer,
    PriceList,
    StockLevelRow,
    SyncLogEntry,
    SyncLogError,
    VariantSetting,
)

log = logging.getLogger(__name__)

# Where an exception came from, kept in its detail: SparkLayer refusing a record (resolved by the next push
# that succeeds); the ERP gate's are ``extract.GATE_SOURCE``.
PUSH_SOURCE = "sparklayer_push"

# Ledger push-state kinds (entity_kind of the push hashes).
HASH_CUSTOMERS = "customers"
HASH_PRICE_LISTS = "price_lists"
HASH_PRICES = "prices"
HASH_PACK_SIZES = "pack_sizes"  # written to SparkLayer variants
HASH_PACK_SIZES_RECORDED = "pack_sizes_recorded"  # ledger mode: recorded only (switching mode re-sends all)
HASH_STOCK = "stock"
HASH_SYNC_LOG = "sync_log"

PRICE_VALUE_COLUMNS = ("min_quantity", "unit_price")


# --- outcome of a push ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resend:
    """Records a push sends again whatever their hashes say (a hand edit in SparkLayer does not change
    the ERP's hash, so a regular push never undoes it).

    ``only=None``: every valid record of the dataset; else only the records whose *scope* is in ``only``:
    the account code (customers), the price-list code (prices), the SKU (stock, pack sizes). Records the
    gates hold back are never sent.
    """

    only: frozenset[str] | None = None

    def picks(self, scope: object) -> bool:
        return self.only is None or scope in self.only

    def forced(self, keys: Iterable[str], held: Collection[str], scope: Callable[[Hashable], object]) -> set[str]:
        """The key texts among ``keys`` this resend covers, held ones excepted (``scope`` maps a decoded
        key to what ``only`` names)."""
        if self.only is None:
            return set(keys) - set(held)
        return {t for t in keys if t not in held and self.picks(scope(key_from_text(t)))}


def _first(key: Hashable) -> object:
    return key[0] if isinstance(key, tuple) else key


@dataclass
class PushOutcome:
    """What one push did, for Dagster metadata, the sync log and the ledger's sync status."""

    dataset: str
    sync_name: str
    considered: int = 0  # valid records looked at
    changed: int = 0  # new or changed since the last successful push
    pushed: int = 0  # records SparkLayer accepted this run
    removed: int = 0  # records gone from the ERP, cleared in SparkLayer
    unchanged: int = 0
    held: int = 0  # held back by a gate: SparkLayer keeps its last good copy
    refused: int = 0  # SparkLayer said no (an exception each)
    requests: int = 0  # write requests sent to SparkLayer (sync log excluded)
    created: list[str] = field(default_factory=list)  # price lists / stock locations created
    errors: list[SyncLogError] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    sync_log_written: bool = False
    notes: list[str] = field(default_factory=list)
    resent: int = 0  # records sent only because a resend asked for them (their hash had not changed)
    sent_keys: list[str] = field(default_factory=list)  # keys of the records SparkLayer accepted (resends only)

    def counts(self) -> dict[str, int]:
        return {"considered": self.considered, "changed": self.changed, "pushed": self.pushed,
                "removed": self.removed, "unchanged": self.unchanged, "held": self.held,
                "refused": self.refused, "write_requests": self.requests}


@dataclass
class PricesOutcome(PushOutcome):
    price_list_slugs: frozenset[str] = frozenset()  # every price list SparkLayer holds after the push


def _audit(ledger: Ledger, operation: str, key: str, body: Any, outcome: AuditOutcome,
           detail: Mapping[str, Any] | None = None) -> None:
    ledger.audit(AuditSystem.SPARKLAYER, operation, key, body, outcome, detail)


def _refusal_text(exc: SparkLayerError) -> str:
    return f"SparkLayer refused it ({exc.status}): {exc.detail or exc.title or exc.message}"


class _Hashes:
    """Push hashes of one kind, saved as records are accepted (a crash keeps what was already sent)."""

    def __init__(self, ledger: Ledger, kind: str) -> None:
        self.ledger, self.kind = ledger, kind
        self.previous = ledger.load_push_hashes(kind)
        self._save: dict[str, str] = {}
        self._drop: set[str] = set()

    def accept(self, key: str, digest: str) -> None:
        self._save[key] = digest

    def forget(self, key: str) -> None:
        self._drop.add(key)

    def flush(self) -> None:
        if self._save:
            self.ledger.save_push_hashes(self.kind, self._save)
        if self._drop:
            self.ledger.delete_push_hashes(self.kind, self._drop)
        self._save, self._drop = {}, set()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start:start + size]


# --- customers ---------------------------------------------------------------------------------------------------


def customer_hash(customer: ErpCustomer) -> str:
    """Hash of what the ERP owns in the SparkLayer record (the body without lookup ids or
    SparkLayer-owned fields), so reading SparkLayer never makes a customer look changed."""
    return content_hash(mapper.customer_payload(shop_ready(customer)).body)


def shop_ready(customer: ErpCustomer) -> ErpCustomer:
    """Only complete addresses (street, city, postcode, country) go to the shop: SparkLayer refuses an
    address without them. When the ERP has no complete address, the shop keeps the addresses it has
    (``_push_customer``) instead of being told to delete them."""
    usable = tuple(a for a in customer.addresses
                   if all((part or "").strip() for part in (a.street, a.city, a.postal_code, a.country_code)))
    return customer if usable == customer.addresses else replace(customer, addresses=usable)


def push_customers(client: SparkLayerClient, ledger: Ledger, customers: Extract, *,
                   resend: Resend | None = None) -> PushOutcome:
    """Full-replace upsert of every new or changed customer; records the customer links.

    Lookup: the ledger's link (platform id, else SparkLayer id), else the ERP e-mail. A customer the shop
    does not have yet is **created** by e-mail (the upsert creates), so a new ERP account can order at once.
    SparkLayer-owned fields (names, role, discount, tax exemption, ...) are read from the current record and
    sent back unchanged: the PUT replaces the whole record. A customer whose link is missing is pushed even
    when unchanged, so the order sync always finds its account code. ``resend``: the customers it picks
    (by account code) are sent whole even when unchanged.
    """
    out = PushOutcome(CUSTOMERS.name, CUSTOMERS.sync_name)
    hashes = _Hashes(ledger, HASH_CUSTOMERS)
    links = {link.account_code: link for link in ledger.customer_links()}
    records = [md.customer_from_row(r) for r in customers.valid.to_dict("records")]
    current = {key_text(c.account_code): customer_hash(c) for c in records}
    held = {key_text(k) for k in customers.held_keys()}
    changes = md.diff_hashes(hashes.previous, current, held)
    unlinked = {key_text(c.account_code) for c in records if c.account_code not in links}
    forced = resend.forced(current, held, _first) if resend is not None else set()
    todo = changes.upserts | (unlinked - held)
    out.resent = len(forced - todo)
    todo |= forced
    out.considered, out.changed, out.held = len(records), len(changes.upserts), len(held)
    out.unchanged = len(records) - len(todo)
    refused: set[tuple[str, str]] = set()
    try:
        for c in sorted((c for c in records if key_text(c.account_code) in todo), key=lambda c: c.account_code):
            reason = _push_customer(client, ledger, c, links.get(c.account_code), out)
            if reason is None:
                hashes.accept(key_text(c.account_code), current[key_text(c.account_code)])
                out.pushed += 1
                if resend is not None:
                    out.sent_keys.append(c.account_code)
                continue
            p = problem("customer_invalid", Entity.CUSTOMER, c.account_code, customer=c.account_code,
                        reason=reason)
            raise_problem(ledger, p, dataset=CUSTOMERS.name, source=PUSH_SOURCE)
            refused.add((p.entity_type, p.entity_id))
            out.refused += 1
            out.errors.append(SyncLogError(external_id=c.account_code, visible_id=c.name, message=p.message))
        for key in changes.deletes:  # gone from the ERP: SparkLayer keeps the customer, we stop tracking it
            hashes.forget(key)
            out.removed += 1
    finally:
        hashes.flush()
    # A refusal stays open while SparkLayer keeps refusing (it is retried every run, the hash is not saved).
    resolve_gone(ledger, "customer_invalid", CUSTOMERS.name, PUSH_SOURCE, refused)
    out.errors[:0] = gate_errors(customers)
    return out


def _push_customer(client: SparkLayerClient, ledger: Ledger, c: ErpCustomer, link: CustomerLink | None,
                   out: PushOutcome) -> str | None:
    """Push one customer; None when SparkLayer accepted it, else the plain reason it was refused."""
    current = _find_customer(client, c, link)
    if current is not None and current.id:
        owner = ledger.customer_link_by_sparklayer_id(current.id)
        if owner is not None and owner.account_code != c.account_code:
            return (f"its e-mail {c.email} belongs to the SparkLayer customer already linked to ERP account "
                    f"{owner.account_code}")
    target = mapper.CustomerLink(platform_id=current.external_id, sparklayer_id=current.id,
                             email=current.email) if current is not None else None
    upsert = mapper.customer_payload(shop_ready(c), target, current=current.raw if current is not None else None)
    if not upsert.body.get("addresses") and current is not None:
        upsert.body["addresses"] = list(current.raw.get("addresses") or [])
    try:
        out.requests += 1
        saved = client.upsert_customer(upsert.lookup_by, upsert.identifier, upsert.body)
    except SparkLayerError as exc:
        if not is_refusal(exc):
            _audit(ledger, "customer.upsert", c.account_code, upsert.body, AuditOutcome.ERROR)
            raise
        _audit(ledger, "customer.upsert", c.account_code, upsert.body, AuditOutcome.REFUSED,
               {"status": exc.status})
        return _refusal_text(exc)
    _audit(ledger, "customer.upsert", c.account_code, upsert.body, AuditOutcome.OK,
           {"created": saved.created, "lookup_by": upsert.lookup_by})
    try:
        ledger.upsert_customer_link(c.account_code, saved.customer.id, saved.customer.external_id,
                                    saved.customer.email)
    except LedgerConflict:
        return "the SparkLayer customer it matches is already linked to another ERP account"
    return None


def _find_customer(client: SparkLayerClient, c: ErpCustomer, link: CustomerLink | None) -> Customer | None:
    """The SparkLayer record for this ERP customer: by the link's ids first, then by e-mail."""
    attempts = []
    if link is not None and link.platform_customer_id:
        attempts.append(("platform", link.platform_customer_id))
    if link is not None and link.sparklayer_customer_id:
        attempts.append(("sparklayer", link.sparklayer_customer_id))
    if c.email:
        attempts.append(("email", c.email))
    for lookup_by, identifier in attempts:
        try:
            return client.get_customer(lookup_by, identifier)
        except SparkLayerNotFound:
            continue
    return None


def gate_errors(*extracts: Extract) -> list[SyncLogError]:
    """Held records as sync-log errors (the exception's message: what was held and why)."""
    return [SyncLogError(external_id=p.entity_id, message=p.message) for e in extracts for p in e.problems()]


def missing_price_lists(customers: pd.DataFrame, slugs: Iterable[str]) -> dict[str, list[str]]:
    """Account code → the SparkLayer price lists it references that do not exist (empty when all do)."""
    known = set(slugs)
    out: dict[str, list[str]] = {}
    for row in customers.to_dict("records"):
        missing = [s for s in md.customer_price_list_slugs(md.customer_from_row(row)) if s not in known]
        if missing:
            out[row["account_code"]] = missing
    return out


# --- price lists and prices ---------------------------------------------------------------------------------------


def collapse_breaks(prices: pd.DataFrame) -> pd.DataFrame:
    """Drop a quantity break whose price equals the break below it (the ERP answered every break asked
    for; a break that does not lower the price is not a break). Sorted by list, SKU and quantity."""
    if prices.empty:
        return prices
    ordered = prices.sort_values([*md.PRICE_KEY, "min_quantity"], kind="stable")
    previous = ordered.groupby(list(md.PRICE_KEY), sort=False)["unit_price"].shift(1)
    keep = previous.isna().to_numpy() | (ordered["unit_price"] != previous).to_numpy()
    return ordered[keep].reset_index(drop=True)


def _price_list_from_row(row: Mapping[str, Any]) -> ErpPriceList:
    return ErpPriceList(code=row["code"], name=row["name"], currency=row["currency"],
                        kind=PriceListKind(row["kind"]), customer_account_code=row.get("customer_account_code"))


def push_prices(client: SparkLayerClient, ledger: Ledger, price_lists: Extract, prices: Extract, *,
                resend: Resend | None = None) -> PricesOutcome:
    """Create missing price lists (source ``integration``), then send the prices of every changed
    (list, SKU), quantity breaks in base units; a (list, SKU) gone from the ERP is cleared with blank
    pricing. A list just created gets all its prices, whatever the hashes say. ``resend``: the lists it
    picks (by ERP code) get their name and currency and every price sent again."""
    out = PricesOutcome(PRICES.name, PRICES.sync_name)
    existing = {pl.slug for pl in client.iter_price_lists()}
    lists = [_price_list_from_row(r) for r in price_lists.valid.to_dict("records")]
    renew = {pl.code for pl in lists if resend.picks(pl.code)} if resend is not None else set()
    created = _push_price_lists(client, ledger, lists, existing, out, renew=renew)
    slugs = existing | {md.price_list_slug(pl.code) for pl in lists}
    out.price_list_slugs = frozenset(slugs)

    # Prices of a list that is held back (or unknown) are held too: there is no list to put them in.
    frame = collapse_breaks(prices.valid)
    in_valid_list = frame["price_list_code"].isin({pl.code for pl in lists})
    orphans = set(frame.loc[~in_valid_list, list(md.PRICE_KEY)].itertuples(index=False, name=None))
    frame = frame[in_valid_list]
    hashes = _Hashes(ledger, HASH_PRICES)
    current = {key_text(k): h for k, h in row_hashes(frame, md.PRICE_KEY, PRICE_VALUE_COLUMNS).items()}
    held_codes = price_lists.held_keys()
    held = {key_text(k) for k in prices.held_keys() | orphans}
    if held_codes:  # (guarded: decoding every key costs seconds at millions of prices)
        held |= {t for t in hashes.previous if key_from_text(t)[0] in held_codes}
    changes = md.diff_hashes(hashes.previous, current, held)
    forced = {t for t in current if key_from_text(t)[0] in created} if created else set()
    upserts = changes.upserts | forced
    if resend is not None:
        resent = resend.forced(current, held, _first)
        out.resent = len(resent - upserts)
        upserts |= resent
    out.considered, out.changed, out.held = len(current), len(changes.upserts), len(held)
    out.unchanged = len(current) - len(upserts)

    removals = [key_from_text(t) for t in sorted(changes.deletes)]
    for code, sku in removals:  # a list SparkLayer no longer has: nothing to clear there
        if md.price_list_slug(code) not in slugs:
            hashes.forget(key_text((code, sku)))
    cleared = [k for k in removals if md.price_list_slug(k[0]) in slugs]
    entries = md.pricing_rows(frame, [*(key_from_text(t) for t in sorted(upserts)), *cleared])
    try:
        for batch in _chunks(entries, client.pricing_batch_size):
            rows = [mapper.pricing_row(e) for e in batch]
            body = [r.to_api(with_slug=True) for r in rows]
            key = f"{len(rows)} SKU prices"
            out.requests += 1
            try:
                client.batch_update_pricing(rows)
            except SparkLayerError as exc:
                _audit(ledger, "pricing.batch_update", key, body,
                       AuditOutcome.REFUSED if is_refusal(exc) else AuditOutcome.ERROR, {"status": exc.status})
                raise
            _audit(ledger, "pricing.batch_update", key, body, AuditOutcome.OK)
            for e in batch:
                k = key_text((e.price_list_code, e.sku))
                if e.removes:
                    hashes.forget(k)
                    out.removed += 1
                else:
                    hashes.accept(k, current[k])
                    out.pushed += 1
                    if resend is not None:
                        out.sent_keys.append(f"{e.price_list_code} / {e.sku}")
            hashes.flush()
    finally:
        hashes.flush()
    out.errors = gate_errors(price_lists, prices)
    return out


def _push_price_lists(client: SparkLayerClient, ledger: Ledger, lists: Sequence[ErpPriceList],
                      existing: set[str], out: PushOutcome, *, renew: Collection[str] = ()) -> set[str]:
    """Create the missing lists and rename/re-currency changed ones (and the ones in ``renew``, a resend,
    whatever their hash); returns the codes created."""
    hashes = _Hashes(ledger, HASH_PRICE_LISTS)
    created: set[str] = set()
    try:
        for pl in sorted(lists, key=lambda p: p.code):
            payload = mapper.price_list_payload(pl)
            key, digest = key_text(pl.code), content_hash(payload)
            if payload["slug"] not in existing:
                out.requests += 1
                client.create_price_list(PriceList(**payload))
                _audit(ledger, "price_list.create", payload["slug"], payload, AuditOutcome.OK)
                created.add(pl.code)
                out.created.append(payload["slug"])
            elif pl.code in renew or hashes.previous.get(key) not in (None, digest):
                out.requests += 1
                client.update_price_list(payload["slug"], name=payload["name"],
                                         currency_code=payload["currency_code"])
                _audit(ledger, "price_list.update", payload["slug"], payload, AuditOutcome.OK)
            hashes.accept(key, digest)
        for key in set(hashes.previous) - {key_text(pl.code) for pl in lists}:
            hashes.forget(key)  # gone from the ERP (or held): SparkLayer keeps the list; its prices are cleared
    finally:
        hashes.flush()
    return created


# --- pack sizes -------------------------------------------------------------------------------------------------------


def push_pack_sizes(client: SparkLayerClient, ledger: Ledger, items: Extract, *, writable: bool,
                    resend: Resend | None = None) -> PushOutcome:
    """The ERP sale-unit factor becomes the variant's pack size for the ``base`` group (contract 12).

    ``writable=False`` (a Shopify/BigCommerce store keeps quantity rules in platform metafields): nothing is
    written; the mapping is recorded in the ledger and each SKU sold in packs gets a ``pack_size_gap``
    exception for ecommerce, reopened whenever the ERP pack size changes.

    A SKU the shop does not have (404) is reported in the sync log and not retried until its pack size
    changes: resending would fail the same way.

    ``resend``: the SKUs it picks are written again even when unchanged. In ledger mode nothing of the
    SparkLayer side is ours to resend (and re-raising the gaps would reopen accepted exceptions): a note.
    """
    out = PushOutcome(ITEMS.name, ITEMS.sync_name)
    frame = items.valid[["sku", "pack_size"]]
    hashes = _Hashes(ledger, HASH_PACK_SIZES if writable else HASH_PACK_SIZES_RECORDED)
    current_by_key = row_hashes(frame, ("sku",), ("pack_size",)) if not frame.empty else {}
    current = {key_text(k): h for k, h in current_by_key.items()}
    held = {key_text(k) for k in items.held_keys()}
    changes = md.diff_hashes(hashes.previous, current, held)
    pack = dict(zip(frame["sku"], frame["pack_size"], strict=True))
    out.considered, out.changed, out.unchanged = len(current), len(changes.upserts), changes.unchanged
    out.held = len(held)
    upserts: set[str] = set(changes.upserts)
    if resend is not None and writable:
        resent = resend.forced(current, held, _first)
        out.resent = len(resent - upserts)
        upserts |= resent
        out.unchanged = len(current) - len(upserts)
    elif resend is not None:
        out.notes.append("nothing resent: in ledger mode pack sizes are not written to SparkLayer")
    todo = sorted(str(key_from_text(k)) for k in upserts)
    try:
        if writable:
            for sku in todo:
                settings = [VariantSetting(**s) for s in mapper.pack_size_settings({"pack_size": pack[sku]})["settings"]]
                body = {"settings": [s.to_api() for s in settings]}
                out.requests += 1
                try:
                    client.update_variant_settings(sku, settings)
                except SparkLayerError as exc:
                    if not is_refusal(exc):
                        _audit(ledger, "variant.settings", sku, body, AuditOutcome.ERROR)
                        raise
                    _audit(ledger, "variant.settings", sku, body, AuditOutcome.REFUSED, {"status": exc.status})
                    out.refused += 1
                    out.errors.append(SyncLogError(external_id=sku, message=f"pack size {pack[sku]} not set: "
                                                                             + _refusal_text(exc)))
                else:
                    _audit(ledger, "variant.settings", sku, body, AuditOutcome.OK)
                    out.pushed += 1
                    if resend is not None:
                        out.sent_keys.append(sku)
                hashes.accept(key_text(sku), current[key_text(sku)])
            resolve_gone(ledger, "pack_size_gap", ITEMS.name, PUSH_SOURCE, set())
        else:
            for sku in todo:
                hashes.accept(key_text(sku), current[key_text(sku)])
                ledger.resolve("pack_size_gap", Entity.SKU, sku)  # a changed pack size reopens the gap
                if int(pack[sku]) > 1:
                    p = problem("pack_size_gap", Entity.SKU, sku, sku=sku, pack_size=int(pack[sku]))
                    raise_problem(ledger, p, dataset=ITEMS.name, source=PUSH_SOURCE)
            gaps = {(Entity.SKU.value, sku) for sku, n in pack.items() if int(n) > 1}
            gaps |= {(Entity.SKU.value, str(key_from_text(k))) for k in held}
            resolve_gone(ledger, "pack_size_gap", ITEMS.name, PUSH_SOURCE, gaps)
            out.notes.append("pack sizes recorded in the ledger only (SPARKLAYER_PACK_SIZE_MODE=ledger)")
        for key in changes.deletes:
            hashes.forget(key)
            out.removed += 1
    finally:
        hashes.flush()
    out.errors[:0] = gate_errors(items)
    return out


# --- stock ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingQuantities:
    """Base units held by pay-on-account orders waiting for approval, per (SKU, warehouse)."""

    quantities: dict[tuple[str, str], Decimal]
    orders: int
    unconvertible: tuple[str, ...] = ()  # "SKU in <unit>" lines whose unit is neither base nor sale unit


def pending_approval_quantities(ledger: Ledger, port: ErpPort, warehouse_code: str,
                                items: Callable[[], Iterable[ErpItem]] | None = None) -> PendingQuantities:
    """Quantities of orders the ledger knows as pending approval *and* the ERP still holds as such.

    The ERP lines are in its sale units (2 × "Case of 12"); they are converted to base units with the item's
    units. ``items`` is only called when there is something to convert (default: ``port.list_items``). Each
    order counts against the warehouse the ERP ships it from (someone may have moved a quotation to another
    warehouse); only an order whose warehouse the ERP does not report counts against ``warehouse_code``, the
    ERP's default warehouse, where the order sync's orders ship from. The order sync can reuse this.
    """
    links = ledger.order_links(states=[SyncState.PENDING_APPROVAL])
    ids = sorted({int(link.erp_order_id) for link in links if link.erp_order_id is not None})
    if not ids:
        return PendingQuantities({}, 0)
    statuses = [s for s in port.order_status(ids) if s.state == ErpOrderState.PENDING_APPROVAL]
    if not statuses:
        return PendingQuantities({}, 0)
    known = {item.sku: item for item in (items or port.list_items)()}
    quantities: dict[tuple[str, str], Decimal] = {}
    odd: list[str] = []
    for status in statuses:
        warehouse = status.warehouse_code or warehouse_code
        for line in status.lines:
            item = known.get(line.sku)
            if item is not None and line.unit == item.sale_unit.name:
                factor = item.sale_unit.factor
            elif item is not None and line.unit == item.base_unit:
                factor = 1
            else:
                odd.append(f"{line.sku} in {line.unit}")
                continue
            key = (line.sku, warehouse)
            quantities[key] = quantities.get(key, Decimal(0)) + Decimal(line.quantity) * factor
    return PendingQuantities(quantities, len(statuses), tuple(odd))


def push_stock(client: SparkLayerClient, ledger: Ledger, stock: Extract, pending: PendingQuantities,
               safety_buffer: int, *, resend: Resend | None = None) -> PushOutcome:
    """Available = on hand − reserved − pending approval − safety buffer (whole units, never below 0), to
    the stock location whose external id is the ERP warehouse code (created when missing). A (SKU,
    warehouse) gone from the ERP is set to 0: the shop must not sell what the ERP no longer lists.
    ``resend``: the SKUs it picks are sent again in every warehouse, even when unchanged."""
    out = PushOutcome(STOCK.name, STOCK.sync_name)
    available = md.available_stock(stock.valid, pending.quantities, safety_buffer)
    locations = {loc.external_id for loc in client.list_stock_locations()}
    hashes = _Hashes(ledger, HASH_STOCK)
    current = {key_text(k): content_hash({"stock_level": n}) for k, n in available.items()}
    held = {key_text(k) for k in stock.held_keys()}
    changes = md.diff_hashes(hashes.previous, current, held)
    new_locations = sorted({wh for _, wh in available} - locations)
    removals = [key_from_text(t) for t in sorted(changes.deletes)]
    forced = {key_text(k) for k in available if k[1] in new_locations}
    upserts = changes.upserts | forced
    if resend is not None:
        resent = resend.forced(current, held, _first)
        out.resent = len(resent - upserts)
        upserts |= resent
    out.considered, out.changed = len(current), len(changes.upserts)
    out.unchanged, out.held = len(current) - len(upserts), len(held)
    if pending.unconvertible:
        out.notes.append("pending order lines not counted (unknown unit): " + ", ".join(pending.unconvertible))
    try:
        for wh in new_locations:
            out.requests += 1
            client.create_stock_location(name=wh, external_id=wh)
            _audit(ledger, "stock_location.create", wh, {"name": wh, "external_id": wh}, AuditOutcome.OK)
            out.created.append(wh)
        locations |= set(new_locations)
        rows = [StockLevelRow(sku=k[0], stock_level=available[k], stock_location_external_id=k[1])
                for k in sorted(key_from_text(t) for t in upserts)]
        rows += [StockLevelRow(sku=sku, stock_level=0, stock_location_external_id=wh)
                 for sku, wh in removals if wh in locations]
        for batch in _chunks(rows, client.stock_batch_size):
            body = [r.to_api() for r in batch]
            out.requests += 1
            try:
                client.batch_update_stock(batch)
            except SparkLayerError as exc:
                _audit(ledger, "stock.batch_update", f"{len(batch)} stock levels", body,
                       AuditOutcome.REFUSED if is_refusal(exc) else AuditOutcome.ERROR, {"status": exc.status})
                raise
            _audit(ledger, "stock.batch_update", f"{len(batch)} stock levels", body, AuditOutcome.OK)
            for r in batch:
                k = key_text((r.sku, r.stock_location_external_id))
                if k in current:
                    hashes.accept(k, current[k])
                    out.pushed += 1
                    if resend is not None:
                        out.sent_keys.append(f"{r.sku} @ {r.stock_location_external_id}")
                else:
                    hashes.forget(k)
                    out.removed += 1
            hashes.flush()
        for sku, wh in removals:
            if wh not in locations:
                hashes.forget(key_text((sku, wh)))
    finally:
        hashes.flush()
    out.errors = gate_errors(stock)
    return out


# --- sync log ---------------------------------------------------------------------------------------------------------


def report_sync_log(client: SparkLayerClient, ledger: Ledger, sync_name: str, *, succeeded: bool,
                    errors: Sequence[SyncLogError], started_at: dt.datetime,
                    finished_at: dt.datetime | None = None) -> bool:
    """Tell SparkLayer's sync log how the sync of ``sync_name`` went; True if a report was sent.

    Sent only when the outcome (success flag and per-record errors) differs from the last report, so a run
    in which nothing changed writes nothing. SparkLayer's "last full sync" is therefore the last run that
    changed something or whose errors changed; the ledger's sync status records every run.
    """
    unique: dict[str, SyncLogError] = {}
    for e in sorted(errors, key=lambda e: e.external_id):
        unique.setdefault(e.external_id, e)
    kept = tuple(unique.values())[:SYNC_LOG_MAX_ERRORS]
    digest = content_hash({"succeeded": succeeded, "errors": [e.to_api() for e in kept]})
    key = key_text(sync_name)
    if ledger.load_push_hashes(HASH_SYNC_LOG).get(key) == digest:
        return False
    entry = SyncLogEntry(started_full_sync=started_at, last_full_sync=finished_at or dt.datetime.now(dt.UTC),
                         last_full_sync_succeeded=succeeded, errors=kept)
    client.put_sync_log(sync_name, entry)
    _audit(ledger, "sync_log.put", sync_name, entry.to_api(), AuditOutcome.OK,
           {"succeeded": succeeded, "errors": len(kept)})
    ledger.save_push_hashes(HASH_SYNC_LOG, {key: digest})
    return True


def report_blocked(client: SparkLayerClient, ledger: Ledger, extract: Extract, decision: GateDecision,
                   started_at: dt.datetime) -> bool:
    """A dataset stopped by the mass-quarantine gate: the sync log says it failed, and lists why."""
    message = md.mass_quarantine_problem(extract.dataset, extract.valid_count, extract.quarantined_count).message
    errors = [SyncLogError(external_id=f"dataset:{extract.dataset}", message=message), *gate_errors(extract)]
    ledger.record_sync_failure(extract.spec.sync_name, decision.description)
    return report_sync_log(client, ledger, extract.spec.sync_name, succeeded=False, errors=errors,
                           started_at=started_at)


def finish(client: SparkLayerClient, ledger: Ledger, outcome: PushOutcome) -> PushOutcome:
    """Report a completed push to the sync log and the ledger's sync status."""
    outcome.sync_log_written = report_sync_log(client, ledger, outcome.sync_name, succeeded=True,
                                               errors=outcome.errors, started_at=outcome.started_at)
    ledger.record_sync_success(outcome.sync_name, outcome.counts())
    return outcome
