"""The ``packages`` of a SparkLayer purchase as the ERP's deliveries show them (pure; used by the mapper).

SparkLayer derives what the buyer sees from where the ordered units sit: in the "incoming" package (still
open), in "shipment" packages (left the warehouse) or in a "cancellation" package (will not come); goods
that came back are repeated in a "return" package (``erp-return-<credit note>``). So each
ERP shipment becomes its own package, ``erp-shipment-<shipment>``, holding the units it carried with their
share of the line's money, and the units the ERP cancelled after the point of no return move to
``erp-cancellation-<order>``; what is left stays in the buyer's incoming package.

Every write starts again from the ordered lines: the pieces this module wrote last time (packages whose id
starts ``erp-``) are put back together with the incoming ones first, so writing twice gives the same
packages, never a second copy of a shipment. Money is split exactly: each piece gets its share rounded to
the precision of the original amount, and the last piece of a line takes what is left, so the pieces of a
line always add up to the line.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sparklayer_erp.domain.order_lifecycle import PackageOut, StatusUpdate
from sparklayer_erp.sparklayer.models import JsonDict
from sparklayer_erp.sparklayer.wire import format_datetime

OUR_PACKAGE_PREFIX = "erp-"  # identifiers.sparklayer_package_id of every package the integration writes
_FULFILLED = frozenset({"shipped", "complete"})
_MONEY_KEYS = ("total_net", "total_tax", "total_gross", "discount_net", "discount_gross")


def package_id(out: PackageOut) -> str:
    """The stable SparkLayer id of the package written for ``out``: one per ERP shipment."""
    return f"{OUR_PACKAGE_PREFIX}{out.type}-{out.reference or 'order'}"


def ours(package: Mapping[str, Any]) -> bool:
    pid = (package.get("identifiers") or {}).get("sparklayer_package_id") or ""
    return str(pid).startswith(OUR_PACKAGE_PREFIX)


# --- ordered lines, put back together ------------------------------------------------------------------------


def _sku(line: Mapping[str, Any]) -> str:
    ids = line.get("identifiers") or {}
    return str((ids.get("sku") if isinstance(ids, Mapping) else None) or line.get("sku") or "")


def _number(obj: Any) -> Decimal | None:
    if not isinstance(obj, Mapping) or obj.get("number") is None:
        return None
    return Decimal(str(obj["number"]))


def _text(value: Decimal, like: Any) -> str:
    """``value`` at the precision of the amount it was split from (``"28.80"`` → two places)."""
    original = str(like.get("number")) if isinstance(like, Mapping) else ""
    places = len(original.split(".", 1)[1]) if "." in original else 0
    step = Decimal(1).scaleb(-places)
    return str(value.quantize(step, rounding=ROUND_HALF_UP))


@dataclass
class _Ordered:
    """One ordered line: its document (quantity and money as ordered) and what is still unallocated."""

    doc: JsonDict
    quantity: int
    pieces: list[tuple[str, int]] = field(default_factory=list)  # (package key, quantity), in order

    @property
    def left(self) -> int:
        return self.quantity - sum(q for _, q in self.pieces)


def _line_key(line: Mapping[str, Any]) -> str:
    """What makes two pieces parts of one ordered line: everything but the quantity and the line total."""
    rest = {k: v for k, v in line.items() if k not in ("quantity", "line_total")}
    return json.dumps(rest, sort_keys=True, default=str)


def _merge(lines: Sequence[Mapping[str, Any]]) -> list[_Ordered]:
    """The ordered lines: pieces of one line (same SKU, price and name) summed back, in first-seen order."""
    merged: dict[str, _Ordered] = {}
    for line in lines:
        key = _line_key(line)
        quantity = int(line.get("quantity") or 0)
        if key not in merged:
            merged[key] = _Ordered(copy.deepcopy(dict(line)), quantity)
            continue
        into = merged[key]
        into.quantity += quantity
        totals = into.doc.get("line_total")
        more = line.get("line_total") or {}
        if isinstance(totals, dict):
            for name in _MONEY_KEYS:
                a, b = _number(totals.get(name)), _number(more.get(name))
                if a is not None and b is not None:
                    totals[name] = {**totals[name], "number": _text(a + b, totals[name])}
    for ordered in merged.values():
        ordered.doc["quantity"] = ordered.quantity
    return list(merged.values())


def _allocate(ordered: list[_Ordered], key: str, sku: str, quantity: int) -> None:
    """Give ``quantity`` units of ``sku`` to package ``key`` from the ordered lines that still have some
    (more than was ordered is capped: SparkLayer cannot show units nobody ordered)."""
    for line in ordered:
        if quantity <= 0:
            return
        if _sku(line.doc) != sku or line.left <= 0:
            continue
        take = min(line.left, quantity)
        line.pieces.append((key, take))
        quantity -= take


def _pieces(line: _Ordered) -> list[tuple[str, JsonDict]]:
    """The line split into its pieces (package key → line document), money shared out exactly."""
    parts = list(line.pieces)
    if line.left > 0:
        parts.append(("incoming", line.left))
    out: list[tuple[str, JsonDict]] = []
    totals = line.doc.get("line_total") if isinstance(line.doc.get("line_total"), Mapping) else None
    given: dict[str, Decimal] = {}
    for index, (key, quantity) in enumerate(parts):
        doc = copy.deepcopy(line.doc)
        doc["quantity"] = quantity
        if totals is not None and line.quantity > 0:
            shares = {}
            for name in _MONEY_KEYS:
                whole = _number(totals.get(name))
                if whole is None:
                    continue
                if index == len(parts) - 1:
                    share = whole - given.get(name, Decimal(0))
                else:
                    share = Decimal(_text(whole * quantity / line.quantity, totals[name]))
                given[name] = given.get(name, Decimal(0)) + share
                shares[name] = {**totals[name], "number": _text(share, totals[name])}
            doc["line_total"] = {**totals, **shares}
        out.append((key, doc))
    return out


# --- packages ---------------------------------------------------------------------------------------------------


def _package_doc(out: PackageOut, lines: list[JsonDict], template: Mapping[str, Any]) -> JsonDict:
    doc: JsonDict = {
        "identifiers": {"sparklayer_package_id": package_id(out)},
        "type": out.type,
        "line_items": lines,
        "shipments": [
            {k: v for k, v in {
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "shipped_at": format_datetime(dt.datetime.combine(s.shipped_at, dt.time(), dt.UTC))
                if s.shipped_at else None,
            }.items() if v is not None}
            for s in out.shipments
        ],
    }
    for key in ("shipping_method", "shipping_address"):
        if template.get(key) is not None:
            doc[key] = copy.deepcopy(template[key])
    return doc


def purchase_packages(raw: Mapping[str, Any], update: StatusUpdate) -> list[JsonDict]:
    """The purchase's ``packages`` for the full-replace PUT.

    Packages nobody in the integration wrote (a buyer's return, the platform's own) are kept as they are.
    When the ERP calls the order shipped or complete but some units could not be placed in a shipment (the
    ERP did not say what a shipment carried, or a unit could not be converted), those units go to the last
    shipment, so SparkLayer's own fulfilment status agrees with the status written.
    """
    packages = [p for p in raw.get("packages") or [] if isinstance(p, Mapping)]
    incoming = [p for p in packages if p.get("type") == "incoming" and not ours(p)]
    written = [p for p in packages if ours(p)]
    kept = [copy.deepcopy(p) for p in packages if p.get("type") != "incoming" and not ours(p)]
    ordered = _merge([li for p in incoming + written for li in p.get("line_items") or []
                      if isinstance(li, Mapping)])
    template = incoming[0] if incoming else (written[0] if written else {})

    outs = list(update.packages)
    for out in outs:
        if out.type == "return":
            continue  # goods that came back repeat shipped units: they are not taken from the order again
        for line in out.lines:
            _allocate(ordered, package_id(out), line.sku, line.quantity)
    shipments = [o for o in outs if o.type == "shipment"]
    if update.status in _FULFILLED and shipments:
        last = package_id(shipments[-1])
        for line in ordered:
            if line.left > 0:
                line.pieces.append((last, line.left))

    by_package: dict[str, list[JsonDict]] = {}
    for line in ordered:
        for key, doc in _pieces(line):
            by_package.setdefault(key, []).append(doc)

    result: list[JsonDict] = []
    if by_package.get("incoming") or update.status not in _FULFILLED or not shipments:
        base = copy.deepcopy(dict(incoming[0])) if incoming else {
            "identifiers": {"sparklayer_package_id": f"{OUR_PACKAGE_PREFIX}incoming"}, "type": "incoming",
        }
        base["line_items"] = by_package.get("incoming", [])
        result.append(base)
    result.extend(_package_doc(o, _returned(o, ordered) if o.type == "return" else by_package.get(package_id(o), []),
                               template) for o in outs)
    return result + kept


def _returned(out: PackageOut, ordered: Sequence[_Ordered]) -> list[JsonDict]:
    """A return package's lines: SKU, units and the ordered line's names, no money (the refund transaction
    carries the money; SparkLayer would otherwise count the goods twice in the order total)."""
    names = {_sku(o.doc): o.doc for o in ordered}
    out_lines = []
    for line in out.lines:
        doc: JsonDict = {"identifiers": {"sku": line.sku}, "quantity": line.quantity}
        source = names.get(line.sku) or {}
        for key in ("name_parent", "name_child"):
            if source.get(key) is not None:
                doc[key] = source[key]
        out_lines.append(doc)
    return out_lines
