"""Pure translations between NetSuite values and the port's shapes (no I/O).

SuiteQL returns every value as a string (booleans ``'T'``/``'F'``; a NULL column may be missing); the
record service returns JSON numbers, references ``{"id", "refName"}`` and enums ``{"id", "refName"}`` (or a
bare id). These helpers accept both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sparklayer_erp.domain.models import CreditNote, ErpOrderLine, ErpOrderState, Invoice
from sparklayer_erp.domain.money import UnknownCurrency, minor_unit
from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.port import ErpTechnicalError

_NET_DAYS = re.compile(r"(\d+)")
_EXTERNAL_ID = re.compile(conv.EXTERNAL_ID_PATTERN)
_CENT = Decimal("0.01")


def dec(value: Any) -> Decimal:
    """A NetSuite number (string, int, float or missing) as an exact ``Decimal`` (missing -> 0)."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ErpTechnicalError(f"NetSuite sent {value!r} where a number belongs") from None


def opt_dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else dec(value)


def num(value: Decimal | int) -> float | int:
    """A Decimal as a JSON number, refusing any value a float would not carry exactly."""
    exact = Decimal(value)
    if exact == exact.to_integral_value() and abs(exact) < 2**53:
        return int(exact)
    as_float = float(exact)
    if Decimal(repr(as_float)) != exact:
        raise ValueError(f"{value} cannot be sent exactly as a JSON number")
    return as_float


def truthy(value: Any) -> bool:
    """SuiteQL ``'T'``/``'F'`` (and JSON booleans) as bool."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().upper() in conv.TRUE_VALUES


def ref_id(value: Any) -> str | None:
    """The id of a reference/enum (``{"id": "7"}``), or a bare id, as a string."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None or value == "":
        return None
    return str(value)


def ref_name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("refName")
        return str(name) if name not in (None, "") else None
    return None


def sublist(record: Mapping[str, Any] | None, name: str) -> list[dict[str, Any]]:
    """The expanded lines of a sublist (``{"items": [...]}``), or [] when not expanded/empty."""
    value = (record or {}).get(name)
    if isinstance(value, Mapping):
        items = value.get("items")
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    return []


def parse_date(value: Any) -> dt.date | None:
    """``YYYY-MM-DD`` (or an ISO datetime) -> date."""
    if not value:
        return None
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def status_letter(row: Mapping[str, Any], code_key: str = "statuscode", letter_key: str = "status") -> str:
    """``SalesOrd:B`` / ``B`` / ``{"id": "B"}`` -> ``B``."""
    value = row.get(code_key) or row.get(letter_key)
    if isinstance(value, Mapping):
        value = value.get("id")
    text = str(value or "").strip()
    return text.rsplit(":", 1)[-1] if text else ""


def payment_terms_days(name: str | None) -> int | None:
    """Days from a term's name: "Net 30" -> 30, "Due on receipt" -> 0, unknown -> None."""
    if not name:
        return None
    if name.strip().lower() in conv.IMMEDIATE_TERMS:
        return 0
    match = _NET_DAYS.search(name)
    return int(match.group(1)) if match else None


def valid_external_id(value: str) -> bool:
    return bool(_EXTERNAL_ID.match(value or ""))


def payment_external_id(reference: str) -> str:
    """The customer payment's external id for a payment reference (allowed characters only)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", reference.strip())
    return (conv.PAYMENT_EXTERNAL_ID_PREFIX + cleaned)[:300]


def reference_from_payment_external_id(external_id: str | None) -> str | None:
    if not external_id:
        return None
    if external_id.upper().startswith(conv.PAYMENT_EXTERNAL_ID_PREFIX.upper()):
        return external_id[len(conv.PAYMENT_EXTERNAL_ID_PREFIX):] or None
    return external_id


def money_step(currency: str | None) -> Decimal:
    """The currency's minor unit (ISO 4217: GBP 0.01, JPY 1, KWD 0.001); the cent when it is not known."""
    if not currency:
        return _CENT
    try:
        return minor_unit(currency)
    except UnknownCurrency:
        return _CENT


def line_amount(row: Mapping[str, Any], currency: str | None = None) -> Decimal:
    """A transaction line's amount as NetSuite rounded it (``foreignamount``, sign per conventions), or
    base quantity x base rate rounded half-up to the currency's minor unit when the column is missing."""
    amount = opt_dec(row.get("foreignamount"))
    if amount is not None:
        return amount * conv.LINE_AMOUNT_SIGN
    return (abs(dec(row.get("quantity"))) * dec(row.get("rate"))).quantize(
        money_step(currency), rounding=conv.LINE_AMOUNT_ROUNDING)


def company_rate(header: Mapping[str, Any], currency: str, company_currency: str) -> Decimal | None:
    """Company-currency units per one unit of the order's currency: 1 in the company currency, else the
    order's ``exchangerate`` (None when NetSuite did not give one)."""
    if currency.upper() == company_currency.upper():
        return Decimal(1)
    rate = opt_dec(header.get("exchangerate"))
    return rate if rate is not None and rate > 0 else None


def credit_memo_external_id(reference: str) -> str:
    """The credit memo's external id for a credit note reference (allowed characters only)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", reference.strip())
    return (conv.CREDIT_MEMO_EXTERNAL_ID_PREFIX + cleaned)[:300]


def reference_from_credit_memo_external_id(external_id: str | None) -> str | None:
    if not external_id:
        return None
    if external_id.upper().startswith(conv.CREDIT_MEMO_EXTERNAL_ID_PREFIX.upper()):
        return external_id[len(conv.CREDIT_MEMO_EXTERNAL_ID_PREFIX):] or None
    return external_id


def is_amount_only_line(row: Mapping[str, Any]) -> bool:
    """A credit memo line that credits money only (see conventions), not goods."""
    return str(row.get("memo") or "").strip() == conv.AMOUNT_CREDIT_DESCRIPTION


def credit_note_from_row(row: Mapping[str, Any], invoice_number: str | None,
                         lines: Sequence[ErpOrderLine]) -> CreditNote:
    """A SuiteQL credit memo row (with its goods lines) as the port's ``CreditNote`` (total positive)."""
    letter = status_letter(row)
    memo = str(row.get("memo") or "")
    returned = memo.lower().startswith(conv.GOODS_RETURNED_MARK.lower())
    reason = memo[len(conv.GOODS_RETURNED_MARK):].lstrip(" .") if returned else memo
    return CreditNote(
        number=row.get("tranid") or None, total=abs(dec(row.get("foreigntotal"))),
        state=conv.CREDIT_MEMO_STATE.get(letter, letter.lower() or "unknown"),
        credit_date=parse_date(row.get("trandate")),
        reference=reference_from_credit_memo_external_id(row.get("externalid")) or row.get("tranid") or None,
        reason=reason, goods_returned=returned, invoice_number=invoice_number, lines=tuple(lines),
        credit_note_id=str(row["id"]),
    )


def credit_memo_text(reason: str, goods_returned: bool) -> str:
    """The credit memo's ``memo``: the reason, marked when goods came back."""
    text = f"{conv.GOODS_RETURNED_MARK}. {reason}" if goods_returned else reason
    return text[:conv.MEMO_MAX]


def implied_tax_rate(tax: Decimal, taxable: Decimal, step: Decimal = _CENT) -> Decimal:
    """The simplest decimal rate that gives ``tax`` (rounded half-up to ``step``, the minor unit) on
    ``taxable``: 4.44 on 22.19 -> 0.2 (the quotient 0.20009 is only the rounded figures' ratio)."""
    if taxable <= 0 or tax <= 0:
        return Decimal(0)
    low, high = (tax - step / 2) / taxable, (tax + step / 2) / taxable
    middle = tax / taxable
    for places in range(0, 9):
        unit = Decimal(1).scaleb(-places)
        for candidate in (middle.quantize(unit, rounding=ROUND_FLOOR), middle.quantize(unit, rounding=ROUND_CEILING)):
            if low <= candidate < high and (taxable * candidate).quantize(step, rounding=ROUND_HALF_UP) == tax:
                return candidate
    return middle


def net_for_gross(gross: Decimal, rate: Decimal, step: Decimal = _CENT) -> Decimal:
    """The net amount whose tax (rounded half-up to ``step``, the minor unit) brings it to ``gross``; the
    nearest if none does."""
    guess = (gross / (1 + rate)).quantize(step, rounding=ROUND_HALF_UP)
    for net in (guess, guess - step, guess + step):
        if net + (net * rate).quantize(step, rounding=ROUND_HALF_UP) == gross:
            return net
    return guess


def order_state(letter: str, fulfilled: bool, invoices: Iterable[Invoice] = ()) -> ErpOrderState:
    """A sales order status letter -> the integration's state.

    Billed (G) is DONE only once every live invoice is paid (else the follow-up keeps watching it); Closed
    (H) is CANCELLED when nothing was fulfilled or billed (our cancel closes every line), else DONE.
    """
    live = [inv for inv in invoices if inv.state != "cancelled"]
    if letter == conv.SO_BILLED:
        return ErpOrderState.DONE if all(inv.amount_due == 0 for inv in live) else ErpOrderState.COMMITTED
    if letter == conv.SO_CLOSED:
        return ErpOrderState.DONE if fulfilled or live else ErpOrderState.CANCELLED
    try:
        return conv.SO_STATE[letter]
    except KeyError:
        raise ErpTechnicalError(f"unknown NetSuite sales order status {letter!r}") from None


def fulfilment_state(letter: str) -> str:
    return conv.FULFILMENT_STATE.get(letter, letter.lower() or "unknown")


def invoice_state(letter: str) -> str:
    return conv.INVOICE_STATE.get(letter, letter.lower() or "unknown")
