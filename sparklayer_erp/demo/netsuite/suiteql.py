"""SuiteQL over the emulator's own tables: the query text runs on SQLite after a small translation.

Translation (string literals are masked first, so nothing inside quotes is touched): ``transaction`` is
quoted (an SQLite keyword); ``BUILTIN.DF(x)`` becomes a display-name sub-select chosen by the column name,
``BUILTIN.CF(t.status)`` the ``SalesOrd:B`` code; ``SYSDATE`` a function; ``TO_CHAR``/``TO_DATE``/
``TO_TIMESTAMP``/``NVL``/``TRUNC``/``TO_NUMBER`` are registered SQLite functions with Oracle format masks;
``FETCH FIRST n ROWS ONLY`` becomes ``LIMIT n``. Unknown tables and columns give NetSuite's error texts.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.netsuite import errors
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.db import PRIVATE_PREFIX, Database

MAX_LIMIT = 1000
MAX_ROWS = 100_000
QUERY_ERROR = "Invalid search query. Detailed unprocessed description follows. "
TYPE_LABELS = {"SalesOrd": ("Sales Order", nc.SALES_ORDER_STATUS), "ItemShip": ("Item Fulfillment",
               nc.FULFILLMENT_STATUS), "CustInvc": ("Invoice", nc.INVOICE_STATUS),
               "CustPymt": ("Payment", nc.PAYMENT_STATUS), "CustCred": ("Credit Memo", nc.CREDIT_MEMO_STATUS)}
_TXN_LABEL = ("(SELECT CASE df__.type WHEN 'SalesOrd' THEN 'Sales Order #' WHEN 'ItemShip' THEN 'Item Fulfillment #' "
              "WHEN 'CustInvc' THEN 'Invoice #' WHEN 'CustPymt' THEN 'Payment #' WHEN 'CustCred' THEN "
              "'Credit Memo #' ELSE '' END || df__.tranid FROM \"transaction\" df__ WHERE df__.id = {e})")
DISPLAY = {
    "entity": "(SELECT df__.entityid || ' ' || df__.companyname FROM customer df__ WHERE df__.id = {e})",
    "customer": "(SELECT df__.entityid || ' ' || df__.companyname FROM customer df__ WHERE df__.id = {e})",
    "item": "(SELECT df__.itemid FROM item df__ WHERE df__.id = {e})",
    "location": "(SELECT df__.name FROM location df__ WHERE df__.id = {e})",
    "pricelevel": "(SELECT df__.name FROM pricelevel df__ WHERE df__.id = {e})",
    "level": "(SELECT df__.name FROM pricelevel df__ WHERE df__.id = {e})",
    "currency": "(SELECT df__.name FROM currency df__ WHERE df__.id = {e})",
    "terms": "(SELECT df__.name FROM term df__ WHERE df__.id = {e})",
    "subsidiary": "(SELECT df__.name FROM subsidiary df__ WHERE df__.id = {e})",
    "unitstype": "(SELECT df__.name FROM unitstype df__ WHERE df__.id = {e})",
    "units": "(SELECT df__.unitname FROM unitstypeuom df__ WHERE df__.internalid = {e})",
    "saleunit": "(SELECT df__.unitname FROM unitstypeuom df__ WHERE df__.internalid = {e})",
    "baseunit": "(SELECT df__.unitname FROM unitstypeuom df__ WHERE df__.internalid = {e})",
    "stockunit": "(SELECT df__.unitname FROM unitstypeuom df__ WHERE df__.internalid = {e})",
    "creditholdoverride": "(CASE {e} WHEN 'AUTO' THEN 'Auto' WHEN 'ON' THEN 'On' WHEN 'OFF' THEN 'Off' END)",
    "createdfrom": _TXN_LABEL, "transaction": _TXN_LABEL, "previousdoc": _TXN_LABEL, "nextdoc": _TXN_LABEL,
}
_FORMAT_TOKENS = [("YYYY", "%Y"), ("HH24", "%H"), ("HH12", "%I"), ("HH", "%I"), ("MI", "%M"), ("SS", "%S"),
                  ("MM", "%m"), ("DD", "%d"), ("YY", "%y"), ("AM", "%p"), ("PM", "%p"), ("MON", "%b"),
                  ("DS", "%m/%d/%Y"), ("TS", "%I:%M:%S %p")]
_BUILTIN = re.compile(r"BUILTIN\.(DF|CF)\s*\(\s*((?:\w+\.)?)(\w+)\s*\)", re.IGNORECASE)
_FROM = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(?!ON\b|WHERE\b|JOIN\b|LEFT\b|INNER\b|RIGHT\b|"
                   r"ORDER\b|GROUP\b|CROSS\b|FULL\b|OUTER\b)(\w+))?", re.IGNORECASE)


def _oracle_format(mask: str) -> str:
    out, i = "", 0
    upper = mask.upper()
    while i < len(mask):
        for token, code in _FORMAT_TOKENS:
            if upper.startswith(token, i):
                out += code
                i += len(token)
                break
        else:
            out += mask[i]
            i += 1
    return out


def _parse_moment(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    text = str(value)
    for fmt in (nc.DATETIME_FORMAT, nc.DATE_FORMAT, "%Y-%m-%dT%H:%M:%SZ", "%m/%d/%Y", "%m/%d/%Y %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _to_char(value: Any, mask: str | None = None) -> str | None:
    if value is None:
        return None
    moment = _parse_moment(value) if mask else None
    if mask and moment is not None:
        return moment.strftime(_oracle_format(mask))
    return _text(value)


def _to_moment(text: Any, mask: str | None = None, *, date_only: bool) -> str | None:
    if text is None:
        return None
    try:
        moment = (dt.datetime.strptime(str(text), _oracle_format(mask)) if mask else _parse_moment(text))
    except ValueError:
        moment = None
    if moment is None:
        raise sqlite3.OperationalError(f"Unparseable date: {text}")
    if date_only and moment.time() == dt.time(0):
        return moment.strftime(nc.DATE_FORMAT)
    return moment.strftime(nc.DATETIME_FORMAT)


def _trunc(value: Any, unit: Any = None) -> Any:
    moment = _parse_moment(value)
    if moment is not None:
        return moment.strftime(nc.DATE_FORMAT)
    return int(float(value)) if value is not None else None


def _status_code(kind: Any, status: Any) -> str | None:
    return None if status is None else f"{kind}:{status}" if kind else str(status)


def _status_label(kind: Any, status: Any) -> str | None:
    if status is None:
        return None
    label, names = TYPE_LABELS.get(str(kind), ("", {}))
    name = names.get(str(status), str(status))
    return f"{label} : {name}" if label else name


def register_functions(conn: sqlite3.Connection, db: Database) -> None:
    conn.create_function("TO_CHAR", 1, _to_char, deterministic=True)
    conn.create_function("TO_CHAR", 2, _to_char, deterministic=True)
    conn.create_function("TO_DATE", 1, lambda t: _to_moment(t, date_only=True))
    conn.create_function("TO_DATE", 2, lambda t, m: _to_moment(t, m, date_only=True))
    conn.create_function("TO_TIMESTAMP", 1, lambda t: _to_moment(t, date_only=False))
    conn.create_function("TO_TIMESTAMP", 2, lambda t, m: _to_moment(t, m, date_only=False))
    conn.create_function("TO_NUMBER", 1, lambda v: None if v is None else float(v) if "." in str(v) else int(v))
    conn.create_function("NVL", 2, lambda a, b: b if a is None else a, deterministic=True)
    conn.create_function("TRUNC", 1, _trunc)
    conn.create_function("TRUNC", 2, _trunc)
    conn.create_function("NS_SYSDATE", 0, db.now)
    conn.create_function("NS_STATUS_CODE", 2, _status_code, deterministic=True)
    conn.create_function("NS_STATUS_LABEL", 2, _status_label, deterministic=True)


def _mask_literals(query: str) -> tuple[str, list[str]]:
    literals: list[str] = []

    def keep(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"\x00{len(literals) - 1}\x00"

    return re.sub(r"'(?:[^']|'')*'", keep, query), literals


def _builtin(match: re.Match[str]) -> str:
    kind, prefix, column = match.group(1).upper(), match.group(2), match.group(3)
    expr = f"{prefix}{column}"
    if column.lower() == "status":
        return f"NS_STATUS_{'CODE' if kind == 'CF' else 'LABEL'}({prefix}type, {expr})"
    if kind == "DF" and column.lower() in DISPLAY:
        return DISPLAY[column.lower()].format(e=expr)
    return expr


def translate(query: str) -> str:
    masked, literals = _mask_literals(query)
    private = re.search(rf"\b(?:{PRIVATE_PREFIX}\w+|sqlite_\w+)", masked, re.IGNORECASE)
    if private:
        raise _query_error(f"Invalid search type: {private.group(0).lower()}.")
    masked = _BUILTIN.sub(_builtin, masked)
    masked = re.sub(r'(?<![\w"])transaction(?![\w"])', '"transaction"', masked, flags=re.IGNORECASE)
    masked = re.sub(r"\bSYSDATE\b", "NS_SYSDATE()", masked, flags=re.IGNORECASE)
    masked = re.sub(r"\bFETCH\s+(?:FIRST|NEXT)\s+(\d+)\s+ROWS?\s+ONLY\b", r"LIMIT \1", masked, flags=re.IGNORECASE)
    return re.sub("\x00(\\d+)\x00", lambda m: literals[int(m.group(1))], masked)


def _query_error(description: str) -> errors.NsError:
    return errors.NsError(400, "INVALID_PARAMETER", QUERY_ERROR + description, errorQueryParam="q")


def _identifiers(query: str) -> str:
    masked, _ = _mask_literals(query)
    pairs = [f"{(alias or table).lower()}={table.lower()}" for table, alias in _FROM.findall(masked)]
    return "{" + ", ".join(dict.fromkeys(pairs)) + "}"


def _text(value: Any) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(round(value, 9))).normalize(), "f")
    return str(value)


def run(db: Database, query: str, params: list[Any], limit: int, offset: int) -> tuple[list[dict[str, str]], int]:
    """(items of the page, total results capped at 100,000)."""
    if not isinstance(query, str) or not query.strip():
        raise _query_error("Search error occurred: Empty query.")
    sql = translate(query)
    try:
        with db.tx() as conn:
            cursor = conn.execute(sql, [_param(p) for p in params])
            rows = cursor.fetchmany(MAX_ROWS)
            names = [d[0] for d in cursor.description or []]
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if message.startswith("no such table: "):
            raise _query_error(f"Invalid search type: {message.split(': ', 1)[1].lower()}.") from None
        if message.startswith("no such column: "):
            ident = message.split(": ", 1)[1]
            raise _query_error(f"Search error occurred: Unknown identifier '{ident}'. Available identifiers are: "
                               f"{_identifiers(query)}.") from None
        raise _query_error(f"Search error occurred: {message}.") from None
    except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
        raise _query_error(f"Search error occurred: {exc}.") from None
    keys, n = [], 0
    for name in names:
        if re.fullmatch(r"\w+", name):
            keys.append(name.lower())
        else:
            n += 1
            keys.append(f"expr{n}")
    page = []
    for row in rows[offset: offset + limit]:
        item: dict[str, Any] = {"links": []}
        for key, value in zip(keys, row, strict=True):
            if value is None:
                if not nc.OMIT_NULL_COLUMNS:
                    item[key] = None
                continue
            item[key] = _text(value)
        page.append(item)
    return page, len(rows)


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, (int, float, str)) or value is None:
        return value
    raise _query_error("Search error occurred: Invalid parameter value.")
