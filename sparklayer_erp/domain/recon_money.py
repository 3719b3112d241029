"""Money in bulk frames: integer minor units of each row's currency, with ``Decimal`` only at the edges.

Why: a month has millions of amounts; one Python ``Decimal`` per row in the joins and comparisons costs
seconds per column, integers cost milliseconds and are exact all the same. The edges are where a frame is
built from records (``to_minor_array``: ``Decimal`` → minor units, rounding half-up once per amount, ties away
from zero, to each currency's ISO 4217 exponent) and where figures are shown (``decimal_array``,
``format_minor``). Exchange rates are not money: they stay ``Decimal`` (few distinct values) and are applied
per distinct rate with exact integer arithmetic (``to_company_currency``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

import numpy as np
import pandas as pd

from sparklayer_erp.domain.money import CURRENCY_EXPONENTS

_CTX = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
FALLBACK_EXPONENT = 2  # for showing amounts of a currency not in the ISO table (such orders are flagged anyway)
_INT64_SAFE = 2**62


def exponent_or_fallback(currency: object) -> int:
    """ISO 4217 digits of ``currency``; ``FALLBACK_EXPONENT`` for a code the table does not know."""
    return CURRENCY_EXPONENTS.get(str(currency).upper(), FALLBACK_EXPONENT) if isinstance(currency, str) else \
        FALLBACK_EXPONENT


def is_known_currency(currency: object) -> bool:
    return isinstance(currency, str) and currency.upper() in CURRENCY_EXPONENTS


def to_minor_array(values: pd.Series | Iterable, exponents: np.ndarray | int = 2, *,
                   column: str = "amount") -> np.ndarray:
    """``Decimal`` amounts → ``int64`` minor units (``exponents``: per value, or one for all), each rounded
    half-up to its currency's minor unit. Refuses floats, None and non-finite values (``TypeError``).

    One tight loop per exponent (about 0.35 µs an amount): this is the edge, run once when frames are built
    from records; hashing ``Decimal`` objects to convert each distinct amount once is slower in pandas."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    exps = np.broadcast_to(np.asarray(exponents, dtype=np.int64), arr.shape)
    out = np.empty(len(arr), dtype=np.int64)
    ctx, half_up = _CTX, ROUND_HALF_UP
    try:
        for exp in (np.unique(exps).tolist() if len(arr) else []):
            rows = None if (exps == exp).all() else np.flatnonzero(exps == exp)
            part = arr if rows is None else arr[rows]
            converted = np.fromiter((int(v.scaleb(exp, ctx).to_integral_value(half_up, ctx)) for v in part),
                                    dtype=np.int64, count=len(part))
            if rows is None:
                out[:] = converted
            else:
                out[rows] = converted
    except (AttributeError, TypeError, InvalidOperation, ValueError, OverflowError) as exc:
        bad = next((v for v in arr if not (isinstance(v, Decimal) and v.is_finite())), None)
        raise TypeError(f"{column}: money must be finite Decimal values, found {bad!r}") from exc
    return out


def to_pence(values: pd.Series | Iterable, *, column: str = "amount") -> np.ndarray:
    """``Decimal`` amounts → ``int64`` pence (two-decimal currencies), rounded half-up to the cent."""
    return to_minor_array(values, 2, column=column)


def minor_to_decimal(units: int, exponent: int = 2) -> Decimal:
    """Exact ``Decimal`` with exactly ``exponent`` places (``-5``, 2 → ``-0.05``; 0 never shows as ``-0``)."""
    return Decimal(int(units)).scaleb(-exponent, _CTX)


def pence_to_decimal(pence: int) -> Decimal:
    return minor_to_decimal(pence, 2)


def decimal_array(units: np.ndarray, exponents: np.ndarray | int = 2) -> np.ndarray:
    """int64 minor units → object array of ``Decimal`` (one shared object per distinct amount: a month
    repeats amounts a lot, and building one ``Decimal`` per row would cost as much as the whole comparison)."""
    units = np.asarray(units, dtype=np.int64)
    out = np.empty(len(units), dtype=object)
    exps = np.broadcast_to(np.asarray(exponents, dtype=np.int64), units.shape)
    for exp in (np.unique(exps).tolist() if len(units) else []):
        rows = None if np.ndim(exponents) == 0 or (exps == exp).all() else np.flatnonzero(exps == exp)
        part = units if rows is None else units[rows]
        codes, uniques = pd.factorize(part)
        decs = np.empty(len(uniques), dtype=object)
        decs[:] = [minor_to_decimal(u, exp) for u in uniques.tolist()]
        if rows is None:
            out[:] = decs[codes]
        else:
            out[rows] = decs[codes]
    return out


def format_minor(units: int, exponent: int = 2) -> str:
    """For people: ``123456``, 2 → ``1,234.56``; ``-5``, 3 → ``-0.005``; JPY ``1500``, 0 → ``1,500``."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(int(units)), 10**exponent) if exponent else (abs(int(units)), 0)
    return f"{sign}{whole:,}" + (f".{frac:0{exponent}d}" if exponent else "")


def format_money(pence: int) -> str:
    return format_minor(pence, 2)


def format_array(units: np.ndarray, exponents: np.ndarray | int = 2) -> np.ndarray:
    """``format_minor`` over an array, computed once per distinct (amount, exponent)."""
    units = np.asarray(units, dtype=np.int64)
    exps = np.broadcast_to(np.asarray(exponents, dtype=np.int64), units.shape)
    out = np.empty(len(units), dtype=object)
    for exp in (np.unique(exps).tolist() if len(units) else []):
        rows = np.flatnonzero(exps == exp)
        codes, uniques = pd.factorize(units[rows])
        text = np.array([format_minor(u, exp) for u in uniques.tolist()] or [""], dtype=object)
        out[rows] = text[codes]
    return out


def rate_of(value: object) -> Decimal | None:
    """An exchange rate from a frame cell: a finite positive ``Decimal``, or None when missing.
    Floats are refused like money (a float rate already lost digits)."""
    if value is None or (not isinstance(value, (Decimal, str)) and pd.isna(value)):
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise TypeError(f"exchange rates must be Decimal values, found {value!r}")
    if not value.is_finite() or value <= 0:
        raise TypeError(f"exchange rates must be finite and positive, found {value!r}")
    return value


def half_up_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """``numerator / denominator`` rounded half-up (ties away from zero), elementwise, exact."""
    if denominator == 1:
        return numerator
    sign = np.where(numerator < 0, -1, 1)
    return sign * ((2 * np.abs(numerator) + denominator) // (2 * denominator))


def to_company_currency(units: np.ndarray, exponent: int, rate: Decimal, company_exponent: int) -> np.ndarray:
    """Minor units of a currency (``exponent``) × ``rate`` (company units per unit) → company minor units,
    rounded half-up once per amount. Exact: integer arithmetic (Python ints when int64 could overflow)."""
    num, den = rate.as_integer_ratio()
    shift = company_exponent - exponent
    if shift >= 0:
        num *= 10**shift
    else:
        den *= 10 ** (-shift)
    if num == den:
        return units.astype(np.int64, copy=True)
    biggest = int(np.abs(units).max()) if len(units) else 0
    if biggest * max(num, 1) < _INT64_SAFE and den < _INT64_SAFE // 4:
        return half_up_div(units.astype(np.int64) * num, den).astype(np.int64)
    big = units.astype(object) * num  # Python ints: exact whatever the size
    sign = np.where(units < 0, -1, 1).astype(object)
    return (sign * ((2 * np.abs(big) + den) // (2 * den))).astype(np.int64)


class ShownMoney:
    """Many int64 minor-unit columns (same rows, one exponent per row) made ready to show: every distinct
    (amount, exponent) across *all* the columns becomes one ``Decimal`` and one text, once. Columns of a
    month repeat each other's amounts (order total, billable, ERP total, invoiced, ...), so this does a small
    fraction of the ``Decimal`` work a per-column conversion would."""

    def __init__(self, columns: dict[str, np.ndarray], exponents: np.ndarray | int) -> None:
        names = list(columns)
        n = len(next(iter(columns.values()))) if columns else 0
        stacked = np.concatenate([np.asarray(columns[c], dtype=np.int64) for c in names]) if names else \
            np.empty(0, dtype=np.int64)
        codes, values = pd.factorize(stacked)
        if np.ndim(exponents) == 0:
            self._exps = np.full(len(values), int(exponents), dtype=np.int64)
        else:
            per_row = np.tile(np.asarray(exponents, dtype=np.int64), len(names))
            codes, pairs = pd.factorize(codes.astype(np.int64) * 4 + per_row)
            values, self._exps = values[pairs // 4], pairs % 4
        self._values = np.asarray(values, dtype=np.int64)
        self.names = frozenset(names)
        self._codes = dict(zip(names, np.split(codes, np.arange(1, len(names)) * n), strict=True))
        self._decimals: np.ndarray | None = None
        self._texts = np.full(len(self._values), None, dtype=object)

    def decimals(self, name: str) -> np.ndarray:
        if self._decimals is None:
            self._decimals = np.empty(len(self._values), dtype=object)
            dec, ctx = Decimal, _CTX
            self._decimals[:] = [dec(v).scaleb(-e, ctx) for v, e in
                                 zip(self._values.tolist(), self._exps.tolist(), strict=True)]
        return self._decimals[self._codes[name]]

    def texts(self, name: str, rows: np.ndarray) -> np.ndarray:
        """``format_minor`` of the column at ``rows`` (formatted once per distinct amount, on demand)."""
        codes = self._codes[name][rows]
        needed = np.unique(codes)
        todo = needed[pd.isna(self._texts[needed])]
        self._texts[todo] = [format_minor(v, e) for v, e in
                             zip(self._values[todo].tolist(), self._exps[todo].tolist(), strict=True)]
        return self._texts[codes]
