"""Token endpoint, SuiteQL and governance routes, and the emulator's own admin routes (``/_emulator``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sparklayer_erp.demo.netsuite import errors, suiteql
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.auth import TOKEN_PATH, OAuthError
from sparklayer_erp.demo.netsuite.records import page_links, page_params, root_url
from sparklayer_erp.demo.netsuite.representation import COLLECTION


async def token(request: Request) -> Response:
    emulator = request.app.state.emulator
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    token_url = f"{root_url(request)}/auth/oauth2/v1/token"
    try:
        body = emulator.auth.issue(form, token_url)
    except OAuthError as exc:
        return JSONResponse(exc.body(), status_code=exc.status)
    return JSONResponse(body)


async def query(request: Request) -> Response:
    emulator = request.app.state.emulator
    if "transient" not in request.headers.get("prefer", "").lower():
        raise errors.NsError(400, nc.SUITEQL_PARAM_ERROR_CODE,
                             "The Prefer header with the value 'transient' is required for SuiteQL queries.",
                             errorHeader="Prefer")
    limit, offset = page_params(request.query_params.get("limit"), request.query_params.get("offset"))
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise errors.NsError(400, nc.BAD_BODY_CODE, "Invalid content in the request body") from None
    if not isinstance(body, dict) or not isinstance(body.get("q"), str):
        raise errors.NsError(400, "INVALID_PARAMETER", "The request body must contain the query in the field q.",
                             errorQueryParam="q")
    params = body.get("params") or []
    if not isinstance(params, list):
        raise errors.NsError(400, "INVALID_PARAMETER", "params must be an array.")
    if offset >= suiteql.MAX_ROWS:
        raise errors.NsError(400, nc.SUITEQL_PARAM_ERROR_CODE,
                             "Invalid value for query parameter offset. SuiteQL returns at most 100,000 rows.",
                             errorQueryParam="offset")
    items, total = suiteql.run(emulator.db, body["q"], params, limit, offset)
    base = f"{root_url(request)}/query/v1/suiteql"
    return JSONResponse({"links": page_links(base, limit, offset, total), "count": len(items),
                         "hasMore": offset + limit < total, "offset": offset,
                         "totalResults": total, "items": items}, media_type=COLLECTION)


async def governance(request: Request) -> Response:
    limit = request.app.state.emulator.faults.config.concurrency_limit
    return JSONResponse({"accountConcurrencyLimit": limit, "accountUnallocatedConcurrencyLimit": limit,
                         "integrationConcurrencyLimit": limit, "integrationLimitType": "accountLimit"})


# --- admin (not NetSuite) ----------------------------------------------------------------------------------------
async def faults(request: Request) -> Response:
    switches = request.app.state.emulator.faults
    if request.method == "DELETE":
        return JSONResponse(switches.clear())
    if request.method == "PUT":
        try:
            changes: Any = json.loads(await request.body() or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            return JSONResponse(switches.set(**changes))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(switches.snapshot())


async def reset(request: Request) -> Response:
    request.app.state.emulator.reset()
    return JSONResponse({"reset": True})


async def expire_tokens(request: Request) -> Response:
    request.app.state.emulator.auth.expire_all()
    return JSONResponse({"expired": True})


async def clock(request: Request) -> Response:
    """Move the business date (transaction dates, due dates, overdue balances) by ``offset_days``."""
    db = request.app.state.emulator.db
    if request.method == "PUT":
        try:
            days = json.loads(await request.body() or b"{}").get("offset_days", 0)
            if isinstance(days, bool) or not isinstance(days, int):
                raise ValueError("offset_days must be an integer")
        except (ValueError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        request.app.state.emulator.set_clock(days)
    return JSONResponse({"offset_days": db.clock_offset.days, "today": db.today()})


async def preferences(request: Request) -> Response:
    emulator = request.app.state.emulator
    if request.method == "PUT":
        try:
            emulator.set_preferences(**json.loads(await request.body() or b"{}"))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(emulator.preferences())


ROUTES = [
    Route(TOKEN_PATH, token, methods=["POST"]),
    Route("/services/rest/query/v1/suiteql", query, methods=["POST"]),
    Route("/services/rest/system/v1/governanceLimits", governance, methods=["GET"]),
    Route("/_emulator/faults", faults, methods=["GET", "PUT", "DELETE"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/expire-tokens", expire_tokens, methods=["POST"]),
    Route("/_emulator/preferences", preferences, methods=["GET", "PUT"]),
    Route("/_emulator/clock", clock, methods=["GET", "PUT"]),
]
