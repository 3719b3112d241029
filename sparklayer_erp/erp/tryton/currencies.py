"""Currencies as Tryton holds them: which codes the ERP knows, and its rate between two of them on a date.

Tryton keeps, per currency, dated rates against a common base (the demo company's GBP has rate 1) and
converts ``amount * to.rate / from.rate`` with each side's latest rate on or before the date
(``currency.currency.compute``); without a rate on that date it refuses the conversion. A sale in another
currency than the company's is converted that way whenever Tryton needs company amounts (credit check, stock
moves, invoice posting), so an order in a currency the ERP has no rate for could be created but never
confirmed or invoiced: the adapter refuses it up front (``RefusalReason.UNKNOWN_CURRENCY``).

A Tryton price list has no currency field (it is in its company's currency); the convention for a list meant
for buyers in another currency is a name ending in ``-<ISO code>`` (``TRADE-EUR``). Its prices are read with
that currency in the context, so Tryton returns them converted at its rate, exactly as it prices a sale in
that currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import Refusal, RefusalReason
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.mapping import rels, to_decimal
from sparklayer_erp.erp.tryton.records import TrytonRecords

Rates = tuple[tuple[dt.date, Decimal], ...]  # (from date, rate), oldest first


def rate_on(rates: Rates, on: dt.date) -> Decimal | None:
    """The latest rate dated on or before ``on`` (Tryton's rule), or None."""
    found = None
    for date, rate in rates:
        if date > on:
            break
        found = rate
    return found if found else None


def company_rate(home: Rates, other: Rates, on: dt.date) -> Decimal | None:
    """Company-currency units per one unit of the other currency on ``on`` (``home.rate / other.rate``), or
    None when either has no rate then. ``amount * company_rate`` is what Tryton books in company currency
    (before it rounds to the company currency's minor unit)."""
    mine, theirs = rate_on(home, on), rate_on(other, on)
    if mine is None or theirs is None:
        return None
    return mine / theirs


def price_list_currency(name: str, known: Iterable[str], company_currency: str) -> str:
    """``TRADE-EUR`` → ``EUR`` when the ERP knows EUR; any other name → the company currency."""
    stem, sep, code = name.rpartition(conv.PRICE_LIST_CURRENCY_SEPARATOR)
    if sep and stem and code in set(known):
        return code
    return company_currency


class CurrencyReads(TrytonRecords):
    """The ERP's currencies and rates, read once per adapter (one run): a rate entered meanwhile is seen by
    the next run."""

    _currency_table: dict[str, dict[str, Any]] | None = None

    def _currencies(self) -> dict[str, dict[str, Any]]:
        """ISO code → ``{"id", "code", "rates": Rates}`` for every active currency of the ERP."""
        if self._currency_table is None:
            rows = self.rpc.search_read("currency.currency", [], ["code", "rates.date", "rates.rate"])
            table = {}
            for row in rows:
                rates = sorted((r["date"], to_decimal(r.get("rate"))) for r in rels(row, "rates") if r.get("date"))
                table[str(row["code"]).upper()] = {"id": int(row["id"]), "code": row["code"], "rates": tuple(rates)}
            self._currency_table = table
        return self._currency_table

    def _currency_id(self, code: str | None) -> int | None:
        row = self._currencies().get((code or "").upper())
        return None if row is None else int(row["id"])

    def _code_of(self, currency_id: Any) -> str:
        for code, row in self._currencies().items():
            if row["id"] == currency_id:
                return code
        return self.currency

    def company_rate(self, code: str, on: dt.date | None = None) -> Decimal | None:
        """The ERP's rate on ``on`` (default today): company-currency units per one ``code``."""
        if code.upper() == self.currency:
            return Decimal(1)
        table = self._currencies()
        if code.upper() not in table or self.currency not in table:
            return None
        return company_rate(table[self.currency]["rates"], table[code.upper()]["rates"], on or dt.date.today())

    def _currency_refusal(self, code: str, on: dt.date | None = None) -> Refusal | None:
        """Why an order in ``code`` cannot be booked in this ERP, before anything is written; None if it can."""
        code = (code or "").upper()
        if code == self.currency:
            return None
        when = on or dt.date.today()
        if code not in self._currencies():
            return Refusal(RefusalReason.UNKNOWN_CURRENCY,
                           f"the ERP has no currency {code or '(none)'}; it books in {self.currency}"
                           f" and knows {', '.join(sorted(self._currencies()))}")
        if self.company_rate(code, when) is None:
            return Refusal(RefusalReason.UNKNOWN_CURRENCY,
                           f"the ERP has no {code} to {self.currency} rate on {when.isoformat()}")
        return None

    def _price_list_currencies(self, names: Iterable[str]) -> dict[str, str]:
        """Price list name → the currency its prices are read in."""
        known = [code for code in self._currencies() if code != self.currency]
        return {name: price_list_currency(name, known, self.currency) for name in names}

    def _rates_for(self, rows: Iterable[Mapping[str, Any]]) -> dict[int, tuple[str, Decimal | None]]:
        """Sale id → (currency code, company rate on its sale date) for sale rows read with ``currency``."""
        out = {}
        for row in rows:
            code = self._code_of(row.get("currency"))
            on = row.get("sale_date") or dt.date.today()
            out[int(row["id"])] = (code, self.company_rate(code, on))
        return out
