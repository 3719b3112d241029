"""Master data as NetSuite holds it: customers (credit limit, balance, hold), price levels and contract
prices, items with their units, stock per location.

Where the choices come from (account code = ``entityId``, open balance = balance + unbilled orders, price
levels by externalId or name, contract prices from the customer's ``itemPricing``, prices per base unit,
locations by the configured mapping, externalId or name) is written in ``conventions``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import (
    Address,
    ErpCustomer,
    ErpItem,
    ErpPriceList,
    PriceEntry,
    PriceListKind,
    SaleUnit,
    StockLevel,
)
from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.netsuite import queries as q
from sparklayer_erp.erp.netsuite.mapping import (
    dec,
    opt_dec,
    payment_terms_days,
    ref_id,
    ref_name,
    sublist,
    truthy,
)
from sparklayer_erp.erp.netsuite.records import ItemInfo, NetSuiteRecords
from sparklayer_erp.erp.port import ErpTechnicalError


@dataclass(frozen=True)
class Level:
    id: str
    code: str
    name: str
    currency: str  # ISO code
    currency_id: str | None  # NetSuite currency id of the rows used (None: no currency column)


# (level id, item id) -> [(min quantity in base units, price per base unit)], ascending
PriceTable = dict[tuple[str, str], list[tuple[Decimal, Decimal]]]


def contract_list_code(account_code: str) -> str:
    return f"{conv.CONTRACT_PRICE_LIST_PREFIX}{account_code}"


def price_at(points: Sequence[tuple[Decimal, Decimal]], base_quantity: Decimal) -> Decimal | None:
    """The price of the highest break at or below ``base_quantity`` (the lowest break if below all)."""
    if not points:
        return None
    chosen = points[0][1]
    for threshold, price in points:
        if threshold <= base_quantity:
            chosen = price
    return chosen


class MasterDataReads(NetSuiteRecords):
    """The port's master-data reads and the customer prices the order sync checks against."""

    # ------------------------------------------------------------------ customers

    def _open_balance(self, row: Mapping[str, Any]) -> Decimal:
        """Balance + unbilled orders: the figure NetSuite compares with the limit when the credit limit
        includes orders (conventions)."""
        return dec(row.get("balancesearch")) + dec(row.get("unbilledorderssearch"))

    def _on_hold(self, row: Mapping[str, Any], detail: Mapping[str, Any]) -> bool:
        return truthy(row.get("oncredithold")) or (
            ref_id(detail.get("creditHoldOverride")) or "").upper() == conv.CREDIT_HOLD_OVERRIDE_ON

    def _level_code(self, detail: Mapping[str, Any]) -> str | None:
        """The customer's price level code (None for Base Price or none)."""
        level = ref_id(detail.get("priceLevel"))
        if level in (None, conv.BASE_PRICE_LEVEL_ID):
            return None
        info = self._levels().get(level)
        return info.code if info else ref_name(detail.get("priceLevel"))

    def _levels(self) -> dict[str, Level]:
        """Price levels that have prices: code (externalId, else name), name and currency."""
        if self._level_cache is None:
            rows = self.http.suiteql(q.PRICE_LEVELS)
            currencies: dict[str, list[str]] = defaultdict(list)
            names: dict[str, str] = {}
            for r in rows:
                if r.get("pricelevel") is None:
                    continue
                lid = str(r["pricelevel"])
                names[lid] = str(r.get("levelname") or lid)
                if r.get("currency") is not None:
                    currencies[lid].append(str(r["currency"]))
            records = self._parallel(lambda lid: self.http.get("priceLevel", lid, fields="name,externalId") or {},
                                     sorted(names))
            levels = {}
            for lid, name in names.items():
                codes = {cid: self._currency_code({"id": cid}) or "" for cid in currencies.get(lid, [])}
                company = next((cid for cid, code in codes.items() if code == self.currency), None)
                chosen = company or (sorted(codes)[0] if codes else None)
                levels[lid] = Level(
                    id=lid, code=str(records[lid].get("externalId") or records[lid].get("name") or name),
                    name=str(records[lid].get("name") or name),
                    currency=codes.get(chosen, self.currency) if chosen else self.currency, currency_id=chosen,
                )
            self._level_cache = levels
        return self._level_cache

    def _addresses(self, detail: Mapping[str, Any], company: str) -> tuple[Address, ...]:
        """``addressBook`` lines (their ``addressBookAddress`` subrecord; field names in conventions)."""
        out = []
        for line in sublist(detail, "addressBook"):
            addr = line.get(conv.ADDRESS_SUBRECORD)
            if not isinstance(addr, Mapping):
                continue
            f = conv.ADDRESS_FIELDS
            street = ", ".join(str(addr[k]) for k in f["street"] if addr.get(k))
            country = addr.get(f["country"])
            out.append(Address(
                name=str(addr.get(f["name"]) or company), street=street, city=str(addr.get(f["city"]) or ""),
                postal_code=str(addr.get(f["postal_code"]) or ""),
                country_code=str(ref_id(country) or "") if isinstance(country, Mapping) else str(country or ""),
            ))
        return tuple(out)

    def list_customers(self) -> list[ErpCustomer]:
        """Every customer (inactive ones with ``active=False``); details from REST in parallel, always read
        fresh (credit status)."""
        rows = self._customer_rows()
        details = self._customer_details_for((str(r["id"]) for r in rows.values()), fresh=True)
        out = []
        for code in sorted(rows):
            row = rows[code]
            detail = details.get(str(row["id"]), {})
            term_name = row.get("termsname") or ref_name(detail.get("terms"))
            out.append(ErpCustomer(
                account_code=code,
                name=str(row.get("companyname") or code),
                email=row.get("email") or None,
                payment_terms=term_name or None,
                payment_terms_days=payment_terms_days(term_name),
                credit_limit=opt_dec(row.get("creditlimit")),
                open_balance=self._open_balance(row),
                on_credit_hold=self._on_hold(row, detail),
                price_level=self._level_code(detail),
                contract_price_list=contract_list_code(code) if sublist(detail, "itemPricing") else None,
                currency=self._currency_code(detail.get("currency")) or self.currency,
                addresses=self._addresses(detail, str(row.get("companyname") or code)),
                active=not truthy(row.get("isinactive")),
            ))
        return out

    # ------------------------------------------------------------------ price lists and prices

    def _offered_levels(self) -> dict[str, Level]:
        return {lid: lv for lid, lv in self._levels().items() if lid != conv.BASE_PRICE_LEVEL_ID}

    def list_price_lists(self) -> list[ErpPriceList]:
        """Price levels (not Base Price) by name, and one contract list per customer with item pricing."""
        out = [ErpPriceList(code=lv.code, name=lv.name, currency=lv.currency, kind=PriceListKind.LEVEL)
               for lv in sorted(self._offered_levels().values(), key=lambda lv: lv.code)]
        rows = self._customer_rows()
        details = self._customer_details_for(str(r["id"]) for r in rows.values())
        for code in sorted(rows):
            detail = details.get(str(rows[code]["id"]), {})
            if sublist(detail, "itemPricing"):
                out.append(ErpPriceList(
                    code=contract_list_code(code), name=f"Contract {rows[code].get('companyname') or code}",
                    currency=self._currency_code(detail.get("currency")) or self.currency, kind=PriceListKind.CONTRACT,
                    customer_account_code=code,
                ))
        return out

    def _price_table(self, rows: Iterable[Mapping[str, Any]], items: Mapping[str, ItemInfo]) -> PriceTable:
        """Pricing rows -> per base unit points (see ``conventions.PRICES_PER_BASE_UNIT``)."""
        table: PriceTable = defaultdict(list)
        by_id = {info.id: info for info in items.values()}
        levels = self._levels()
        for row in rows:
            info = by_id.get(str(row.get("item")))
            if info is None or row.get("unitprice") in (None, ""):
                continue
            level = levels.get(str(row.get("pricelevel")))
            if level is not None and level.currency_id is not None and row.get("currency") is not None \
                    and str(row["currency"]) != level.currency_id:
                continue  # the level's prices in another currency
            factor = Decimal(1) if conv.PRICES_PER_BASE_UNIT else info.sale.rate
            threshold = dec(row.get("quantity")) * (Decimal(1) if conv.PRICES_PER_BASE_UNIT else factor)
            table[(str(row["pricelevel"]), info.id)].append((threshold, dec(row["unitprice"]) / factor))
        for points in table.values():
            points.sort()
        return table

    def _contract_prices(self, detail: Mapping[str, Any], table: PriceTable) -> dict[str, Decimal | str]:
        """item id -> contract price per base unit, or a level id whose prices apply to that item."""
        out: dict[str, Decimal | str] = {}
        for line in sublist(detail, "itemPricing"):
            item, level = ref_id(line.get("item")), ref_id(line.get("level"))
            if not item:
                continue
            if level in (None, conv.CUSTOM_PRICE_LEVEL_ID) and line.get("price") is not None:
                out[item] = dec(line.get("price"))
            elif level:
                out[item] = level
        return out

    def list_prices(self, quantity_breaks: Sequence[int] = (1,)) -> list[PriceEntry]:
        """Every level's price per base unit at each break; contract lists: the contract price where the
        customer has one, the customer's level price for every other item."""
        items = self._items()
        table = self._price_table(self.http.suiteql(q.PRICES), items)
        breaks = sorted({int(b) for b in quantity_breaks})
        out: list[PriceEntry] = []
        for lid, level in sorted(self._offered_levels().items(), key=lambda kv: kv[1].code):
            for sku in sorted(items):
                points = table.get((lid, items[sku].id), [])
                for brk in breaks:
                    price = price_at(points, Decimal(brk))
                    if price is not None:
                        out.append(PriceEntry(level.code, sku, brk, price, level.currency))
        rows = self._customer_rows()
        details = self._customer_details_for(str(r["id"]) for r in rows.values())
        for code in sorted(rows):
            detail = details.get(str(rows[code]["id"]), {})
            if not sublist(detail, "itemPricing"):
                continue
            contract = self._contract_prices(detail, table)
            level = ref_id(detail.get("priceLevel")) or conv.BASE_PRICE_LEVEL_ID
            currency = self._currency_code(detail.get("currency")) or self.currency
            for sku in sorted(items):
                special = contract.get(items[sku].id)
                for brk in breaks:
                    if isinstance(special, Decimal):
                        price: Decimal | None = special
                    else:
                        price = price_at(table.get((special or level, items[sku].id), []), Decimal(brk))
                    if price is not None:
                        out.append(PriceEntry(contract_list_code(code), sku, brk, price, currency))
        return out

    def customer_price(self, account_code: str, sku: str, quantity: Decimal, unit: str) -> Decimal:
        """Per ``unit`` at ``quantity`` (in ``unit``); ``LookupError`` for an unknown customer, SKU or unit."""
        key = (account_code, sku, Decimal(quantity), unit)
        price = self.customer_prices([key])[key]
        if price is None:
            raise LookupError(f"no NetSuite price for {account_code}/{sku} in {unit!r}")
        return price

    def customer_prices(
        self, requests: Sequence[tuple[str, str, Decimal, str]]
    ) -> dict[tuple[str, str, Decimal, str], Decimal | None]:
        """Batch: one customer query, one item query, a REST read per customer (cached), one pricing query
        for the items and levels involved."""
        wanted = list(dict.fromkeys(requests))
        out: dict[tuple[str, str, Decimal, str], Decimal | None] = {key: None for key in wanted}
        if not wanted:
            return out
        customers = self._customer_rows({k[0] for k in wanted})
        items = self._items({k[1] for k in wanted})
        details = self._customer_details_for(str(r["id"]) for r in customers.values())
        contracts: dict[str, dict[str, Decimal | str]] = {}
        level_of: dict[str, str] = {}
        for code, row in customers.items():
            detail = details.get(str(row["id"]), {})
            level_of[code] = ref_id(detail.get("priceLevel")) or conv.BASE_PRICE_LEVEL_ID
            contracts[code] = self._contract_prices(detail, {})
        level_ids = sorted({*level_of.values(), conv.BASE_PRICE_LEVEL_ID,
                            *(v for c in contracts.values() for v in c.values() if isinstance(v, str))})
        item_ids = sorted({info.id for info in items.values()})
        table: PriceTable = {}
        if item_ids:
            rows = self._chunked(lambda ids: q.prices_for(ids, level_ids), item_ids)
            table = self._price_table(rows, items)
        for key in wanted:
            account, sku, quantity, unit_name = key
            info = items.get(sku)
            if account not in customers or info is None:
                continue
            unit = info.unit_named(unit_name)
            if unit is None:
                continue
            special = contracts[account].get(info.id)
            if isinstance(special, Decimal):
                per_base: Decimal | None = special
            else:
                base_quantity = Decimal(quantity) * unit.rate
                level = special or level_of[account]
                per_base = price_at(table.get((level, info.id), []), base_quantity)
                if per_base is None and level != conv.BASE_PRICE_LEVEL_ID:
                    per_base = price_at(table.get((conv.BASE_PRICE_LEVEL_ID, info.id), []), base_quantity)
            out[key] = None if per_base is None else per_base * unit.rate
        return out

    # ------------------------------------------------------------------ items and stock

    def list_items(self, skus: Sequence[str] | None = None) -> list[ErpItem]:
        """Inventory items (inactive ones with ``active=False``) with base unit, sale unit + factor and the
        Base Price level's price per base unit as list price; ``skus``: only these."""
        items = self._items()
        if skus is not None:
            wanted = set(skus)
            items = {sku: info for sku, info in items.items() if sku in wanted}
        table = self._price_table(
            (r for r in self.http.suiteql(q.PRICES) if str(r.get("pricelevel")) == conv.BASE_PRICE_LEVEL_ID),
            items,
        )
        out = []
        for sku in sorted(items):
            info = items[sku]
            sale = info.sale
            factor = sale.rate / (info.base_unit.rate if info.base_unit else Decimal(1))
            out.append(ErpItem(
                sku=sku, name=info.name, base_unit=info.base_name,
                sale_unit=SaleUnit(name=sale.name, factor=int(factor)),
                list_price=price_at(table.get((conv.BASE_PRICE_LEVEL_ID, info.id), []), Decimal(1)) or Decimal(0),
                active=info.active,
            ))
        return out

    def list_stock(self) -> list[StockLevel]:
        """Per location mapped to a warehouse: on hand and committed (= reserved)."""
        out = []
        for row in self.http.suiteql(q.STOCK):
            code = self._warehouse_of(str(row.get("location") or ""))
            if code is None and not self.config.locations:
                code = row.get("locationname") or None
            if not code or not row.get("sku"):
                continue
            out.append(StockLevel(
                sku=str(row["sku"]), warehouse_code=str(code),
                on_hand=dec(row.get("quantityonhand")), reserved=dec(row.get("quantitycommitted")),
            ))
        return out

    def default_warehouse_code(self) -> str:
        location = self._default_location()
        code = self._warehouse_of(location)
        if code is None:
            raise ErpTechnicalError(f"NetSuite location {location} has no warehouse code (NETSUITE_LOCATIONS)")
        return code
