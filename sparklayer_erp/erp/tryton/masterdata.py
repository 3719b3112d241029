"""Master data and stock as Tryton holds them: customers, price lists, prices, items, stock levels.

The choices behind open balance, credit hold, contract customers and stock are listed in ``adapter``'s
module doc; currencies (a customer's sale currency, a price list's currency) in ``currencies``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

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
from sparklayer_erp.domain.money import MoneyError, round_money
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.currencies import CurrencyReads
from sparklayer_erp.erp.tryton.errors import UnknownErpReference, port_method
from sparklayer_erp.erp.tryton.mapping import level_signature, payment_term_days, rel, rels, to_decimal

# Customer shipments whose goods are still in the storage zone: picking moves them to the output dock.
_UNPICKED_SHIPMENT_STATES = ("draft", "waiting", "assigned")
_CLOSED_MOVE_STATES = ("done", "cancelled")


class MasterDataReads(CurrencyReads):
    """The port's master-data reads (what the master-data sync publishes), and the customer prices the
    order sync checks orders against.

    A customer buying in another currency than the company's (Tryton: the party's ``customer_currency``) is
    reported in that currency: its prices are Tryton's converted at the ERP's rate, and its credit limit and
    open balance (which Tryton keeps in the company currency) are converted at today's rate and rounded to
    the currency's minor unit, so the buyer's credit headroom in SparkLayer is in the currency they order in.
    """

    def _in_currency(self, amount: Decimal | None, code: str) -> Decimal | None:
        """A company-currency amount in ``code`` at today's ERP rate (unchanged when there is no rate)."""
        if amount is None or code == self.currency:
            return amount
        rate = self.company_rate(code)
        if not rate:
            return amount
        try:
            return round_money(amount / rate, code)
        except MoneyError:  # a code without a known minor unit: keep the exact value
            return amount / rate

    def _internal_party_ids(self) -> set[int]:
        """The company's own party and its employees' parties: coded parties that are not customers."""
        ids = {int(self._company()["party"])}
        for row in self.rpc.search_read("company.employee", [], ["party"]):
            if row.get("party"):
                ids.add(int(row["party"]))
        return ids

    @port_method
    def list_customers(self) -> list[ErpCustomer]:
        """Every coded party (active or not) except the company's and its employees' parties.

        Tryton has no "customer" flag; a party with an account code is one. Inactive parties are included
        with ``active=False`` so the storefront can close their accounts.
        """
        fields = [
            "code", "name", "email", "active", "credit_limit_amount", "credit_amount",
            "categories.name", "sale_price_list.name", "customer_currency",
            "customer_payment_term.name", "customer_payment_term.lines.relativedeltas.days",
            "customer_payment_term.lines.relativedeltas.weeks",
            "customer_payment_term.lines.relativedeltas.months",
            "addresses.party_name", "addresses.street", "addresses.city", "addresses.postal_code",
            "addresses.country.code",
        ]
        internal = self._internal_party_ids()
        rows = self.rpc.search_read(
            "party.party",
            [("active", "in", [True, False]), ("code", "!=", None), ("id", "not in", sorted(internal))],
            fields,
            order=[("code", "ASC")],
        )
        contract_levels = self._contract_levels()
        out = []
        for row in rows:
            limit = row.get("credit_limit_amount")
            categories = {c.get("name") for c in rels(row, "categories")}
            price_list = rel(row, "sale_price_list").get("name")
            is_contract = bool(price_list and price_list.startswith(conv.CONTRACT_PRICE_LIST_PREFIX))
            term = rel(row, "customer_payment_term")
            currency = self._code_of(row["customer_currency"]) if row.get("customer_currency") else self.currency
            out.append(ErpCustomer(
                account_code=row["code"],
                name=row.get("name") or "",
                email=row.get("email") or None,
                payment_terms=term.get("name"),
                payment_terms_days=payment_term_days(term),
                credit_limit=None if limit is None else self._in_currency(to_decimal(limit), currency),
                open_balance=self._in_currency(to_decimal(row.get("credit_amount")), currency) or Decimal(0),
                on_credit_hold=conv.CREDIT_HOLD_CATEGORY in categories or (limit is not None and limit == 0),
                price_level=contract_levels.get(price_list) if is_contract else price_list,
                contract_price_list=price_list if is_contract else None,
                currency=currency,
                addresses=tuple(
                    Address(
                        name=a.get("party_name") or row.get("name") or "",
                        street=(a.get("street") or "").replace("\n", ", "),
                        city=a.get("city") or "",
                        postal_code=a.get("postal_code") or "",
                        country_code=rel(a, "country").get("code") or "",
                    )
                    for a in rels(row, "addresses")
                ),
                active=bool(row.get("active", True)),
            ))
        return out

    def _contract_levels(self) -> dict[str, str | None]:
        """Contract list name -> the level whose generic lines its fallback lines repeat (or None)."""
        lists = self.rpc.search_read(
            "product.price_list", [],
            ["name", "lines.product", "lines.category", "lines.quantity", "lines.formula"],
        )
        levels = {
            level_signature(rels(pl, "lines")): pl["name"]
            for pl in lists
            if not pl["name"].startswith(conv.CONTRACT_PRICE_LIST_PREFIX)
        }
        return {
            pl["name"]: levels.get(level_signature(rels(pl, "lines")))
            for pl in lists
            if pl["name"].startswith(conv.CONTRACT_PRICE_LIST_PREFIX)
        }

    def _list_currencies(self, names: Sequence[str]) -> dict[str, str]:
        """Price list name → its currency: a contract list is in its customer's sale currency, a level list in
        the currency its name ends with (``TRADE-EUR``), anything else in the company currency."""
        out = self._price_list_currencies(names)
        contracts = {name[len(conv.CONTRACT_PRICE_LIST_PREFIX):]: name for name in names
                     if name.startswith(conv.CONTRACT_PRICE_LIST_PREFIX)}
        if contracts:
            for party in self.rpc.search_read("party.party", [("code", "in", sorted(contracts))],
                                              ["code", "customer_currency"]):
                if party.get("customer_currency"):
                    out[contracts[party["code"]]] = self._code_of(party["customer_currency"])
        return out

    @port_method
    def list_price_lists(self) -> list[ErpPriceList]:
        """Price list name = code; ``CONTRACT-<account code>`` lists are one customer's contract."""
        rows = self.rpc.search_read("product.price_list", [], ["name"], order=[("name", "ASC")])
        currencies = self._list_currencies([row["name"] for row in rows])
        out = []
        for row in rows:
            name = row["name"]
            if name.startswith(conv.CONTRACT_PRICE_LIST_PREFIX):
                out.append(ErpPriceList(
                    code=name, name=name, currency=currencies[name], kind=PriceListKind.CONTRACT,
                    customer_account_code=name[len(conv.CONTRACT_PRICE_LIST_PREFIX):] or None,
                ))
            else:
                out.append(ErpPriceList(code=name, name=name, currency=currencies[name], kind=PriceListKind.LEVEL))
        return out

    @port_method
    def list_prices(self, quantity_breaks: Sequence[int] = (1,)) -> list[PriceEntry]:
        """Tryton computes every price itself: one ``search_read`` of ``sale_price_uom`` per (list, break)
        over all salable products, with context ``{price_list, quantity, uom: Unit}`` -> per base unit; a list
        in another currency adds ``currency`` to the context (Tryton converts at its rate of today)."""
        base = self._base_uom_id()
        lists = self.rpc.search_read("product.price_list", [], ["name"], order=[("name", "ASC")])
        currencies = self._list_currencies([pl["name"] for pl in lists])
        out = []
        for price_list in lists:
            currency = currencies[price_list["name"]]
            context = {"price_list": price_list["id"], "uom": base}
            if currency != self.currency:
                context["currency"] = self._currency_id(currency)
            for brk in sorted(set(quantity_breaks)):
                rows = self.rpc.search_read(
                    "product.product",
                    [("salable", "=", True), ("code", "!=", None)],
                    ["code", "sale_price_uom"],
                    order=[("code", "ASC")],
                    context={**context, "quantity": float(brk)},
                )
                for row in rows:
                    if row.get("sale_price_uom") is None:
                        continue
                    out.append(PriceEntry(
                        price_list_code=price_list["name"], sku=row["code"], min_quantity=int(brk),
                        unit_price=to_decimal(row["sale_price_uom"]), currency=currency,
                    ))
        return out

    @port_method
    def customer_price(self, account_code: str, sku: str, quantity: Decimal, unit: str) -> Decimal:
        """Per ``unit`` at ``quantity`` (in ``unit``), through the customer's own price list, in the customer's
        sale currency (converted by Tryton at its rate of today when that is not the company's).

        Raises ``UnknownErpReference`` (a ``LookupError``) for an unknown customer, SKU or unit.
        """
        parties = self.rpc.search_read("party.party", [("code", "=", account_code)],
                                       ["sale_price_list", "customer_currency"])
        if not parties:
            raise UnknownErpReference(f"no customer with account code {account_code!r}")
        uom = self._uoms().get(unit)
        if uom is None:
            raise UnknownErpReference(f"no unit of measure {unit!r}")
        context = {
            "customer": parties[0]["id"],
            "price_list": parties[0].get("sale_price_list"),
            "uom": uom["id"],
            "quantity": float(quantity),
        }
        if parties[0].get("customer_currency"):
            context["currency"] = parties[0]["customer_currency"]
        rows = self.rpc.search_read("product.product", [("code", "=", sku)], ["sale_price_uom"], context=context)
        if not rows:
            raise UnknownErpReference(f"no product with SKU {sku!r}")
        price = rows[0].get("sale_price_uom")
        if price is None:
            raise UnknownErpReference(f"SKU {sku!r} has no sale price")
        return to_decimal(price)

    @port_method
    def customer_prices(
        self, requests: Iterable[tuple[str, str, Decimal, str]]
    ) -> dict[tuple[str, str, Decimal, str], Decimal | None]:
        """``customer_price`` for many (account code, SKU, quantity, unit) at once, for the order sync's price
        checks. An unknown customer, SKU or unit, or an unpriced SKU, answers ``None``.

        Tryton prices by price list, not by who holds it, and a quantity only matters through the list line
        it reaches: between two consecutive line quantities every product matches the same line. So the
        requests are grouped by (price list, unit, product base unit, quantity bracket) and each group is one
        read of ``sale_price_uom`` — a handful of reads for a whole batch of orders.
        """
        wanted = list(dict.fromkeys(requests))
        out: dict[tuple[str, str, Decimal, str], Decimal | None] = {key: None for key in wanted}
        accounts = sorted({key[0] for key in wanted})
        if not accounts:
            return out
        parties = {row["code"]: row for row in self.rpc.search_read(
            "party.party", [("code", "in", accounts)], ["code", "sale_price_list", "customer_currency"])}
        products = {row["code"]: row for row in self.rpc.search_read(
            "product.product", [("code", "in", sorted({key[1] for key in wanted}))], ["code", "default_uom"])}
        list_ids = sorted({p["sale_price_list"] for p in parties.values() if p.get("sale_price_list")})
        breaks: dict[int, list[float]] = {}
        for row in self.rpc.search_read("product.price_list", [("id", "in", list_ids)], ["unit", "lines.quantity"]):
            if row.get("unit") in (None, "product_default"):  # line quantities are in the product's base unit
                breaks[row["id"]] = sorted({float(line.get("quantity") or 0) for line in rels(row, "lines")})
        uoms = self._uoms()
        groups: dict[tuple, list[tuple[str, str, Decimal, str]]] = defaultdict(list)
        for key in wanted:
            account, sku, quantity, unit = key
            party, product = parties.get(account), products.get(sku)
            if party is None or product is None or unit not in uoms:
                continue
            price_list = party.get("sale_price_list")
            bracket: object = quantity  # unknown list layout: exact quantity
            if price_list in breaks:
                base = float(quantity) * float(uoms[unit]["factor"]) / float(
                    self._uom_by_id(product["default_uom"])["factor"])
                bracket = sum(1 for threshold in breaks[price_list] if threshold <= base)
            groups[(price_list, unit, product["default_uom"], bracket, party["id"] if price_list is None else None,
                    party.get("customer_currency"))].append(key)
        for keys in groups.values():
            account, _, quantity, unit = keys[0]
            context = {
                "customer": parties[account]["id"],
                "price_list": parties[account].get("sale_price_list"),
                "uom": uoms[unit]["id"],
                "quantity": float(quantity),
            }
            if parties[account].get("customer_currency"):  # the customer's prices are in its sale currency
                context["currency"] = parties[account]["customer_currency"]
            rows = self.rpc.search_read(
                "product.product", [("code", "in", sorted({k[1] for k in keys}))], ["code", "sale_price_uom"],
                context=context,
            )
            prices = {row["code"]: row.get("sale_price_uom") for row in rows}
            for key in keys:
                price = prices.get(key[1])
                out[key] = None if price is None else to_decimal(price)
        return out

    @port_method
    def list_items(self, skus: Sequence[str] | None = None) -> list[ErpItem]:
        """Salable products (active or not), with base unit, sale unit (= template sale_uom) and list price
        per base unit (``list_price_used``: a variant's own ``list_price`` reads None); ``skus``: only these
        (one read of the batch's products, not the catalogue)."""
        wanted = [("code", "in", sorted(set(skus)))] if skus is not None else []
        rows = self.rpc.search_read(
            "product.product",
            [("active", "in", [True, False]), ("salable", "=", True), ("code", "!=", None), *wanted],
            ["code", "name", "active", "default_uom", "sale_uom", "list_price_used"],
            order=[("code", "ASC")],
        )
        out = []
        for row in rows:
            base = self._uom_by_id(row["default_uom"])
            sale = self._uom_by_id(row.get("sale_uom") or row["default_uom"])
            factor = round(float(sale["factor"]) / float(base["factor"]))
            out.append(ErpItem(
                sku=row["code"],
                name=row.get("name") or "",
                base_unit=base["name"],
                sale_unit=SaleUnit(name=sale["name"], factor=int(factor)),
                list_price=to_decimal(row.get("list_price_used")),
                active=bool(row.get("active", True)),
            ))
        return out

    @port_method
    def list_stock(self) -> list[StockLevel]:
        """Per warehouse: on hand in its storage zone, and reserved = committed to customer shipments.

        Reserved is every open (not done, not cancelled) move from the warehouse to a customer whose goods
        are still in the storage zone: its shipment is draft, waiting or assigned (picking carries the goods
        to the output dock, out of on hand), or the warehouse ships straight from storage. So an order counts
        from the moment it is committed, whether or not a person has assigned it yet, and never twice.

        Two calls per warehouse: one ``quantity`` read over all goods with ``stock_skip_warehouse`` (the
        warehouse's storage zone; goods in its input/output docks are not sellable or already picked), one
        ``search_read`` of those moves in product default units (``internal_quantity``).
        """
        out = []
        for code, wh in self._warehouses().items():
            storage = wh.get("storage_location")
            if not storage:
                continue
            rows = self.rpc.search_read(
                "product.product",
                [("type", "=", "goods"), ("code", "!=", None)],
                ["code", "quantity"],
                order=[("code", "ASC")],
                context={"locations": [wh["id"]], "stock_skip_warehouse": True},
            )
            moves = self.rpc.search_read(
                "stock.move",
                [
                    ("to_location.type", "=", "customer"),
                    ("state", "not in", list(_CLOSED_MOVE_STATES)),
                    ("from_location", "child_of", [wh["id"]], "parent"),
                    ["OR",
                     ("from_location", "child_of", [storage], "parent"),  # a one-step warehouse
                     ("shipment", "=", None),
                     ("shipment.state", "in", list(_UNPICKED_SHIPMENT_STATES), "stock.shipment.out")],
                ],
                ["product", "internal_quantity"],
            )
            reserved: dict[int, Decimal] = defaultdict(Decimal)
            for move in moves:
                reserved[move["product"]] += to_decimal(move.get("internal_quantity"))
            for row in rows:
                out.append(StockLevel(
                    sku=row["code"], warehouse_code=code,
                    on_hand=to_decimal(row.get("quantity")), reserved=reserved.get(row["id"], Decimal(0)),
                ))
        return out

