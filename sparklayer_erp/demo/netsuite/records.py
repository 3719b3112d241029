"""The record service: ``/services/rest/record/v1/{type}[/{id}[/{sublist}|/!transform/{target}]]``.

Sales orders, fulfilments and payments have their own rules (``sales_orders``, ``transactions``); master
data records (customer, item, price level, location, …) are written generically with the sublist
semantics of ``sublists``. Every write runs in one SQLite transaction with its SuiteQL projection.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sparklayer_erp.demo.netsuite import customers, errors, inventory, sales_orders, transactions
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.context import Context
from sparklayer_erp.demo.netsuite.record_types import RecordType
from sparklayer_erp.demo.netsuite.representation import (
    COLLECTION,
    SINGULAR,
    Renderer,
    parse_body,
    record_type_or_404,
)
from sparklayer_erp.demo.netsuite.store import Doc, ref_id
from sparklayer_erp.demo.netsuite.sublists import merge

MASTER_TYPES = frozenset({"customer", "inventoryItem", "unitsType", "priceLevel", "location", "currency", "term",
                          "subsidiary"})
PREFIX = "/services/rest/record/v1"


def _ctx(request: Request) -> Context:
    return request.app.state.emulator.ctx


def root_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/services/rest"


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def _no_content(request: Request, type_name: str, record_id: int | None) -> Response:
    headers = {"Location": f"{root_url(request)}/record/v1/{type_name}/{record_id}"} if record_id else {}
    return Response(status_code=204, headers=headers)


def _json(body: Any, media_type: str = SINGULAR) -> Response:
    return JSONResponse(body, media_type=media_type)


async def _body(request: Request, rtype: RecordType) -> Doc:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise errors.NsError(400, nc.BAD_BODY_CODE, "Invalid content in the request body") from None
    strict = request.headers.get("x-netsuite-propertynamevalidation", "").lower() == "error"
    return parse_body(rtype, body, strict=strict)


def _replace(request: Request) -> set[str]:
    return {s.strip().lower() for s in request.query_params.get("replace", "").split(",") if s.strip()}


def _canonical_replace(rtype: RecordType, names: set[str]) -> set[str]:
    return {s for s in rtype.sublists if s.lower() in names} | {f for f in rtype.fields if f.lower() in names}


def _resolve(ctx: Context, rtype: RecordType, token: str) -> int:
    record_id = ctx.store.resolve(ctx.conn(), rtype.name, token)
    if record_id is None:
        raise errors.nonexistent()
    return record_id


# --- generic master data -------------------------------------------------------------------------------------
def _write_master(ctx: Context, rtype: RecordType, doc: Doc, changes: Doc, replace: set[str],
                  nulls_only: set[str] | None) -> None:
    for key, value in changes.items():
        if key in rtype.sublists:
            continue
        if value is None:
            if nulls_only is None or key in nulls_only:
                doc.pop(key, None)
        else:
            doc[key] = value
    for name, sub in rtype.sublists.items():
        if name in changes or name in replace:
            lines, _ = merge(sub, (doc.get(name) or {}).get("items") or [], changes.get(name, {"items": []}),
                             replace=name in replace)
            doc[name] = {"items": lines}
    if rtype.name == "inventoryItem":
        for line in (doc.get("locations") or {}).get("items") or []:
            line["locationId"] = Decimal(ref_id(line.get("location")) or 0)
            inventory.restate(line)
    if rtype.name == "customer":
        doc.setdefault("creditHoldOverride", "AUTO")


def _create_master(ctx: Context, rtype: RecordType, body: Doc) -> int:
    doc: Doc = {}
    _write_master(ctx, rtype, doc, body, set(), None)
    if rtype.name == "customer" and not (doc.get("companyName") or doc.get("entityId") or doc.get("lastName")):
        raise sales_orders.missing("Company Name")
    if rtype.name == "inventoryItem" and not doc.get("itemId"):
        raise sales_orders.missing("Item Name/Number")
    record_id = ctx.store.insert(ctx.conn(), rtype.name, doc)
    if rtype.name == "customer":
        customers.refresh(ctx, record_id)
    return record_id


def _update_master(ctx: Context, rtype: RecordType, record_id: int, changes: Doc, replace: set[str],
                   nulls_only: set[str] | None) -> None:
    doc = ctx.load(rtype.name, record_id)
    _write_master(ctx, rtype, doc, changes, replace, nulls_only)
    ctx.store.save(ctx.conn(), rtype.name, doc)
    if rtype.name == "customer":
        customers.refresh(ctx, record_id)


# --- dispatch ----------------------------------------------------------------------------------------------
def create(ctx: Context, rtype: RecordType, body: Doc) -> int:
    if rtype.name == "salesOrder":
        return sales_orders.create(ctx, body)
    if rtype.name == "customerPayment":
        return transactions.create_payment(ctx, body)
    if rtype.name in MASTER_TYPES:
        return _create_master(ctx, rtype, body)
    raise sales_orders.rule_error(f"Create a {rtype.name} by transforming its source record.")


def update(ctx: Context, rtype: RecordType, record_id: int, changes: Doc, replace: set[str],
           nulls_only: set[str] | None) -> None:
    if rtype.name == "salesOrder":
        sales_orders.update(ctx, record_id, changes, replace=replace, nulls_only=nulls_only)
    elif rtype.name == "itemFulfillment":
        transactions.update_fulfilment(ctx, record_id, changes, replace=replace)
    elif rtype.name in MASTER_TYPES:
        _update_master(ctx, rtype, record_id, changes, replace, nulls_only)
    else:
        doc = ctx.load(rtype.name, record_id)
        doc.update({k: v for k, v in changes.items() if k not in rtype.sublists and v is not None})
        ctx.store.save(ctx.conn(), rtype.name, doc)


# --- endpoints ---------------------------------------------------------------------------------------------
async def create_record(request: Request) -> Response:
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    body = await _body(request, rtype)
    with ctx.db.tx():
        record_id = create(ctx, rtype, body)
    return _no_content(request, rtype.name, record_id)


async def get_record(request: Request) -> Response:
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    fields = request.query_params.get("fields")
    with ctx.db.tx() as conn:
        record_id = _resolve(ctx, rtype, request.path_params["rid"])
        doc = ctx.load(rtype.name, record_id)
        renderer = Renderer(ctx.store, conn, root_url(request), simple_enum=_flag(request, "simpleEnumFormat"))
        body = renderer.record(rtype, doc, expand=_flag(request, "expandSubResources"),
                               fields={f.strip().lower() for f in fields.split(",")} if fields else None)
    return _json(body)


async def get_sublist(request: Request) -> Response:
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    name = next((s for s in rtype.sublists if s.lower() == request.path_params["sub"].lower()), None)
    with ctx.db.tx() as conn:
        record_id = _resolve(ctx, rtype, request.path_params["rid"])
        if name is None:
            raise errors.NsError(404, "NONEXISTENT_FIELD", f"Sublist {request.path_params['sub']} does not exist.")
        doc = ctx.load(rtype.name, record_id)
        body = Renderer(ctx.store, conn, root_url(request)).sublist(rtype, doc, name)
    return _json(body, COLLECTION)


async def patch_record(request: Request) -> Response:
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    changes = await _body(request, rtype)
    replace = _canonical_replace(rtype, _replace(request))
    nulls_only = replace if _flag(request, "replaceSelectedFields") else None
    with ctx.db.tx():
        record_id = _resolve(ctx, rtype, request.path_params["rid"])
        update(ctx, rtype, record_id, changes, replace, nulls_only)
    return _no_content(request, rtype.name, record_id)


async def put_record(request: Request) -> Response:
    """Upsert by external id: create when no record of the type has it, else update."""
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    token = request.path_params["rid"]
    if not token.lower().startswith("eid:") or len(token) <= 4:
        raise errors.NsError(400, "INVALID_REQUEST", "The upsert operation needs an external id in the URL "
                             "(eid:<externalId>).")
    changes = await _body(request, rtype)
    changes["externalId"] = token[4:]
    replace = _canonical_replace(rtype, _replace(request))
    nulls_only = replace if _flag(request, "replaceSelectedFields") else None
    with ctx.db.tx() as conn:
        record_id = ctx.store.id_for_eid(conn, rtype.name, token[4:])
        if record_id is None:
            record_id = create(ctx, rtype, changes)
        else:
            update(ctx, rtype, record_id, changes, replace, nulls_only)
    return _no_content(request, rtype.name, record_id if nc.LOCATION_ON_UPSERT else None)


async def delete_record(request: Request) -> Response:
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    with ctx.db.tx() as conn:
        record_id = _resolve(ctx, rtype, request.path_params["rid"])
        if rtype.name == "salesOrder":
            sales_orders.delete(ctx, record_id)
        elif rtype.name in MASTER_TYPES and not rtype.suiteql_type:
            used = conn.execute('SELECT 1 FROM "transaction" WHERE entity = ? LIMIT 1', (record_id,)).fetchone() \
                if rtype.name == "customer" else None
            if used:
                raise sales_orders.rule_error("This record cannot be deleted because it has dependent records.")
            ctx.store.delete(conn, rtype.name, record_id)
        else:
            raise sales_orders.rule_error(f"The emulator does not delete {rtype.name} records.")
    return Response(status_code=204)


async def transform_record(request: Request) -> Response:
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    target = record_type_or_404(request.path_params["target"])
    body = await _body(request, target)
    with ctx.db.tx():
        source_id = _resolve(ctx, rtype, request.path_params["rid"])
        new_id = transactions.transform(ctx, rtype.name, source_id, target.name, body)
    return _no_content(request, target.name, new_id if nc.LOCATION_ON_TRANSFORM else None)


_Q = re.compile(r'^\s*(\w+)\s+(IS|EQUAL|START_WITH|CONTAIN)\s+"?([^"]*)"?\s*$', re.IGNORECASE)


async def list_records(request: Request) -> Response:
    """Ids + links only; ``q`` supports one ``field IS|EQUAL|START_WITH|CONTAIN value`` condition."""
    ctx = _ctx(request)
    rtype = record_type_or_404(request.path_params["rtype"])
    limit, offset = page_params(request.query_params.get("limit"), request.query_params.get("offset"))
    q = request.query_params.get("q")
    condition = None
    if q:
        match = _Q.match(q)
        field = rtype.canonical(match.group(1)) if match else None
        if match is None or field is None:
            raise errors.NsError(400, "INVALID_PARAMETER", f"Invalid query: {q}", errorQueryParam="q")
        condition = (field, match.group(2).upper(), match.group(3).lower())
    with ctx.db.tx() as conn:
        ids = []
        for doc in ctx.store.docs(conn, rtype.name):
            if condition:
                value = doc.get(condition[0])
                value = str(ref_id(value) if isinstance(value, dict) else value if value is not None else "").lower()
                op, wanted = condition[1], condition[2]
                if not ((op in ("IS", "EQUAL") and value == wanted) or (op == "START_WITH" and value.startswith(
                        wanted)) or (op == "CONTAIN" and wanted in value)):
                    continue
            ids.append(doc["id"])
    base = f"{root_url(request)}/record/v1/{rtype.name}"
    page = ids[offset: offset + limit]
    body = {"links": page_links(base, limit, offset, len(ids)),
            "count": len(page), "hasMore": offset + limit < len(ids), "offset": offset, "totalResults": len(ids),
            "items": [{"links": [{"rel": "self", "href": f"{base}/{i}"}], "id": i} for i in page]}
    return _json(body, COLLECTION)


def page_links(base: str, limit: int, offset: int, total: int) -> list[dict[str, str]]:
    """``next``/``prev``/``first``/``last``/``self`` links of one page (collection and SuiteQL paging)."""
    def href(at: int) -> str:
        return f"{base}{'&' if '?' in base else '?'}limit={limit}&offset={at}"

    last = max(total - 1, 0) // limit * limit
    links = []
    if offset + limit < total:
        links.append({"rel": "next", "href": href(offset + limit)})
    if offset > 0:
        links.append({"rel": "prev", "href": href(max(offset - limit, 0))})
    links += [{"rel": "first", "href": href(0)}, {"rel": "last", "href": href(last)},
              {"rel": "self", "href": href(offset)}]
    return links


def page_params(limit_text: str | None, offset_text: str | None) -> tuple[int, int]:
    """``limit`` 1..1000 (default 1000) and ``offset`` a multiple of ``limit``, else 400."""
    try:
        limit = int(limit_text) if limit_text not in (None, "") else 1000
        offset = int(offset_text) if offset_text not in (None, "") else 0
    except ValueError:
        raise errors.NsError(400, nc.SUITEQL_PARAM_ERROR_CODE, "Invalid value for the limit or offset "
                             "query parameter.") from None
    if not 1 <= limit <= 1000:
        raise errors.NsError(400, nc.SUITEQL_PARAM_ERROR_CODE,
                             "Invalid value for query parameter limit. The value must be between 1 and 1000.",
                             errorQueryParam="limit")
    if offset < 0 or offset % limit:
        raise errors.NsError(400, nc.SUITEQL_PARAM_ERROR_CODE,
                             "Invalid value for query parameter offset. The offset must be a multiple of limit.",
                             errorQueryParam="offset")
    return limit, offset


ROUTES = [
    Route(PREFIX + "/{rtype}", list_records, methods=["GET"]),
    Route(PREFIX + "/{rtype}", create_record, methods=["POST"]),
    Route(PREFIX + "/{rtype}/{rid}", get_record, methods=["GET"]),
    Route(PREFIX + "/{rtype}/{rid}", patch_record, methods=["PATCH"]),
    Route(PREFIX + "/{rtype}/{rid}", put_record, methods=["PUT"]),
    Route(PREFIX + "/{rtype}/{rid}", delete_record, methods=["DELETE"]),
    Route(PREFIX + "/{rtype}/{rid}/!transform/{target}", transform_record, methods=["POST"]),
    Route(PREFIX + "/{rtype}/{rid}/{sub}", get_sublist, methods=["GET"]),
]
