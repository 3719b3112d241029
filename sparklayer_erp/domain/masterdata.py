"""Master data, ERP → SparkLayer: what to send, decided from plain data (no I/O, no Dagster).

The ERP is the system of record for customers, prices, items and stock. Each run: the frames are checked
(``sparklayer_erp.masterdata.gates``), content hashes of the rows that passed are compared with the hashes of the last
successful push (``diff_hashes``), and only what changed is sent (``masterdata.mapper`` writes the SparkLayer
bodies). A run in which nothing changed sends nothing.

Rows held back by a gate are *held*, not deleted: SparkLayer keeps its last good copy (a price, a stock
figure) until the ERP is corrected, so ``diff_hashes`` takes the held keys and leaves them alone.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import pandas as pd

from sparklayer_erp.domain.exception_kinds import Entity, Problem, problem
from sparklayer_erp.domain.models import Address, ErpCustomer, StockLevel
from sparklayer_erp.domain.money import to_money

# --- what changed ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """Keys to send (new or changed), keys to remove, and how many stayed the same.

    ``held`` keys were quarantined this run: they are neither sent nor removed.
    """

    upserts: frozenset[Hashable]
    deletes: frozenset[Hashable]
    unchanged: int
    held: frozenset[Hashable] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.upserts and not self.deletes

    def hashes_after_push(self, previous: Hashes, current: Hashes) -> Hashes:
        """The hashes to record once the push succeeded: held keys keep their last pushed hash."""
        if isinstance(current, pd.Series):
            before = _as_series(previous, current)
            kept = before[~before.index.isin(list(self.deletes | self.upserts))]
            return pd.concat([kept, current[current.index.isin(list(self.upserts))]])
        result = {k: h for k, h in previous.items() if k not in self.deletes}  # type: ignore[union-attr]
        result.update((k, current[k]) for k in self.upserts)
        return result


Hashes = Mapping[Hashable, str] | pd.Series  # a dict from ``row_hashes`` or a Series from ``row_hash_series``


def diff_hashes(previous: Hashes, current: Hashes, held: Collection[Hashable] = ()) -> Changes:
    """Compare this run's hashes with the last pushed ones. First run (``previous`` empty): all upserts.

    Works on dicts (``row_hashes``) or, for millions of keys, on Series (``row_hash_series``), where the
    comparison is vectorised and the result holds only the changed keys.
    """
    held_set = frozenset(held)
    if isinstance(current, pd.Series):
        return _diff_series(_as_series(previous, current), current, held_set)
    get = previous.get
    changed = [k for k, h in current.items() if get(k) != h]
    unchanged = len(current) - len(changed)
    deletes = previous.keys() - current.keys()
    if held_set:
        changed = [k for k in changed if k not in held_set]
        deletes = deletes - held_set
    return Changes(upserts=frozenset(changed), deletes=frozenset(deletes), unchanged=unchanged, held=held_set)


def _as_series(hashes: Hashes, like: pd.Series) -> pd.Series:
    if isinstance(hashes, pd.Series):
        return hashes
    if hashes:
        raise TypeError("compare hashes of the same form: both dicts (row_hashes) or both Series")
    return like.iloc[:0]  # no previous push


def _diff_series(previous: pd.Series, current: pd.Series, held: frozenset[Hashable]) -> Changes:
    now = current.to_numpy()
    if previous.empty:
        changed = np.ones(len(current), dtype=bool)
        gone = previous.index
    else:
        position = previous.index.get_indexer(current.index)
        changed = (position < 0) | (previous.to_numpy()[position] != now)
        gone = previous.index[current.index.get_indexer(previous.index) < 0]
    upserts = current.index[changed]
    if held:
        upserts = upserts[~upserts.isin(list(held))]
        gone = gone[~gone.isin(list(held))]
    return Changes(upserts=frozenset(upserts), deletes=frozenset(gone),
                   unchanged=int(len(current) - changed.sum()), held=held)


def mass_deletion_blocks(changes: Changes, previous_count: int, threshold: Decimal | float | str) -> bool:
    """True if this run would remove more than ``threshold`` of what was pushed before.

    An ERP extract that comes back empty or half-empty (a broken connection, a filter gone wrong) must not
    wipe SparkLayer's prices; a person confirms such a run first.
    """
    if previous_count <= 0:
        return False
    return Decimal(len(changes.deletes)) / Decimal(previous_count) > Decimal(str(threshold))


# --- customers -------------------------------------------------------------------------------------------

def card_only(customer: ErpCustomer) -> bool:
    """True when SparkLayer must not let the customer buy on credit: on credit hold, or closed (inactive)
    in the ERP. Such customers go to SparkLayer's credit-hold group (``masterdata.mapper.customer_payload``)."""
    return customer.on_credit_hold or not customer.active


def customer_price_list_slugs(customer: ErpCustomer) -> list[str]:
    """The contract list first (it wins over the level in SparkLayer), then the price level."""
    codes = [customer.contract_price_list, customer.price_level]
    return list(dict.fromkeys(price_list_slug(code) for code in codes if code))


def customer_from_row(row: Mapping[str, Any]) -> ErpCustomer:
    """A row of a checked ``CustomersFrame`` back as the port's dataclass."""
    return ErpCustomer(
        account_code=row["account_code"], name=row["name"], email=row["email"],
        payment_terms=_none_if_na(row.get("payment_terms")),
        payment_terms_days=_none_if_na(row.get("payment_terms_days")),
        credit_limit=_none_if_na(row.get("credit_limit")), open_balance=row["open_balance"],
        on_credit_hold=bool(row["on_credit_hold"]), price_level=_none_if_na(row.get("price_level")),
        contract_price_list=_none_if_na(row.get("contract_price_list")), currency=row["currency"],
        addresses=tuple(row.get("addresses") or ()), active=bool(row.get("active", True)),
    )


def _none_if_na(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


# --- price lists and prices ---------------------------------------------------------------------------------

SLUG_MAX = 30  # the longest slug known to be accepted (Zynk caps at 30)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def price_list_slug(code: str) -> str:
    """SparkLayer's id for an ERP price list: lowercase, ``a-z0-9-``, at most 30 characters, never changes.

    ``TRADE`` → ``trade``, ``CONTRACT-C1001`` → ``contract-c1001``. A code too long is cut and given 8 hex
    digits of its SHA-256, so two long codes with the same start still differ. Codes that differ only in
    case or punctuation would share a slug; the price-list gate refuses such pairs.
    """
    cleaned = _NOT_SLUG.sub("-", code.strip().lower()).strip("-")
    if cleaned and len(cleaned) <= SLUG_MAX:
        return cleaned
    digest = hashlib.sha256(code.strip().encode("utf-8")).hexdigest()[:8]
    stem = cleaned[: SLUG_MAX - 9].rstrip("-") or "list"
    return f"{stem}-{digest}"


@dataclass(frozen=True)
class PriceBreak:
    quantity: int  # from this many base units
    price: Decimal  # per base unit


@dataclass(frozen=True)
class PricingEntry:
    """All prices of one SKU on one list: SparkLayer replaces a SKU's prices with exactly these.

    No breaks means "remove this SKU's prices from the list" (the documented blank pricing).
    """

    price_list_code: str
    sku: str
    breaks: tuple[PriceBreak, ...]

    @property
    def price_list_slug(self) -> str:
        return price_list_slug(self.price_list_code)

    @property
    def removes(self) -> bool:
        return not self.breaks


PRICE_KEY = ("price_list_code", "sku")


def pricing_rows(prices: pd.DataFrame, changed: Iterable[tuple[str, str]]) -> list[PricingEntry]:
    """Entries for the changed ``(price_list_code, sku)`` keys, breaks sorted by quantity.

    A key no longer in ``prices`` (the ERP removed the SKU from the list) gets an entry with no breaks,
    which removes its prices in SparkLayer. Entries come sorted by list and SKU.
    """
    wanted = pd.DataFrame(list(dict.fromkeys(changed)), columns=list(PRICE_KEY), dtype="str")
    if wanted.empty:
        return []
    rows = prices[[*PRICE_KEY, "min_quantity", "unit_price"]].merge(wanted, on=list(PRICE_KEY), how="inner")
    breaks: dict[tuple[str, str], list[PriceBreak]] = {}
    for code, sku, quantity, price in rows.itertuples(index=False, name=None):
        breaks.setdefault((code, sku), []).append(PriceBreak(int(quantity), to_money(price)))
    entries = []
    for code, sku in wanted.itertuples(index=False, name=None):
        found = sorted(breaks.get((code, sku), ()), key=lambda b: b.quantity)
        entries.append(PricingEntry(code, sku, tuple(found)))
    entries.sort(key=lambda e: (e.price_list_code, e.sku))
    return entries


# --- items and stock -------------------------------------------------------------------------------------


StockKey = tuple[str, str]  # (sku, warehouse_code)


def available_stock(stock: pd.DataFrame | Iterable[StockLevel],
                    pending_approval_quantities: Mapping[StockKey, Decimal | int],
                    safety_buffer: int | Decimal = 0) -> dict[StockKey, int]:
    """Base units buyers may still order, per (SKU, warehouse): on hand − reserved − pending − buffer.

    - *pending* are pay-on-account orders waiting for approval: they are ERP quotations, which reserve
      nothing, so without subtracting them two buyers could be promised the same units;
    - the *safety buffer* keeps a few units back per warehouse for miscounts and breakage;
    - the result is rounded **down** to a whole unit (never promise part of a unit) and **floored at 0**:
      SparkLayer's figure is what can still be sold, and "minus three" would read as an error or, worse,
      allow backorders the ERP did not agree to.
    """
    buffer = to_money(safety_buffer)
    if buffer < 0:
        raise ValueError("the safety buffer cannot be negative")
    rows: Iterable[tuple[str, str, Any, Any]]
    if isinstance(stock, pd.DataFrame):
        rows = stock[["sku", "warehouse_code", "on_hand", "reserved"]].itertuples(index=False, name=None)
    else:
        rows = ((s.sku, s.warehouse_code, s.on_hand, s.reserved) for s in stock)
    result: dict[StockKey, int] = {}
    for sku, warehouse, on_hand, reserved in rows:
        pending = to_money(pending_approval_quantities.get((sku, warehouse), 0))
        free = to_money(on_hand) - to_money(reserved) - pending - buffer
        result[(sku, warehouse)] = max(0, int(free.to_integral_value(rounding=ROUND_FLOOR)))
    return result


# --- quarantine → exceptions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dataset:
    kind: str
    entity_type: Entity
    key_cols: tuple[str, ...]
    missing_key: str
    record: str  # what one row is called in messages


QUARANTINE_DATASETS: Mapping[str, _Dataset] = {
    "customers": _Dataset("customer_invalid", Entity.CUSTOMER, ("account_code",), "(no account code)",
                          "customer"),
    "price_lists": _Dataset("price_invalid", Entity.PRICE_LIST, ("code",), "(no price list code)",
                            "price list"),
    "prices": _Dataset("price_invalid", Entity.PRICE_LIST, PRICE_KEY, "(no code)", "price"),
    "items": _Dataset("item_invalid", Entity.SKU, ("sku",), "(no SKU)", "item"),
    "stock": _Dataset("stock_invalid", Entity.SKU, ("sku", "warehouse_code"), "(no code)", "stock"),
}


def quarantine_problems(dataset: str, quarantined: pd.DataFrame) -> list[Problem]:
    """One exception per held-back record (rows of the same record merged), owned by the dataset's team.

    Owners (from the exception catalogue): customers → sales operations; price lists and prices → finance;
    items and stock → operations. ``quarantined`` is the second frame ``split_valid`` returns.
    """
    spec = QUARANTINE_DATASETS[dataset]
    merged: dict[str, tuple[dict[str, Any], list[str], list[dict[str, Any]]]] = {}
    for record in quarantined.to_dict("records"):
        row = {k: _plain_cell(v) for k, v in record.items() if k not in ("reasons", "failed_checks")}
        parts = [_key_part(row.get(c), spec.missing_key) for c in spec.key_cols]
        if dataset == "customers" and row.get("account_code") is None and row.get("name"):
            parts = [f"{spec.missing_key} {row['name']}"]
        entity_id = " / ".join(parts)
        facts, reasons, rows = merged.setdefault(entity_id, (_facts(dataset, row, parts), [], []))
        reasons.extend(r for r in record.get("reasons", ()) if r not in reasons)
        rows.append(row)
    return [problem(spec.kind, spec.entity_type, entity_id, reason="; ".join(reasons), reasons=reasons,
                    rows=rows, **facts)
            for entity_id, (facts, reasons, rows) in merged.items()]


def _facts(dataset: str, row: Mapping[str, Any], parts: list[str]) -> dict[str, Any]:
    if dataset == "customers":
        return {"customer": parts[0]}
    if dataset == "price_lists":
        return {"price_list": parts[0], "sku": "all items"}
    if dataset == "prices":
        return {"price_list": parts[0], "sku": parts[1]}
    if dataset == "stock":
        return {"sku": parts[0], "warehouse": parts[1]}
    return {"sku": parts[0]}


def _key_part(value: Any, missing: str) -> str:
    return missing if value is None or (isinstance(value, str) and not value.strip()) else str(value)


def _plain_cell(value: Any) -> Any:
    """A cell as plain data for the exception's detail: missing → None, junk → its text."""
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else repr(value)
    if isinstance(value, tuple | list):
        return [_plain_cell(v) for v in value]
    if isinstance(value, Address):
        return {k: getattr(value, k) for k in Address.__dataclass_fields__}
    return str(value)


def quarantine_share(valid_count: int, quarantined_count: int) -> Decimal:
    """Held-back rows as a share of all rows (0 for an empty extract)."""
    total = valid_count + quarantined_count
    return Decimal(quarantined_count) / Decimal(total) if total else Decimal(0)


def mass_quarantine_blocks(share: Decimal, threshold: Decimal | float | str) -> bool:
    """True when more than ``threshold`` of the rows failed: then nothing of this dataset is pushed.

    So many failures at once point to an import or a bulk change gone wrong in the ERP, not to a few bad
    records; sending the rest would publish a half-broken catalogue.
    """
    return share > Decimal(str(threshold))


def mass_quarantine_problem(dataset: str, valid_count: int, quarantined_count: int) -> Problem:
    """The one exception for a dataset whose push was stopped by ``mass_quarantine_blocks``."""
    total = valid_count + quarantined_count
    return problem("mass_quarantine", Entity.DATASET, dataset, failed=quarantined_count, total=total,
                   dataset=QUARANTINE_DATASETS[dataset].record)
