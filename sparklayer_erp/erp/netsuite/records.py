"""What every part of the NetSuite adapter reads: the client, customers and items by code, units types,
locations, and a small worker pool for per-record reads.

Reference data (units types, locations, item unit set-up) is cached for the adapter's lifetime (one run):
it changes with set-up, not with orders. Customer details read through REST are cached briefly
(``conventions.CUSTOMER_CACHE_S``) because the master-data sync reads customers, price lists and prices in
turn. Order reads are always fresh.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.netsuite import queries as q
from sparklayer_erp.erp.netsuite.client import NetSuiteHttp
from sparklayer_erp.erp.netsuite.config import NetSuiteConfig
from sparklayer_erp.erp.netsuite.mapping import dec, ref_id, ref_name, sublist, truthy
from sparklayer_erp.erp.port import ErpTechnicalError

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

DEFAULT_UNIT_NAME = "Each"  # an item without a units type is sold by the piece


@dataclass(frozen=True)
class Unit:
    """One ``uom`` row of a units type."""

    id: str
    name: str
    rate: Decimal  # base units per this unit
    is_base: bool


@dataclass(frozen=True)
class ItemInfo:
    """An inventory item with its unit set-up (SuiteQL row + REST ``unitsType``/``saleUnit``/``baseUnit``)."""

    id: str
    sku: str
    name: str
    active: bool
    units: tuple[Unit, ...]  # empty: no units type
    base_unit: Unit | None
    sale_unit: Unit | None

    def unit_named(self, name: str) -> Unit | None:
        if not self.units:
            return Unit("", DEFAULT_UNIT_NAME, Decimal(1), True) if name == DEFAULT_UNIT_NAME else None
        return next((u for u in self.units if u.name == name), None)

    def unit_by_id(self, unit_id: str | None) -> Unit | None:
        if not self.units or not unit_id:
            return self.sale_unit or self.base_unit
        return next((u for u in self.units if u.id == str(unit_id)), None)

    @property
    def base_name(self) -> str:
        return self.base_unit.name if self.base_unit else DEFAULT_UNIT_NAME

    @property
    def sale(self) -> Unit:
        return self.sale_unit or self.base_unit or Unit("", DEFAULT_UNIT_NAME, Decimal(1), True)


class NetSuiteRecords:
    """The base of ``NetSuiteErp``'s parts."""

    def __init__(self, config: NetSuiteConfig, *, http: NetSuiteHttp | None = None) -> None:
        self.config = config
        self.http = http or NetSuiteHttp(config)
        self._lock = threading.Lock()
        self._units_types: dict[str, tuple[Unit, ...]] = {}
        self._item_units: dict[str, dict[str, Any]] = {}
        self._customer_details: dict[str, tuple[float, dict[str, Any]]] = {}
        self._location_names: dict[str, str] | None = None
        self._level_cache: dict[str, Any] | None = None
        self._currency_codes: dict[str, str] = {}
        self._pool = ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="netsuite")

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.http.close()

    @property
    def currency(self) -> str:
        return self.config.currency

    # ------------------------------------------------------------------ helpers

    def _parallel(self, func: Callable[[_K], _V], keys: Iterable[_K]) -> dict[_K, _V]:
        """``func`` over distinct keys on the worker pool (the client's semaphore caps what is in flight)."""
        distinct = list(dict.fromkeys(keys))
        if len(distinct) <= 1:
            return {k: func(k) for k in distinct}
        futures = {k: self._pool.submit(func, k) for k in distinct}
        return {k: f.result() for k, f in futures.items()}

    def _chunked(self, build: Callable[[Sequence[Any]], q.Query], values: Iterable[Any]) -> list[dict[str, Any]]:
        return self.http.suiteql_chunked(build, list(values), q.IN_CHUNK)

    def _currency_code(self, ref: Any) -> str | None:
        """ISO code of a currency reference: its refName when that is one, else the record's symbol."""
        name, cid = ref_name(ref), ref_id(ref)
        if name and re.match(conv.ISO_CURRENCY_PATTERN, name):
            return name
        if cid is None:
            return name
        with self._lock:
            cached = self._currency_codes.get(cid)
        if cached is None:
            record = self.http.get("currency", cid, fields="symbol,name") or {}
            cached = str(record.get("symbol") or record.get("name") or name or "")
            with self._lock:
                self._currency_codes[cid] = cached
        return cached or None

    # ------------------------------------------------------------------ customers

    def _customer_rows(self, codes: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Customer rows by account code (``entityid``); all customers when ``codes`` is None."""
        rows = self.http.suiteql(q.CUSTOMERS) if codes is None else self._chunked(
            q.customers_by_code, sorted({c for c in codes if c}))
        return {str(row["entityid"]): row for row in rows if row.get("entityid")}

    def _customer_detail(self, customer_id: str, fresh: bool = False) -> dict[str, Any]:
        """The customer record with sublists (``creditHoldOverride``, ``priceLevel``, ``currency``,
        ``currencyList``, ``itemPricing``, ``addressBook``): what SuiteQL does not expose. ``fresh`` skips
        the short cache (credit status must never be stale)."""
        now = time.monotonic()
        with self._lock:
            cached = self._customer_details.get(customer_id)
        if cached and not fresh and now - cached[0] < conv.CUSTOMER_CACHE_S:
            return cached[1]
        record = self.http.get("customer", customer_id, expandSubResources="true") or {}
        with self._lock:
            self._customer_details[customer_id] = (now, record)
        return record

    def _customer_details_for(self, ids: Iterable[str], fresh: bool = False) -> dict[str, dict[str, Any]]:
        return self._parallel(lambda cid: self._customer_detail(cid, fresh), [str(i) for i in ids])

    # ------------------------------------------------------------------ items and units

    def _units_type(self, units_type_id: str) -> tuple[Unit, ...]:
        with self._lock:
            cached = self._units_types.get(units_type_id)
        if cached is not None:
            return cached
        record = self.http.get("unitsType", units_type_id, expandSubResources="true")
        if record is None:
            raise ErpTechnicalError(f"NetSuite units type {units_type_id} is not readable")
        units = tuple(
            Unit(id=str(u.get("internalId") if u.get("internalId") is not None else u.get("id")),
                 name=str(u.get("unitName") or ""), rate=dec(u.get("conversionRate") or 1),
                 is_base=truthy(u.get("baseUnit")))
            for u in sublist(record, "uom")
        )
        with self._lock:
            self._units_types[units_type_id] = units
        return units

    def _item_unit_fields(self, item_id: str) -> dict[str, Any]:
        with self._lock:
            cached = self._item_units.get(item_id)
        if cached is not None:
            return cached
        record = self.http.get("inventoryItem", item_id, fields="unitsType,saleUnit,baseUnit") or {}
        with self._lock:
            self._item_units[item_id] = record
        return record

    def _item_info(self, row: Mapping[str, Any]) -> ItemInfo:
        item_id = str(row["id"])
        fields = self._item_unit_fields(item_id)
        type_id = ref_id(fields.get("unitsType"))
        units = self._units_type(type_id) if type_id else ()
        by_id = {u.id: u for u in units}
        base = by_id.get(ref_id(fields.get("baseUnit")) or "") or next((u for u in units if u.is_base), None)
        sale = by_id.get(ref_id(fields.get("saleUnit")) or "") or base
        return ItemInfo(
            id=item_id, sku=str(row.get("itemid") or ""), name=str(row.get("displayname") or row.get("itemid") or ""),
            active=not truthy(row.get("isinactive")), units=units, base_unit=base, sale_unit=sale,
        )

    def _items(self, skus: Iterable[str] | None = None) -> dict[str, ItemInfo]:
        """Inventory items by SKU with their units (all items when ``skus`` is None)."""
        rows = self.http.suiteql(q.ITEMS) if skus is None else self._chunked(
            q.items_by_sku, sorted({s for s in skus if s}))
        rows = [r for r in rows if r.get("itemid")]
        infos = self._parallel(lambda i: self._item_info(rows[i]), range(len(rows)))
        return {info.sku: info for info in infos.values()}

    # ------------------------------------------------------------------ locations

    def _locations(self) -> dict[str, str]:
        """Location internal id -> warehouse code: its externalId, else its name (locations holding items)."""
        if self._location_names is None:
            rows = self.http.suiteql(q.LOCATIONS)
            names = {str(r["location"]): str(r.get("locationname") or r["location"]) for r in rows
                     if r.get("location") is not None}
            records = self._parallel(lambda lid: self.http.get("location", lid, fields="name,externalId") or {},
                                     sorted(names))
            self._location_names = {
                lid: str(records[lid].get("externalId") or records[lid].get("name") or name)
                for lid, name in names.items()
            }
        return self._location_names

    def _warehouse_of(self, location_id: str | None) -> str | None:
        """Our warehouse code for a location: the configured mapping, else the location's name."""
        if not location_id:
            return None
        if self.config.locations:
            return self.config.locations.get(str(location_id))
        return self._locations().get(str(location_id))

    def _location_of(self, warehouse_code: str) -> str | None:
        if self.config.locations:
            return next((lid for lid, code in self.config.locations.items() if code == warehouse_code), None)
        return next((lid for lid, name in self._locations().items() if name == warehouse_code), None)

    def _default_location(self) -> str:
        """The location new orders ship from: configured, else the first mapped, else the lowest id."""
        if self.config.default_location:
            return str(self.config.default_location)
        if self.config.locations:
            return min(self.config.locations, key=_id_key)
        names = self._locations()
        if not names:
            raise ErpTechnicalError("NetSuite has no location with items; set NETSUITE_LOCATIONS")
        return min(names, key=_id_key)


def _id_key(value: str) -> tuple[int, str]:
    """Internal ids sort numerically when they are numbers."""
    return (int(value), "") if value.isdigit() else (1 << 62, value)
