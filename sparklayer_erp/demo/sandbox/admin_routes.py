"""``/_sandbox/``: the buyer and the operator of the fake shop (not part of the SparkLayer API, no auth).

``SandboxAdmin`` (admin.py) is the client for these routes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sparklayer_erp.demo.sandbox import customers, sync_log
from sparklayer_erp.demo.sandbox.api_routes import json_body, sandbox_of
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, JsonResponse, bad_request, not_found
from sparklayer_erp.demo.sandbox.validate import Checker


def _order_fields(body: Any, *, place: bool) -> dict[str, Any]:
    check = Checker()
    data = check.root_object(body)
    keys = ("customer", "lines", "payment_method", "po_number", "unit_price_overrides") if place else (
        "lines", "unit_price_overrides")
    check.only_keys(data, keys)
    if place:
        check.text(data, "customer", required=True, max_len=255)
        check.text(data, "payment_method", required=True, max_len=64)
        check.text(data, "po_number", max_len=255, blank=True)
    check.array(data, "lines", required=True)
    check.obj(data, "unit_price_overrides")
    check.raise_if_any("the order request is invalid")
    return data


async def place_order(request: Request) -> Response:
    data = _order_fields(await json_body(request), place=True)
    order = sandbox_of(request).place_order(data["customer"], data["lines"], data["payment_method"],
                                            data.get("po_number"), data.get("unit_price_overrides"))
    return JsonResponse(order, status_code=201)


async def cancel_order(request: Request) -> Response:
    return JsonResponse(sandbox_of(request).cancel_order(request.path_params["purchase_id"]))


async def amend_order(request: Request) -> Response:
    data = _order_fields(await json_body(request), place=False)
    return JsonResponse(sandbox_of(request).amend_order(request.path_params["purchase_id"], data["lines"],
                                                        data.get("unit_price_overrides")))


async def get_purchase(request: Request) -> Response:
    return JsonResponse(sandbox_of(request).get_purchase(request.path_params["purchase_id"]))


async def get_customer(request: Request) -> Response:
    sandbox = sandbox_of(request)
    identifier = request.path_params["identifier"]
    with sandbox.db.tx() as conn:
        doc = customers.find_any(conn, identifier)
    if doc is None:
        raise not_found("customer", identifier, "identifier")
    return JsonResponse(doc)


async def group_settings(request: Request) -> Response:
    return JsonResponse(customers.set_settings(sandbox_of(request).db, request.path_params["slug"],
                                               await json_body(request)))


async def writes(request: Request) -> Response:
    raw = request.query_params.get("since")
    try:
        since = int(raw) if raw is not None else None
    except ValueError:
        raise bad_request("invalid-type", "since is the seq of a write log entry", "since") from None
    return JsonResponse(sandbox_of(request).writes(since))


async def faults(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if request.method == "GET":
        return JsonResponse(sandbox.faults.snapshot())
    if request.method == "DELETE":
        return JsonResponse(sandbox.clear_faults())
    body = Checker().root_object(await json_body(request))
    revoke = body.pop("revoke_tokens", False)
    try:
        snapshot = sandbox.set_faults(**body)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, str(exc), [FieldError("invalid", str(exc), "")]) from None
    if revoke is True:
        snapshot["revoked_tokens"] = sandbox.revoke_tokens()
    return JsonResponse(snapshot)


async def tokens(request: Request) -> Response:
    return JsonResponse(sandbox_of(request).tokens.counts())


async def sync_log_errors(request: Request) -> Response:
    return JsonResponse(sync_log.get_status(sandbox_of(request).db, request.path_params["integration"],
                                            request.path_params["data_type"], with_errors=True))


async def reset(request: Request) -> Response:
    sandbox_of(request).reset()
    return Response(status_code=204)


ROUTES = [
    Route("/_sandbox/orders", place_order, methods=["POST"]),
    Route("/_sandbox/orders/{purchase_id}/cancel", cancel_order, methods=["POST"]),
    Route("/_sandbox/orders/{purchase_id}/amend", amend_order, methods=["POST"]),
    Route("/_sandbox/purchases/{purchase_id}", get_purchase, methods=["GET"]),
    Route("/_sandbox/customers/{identifier}", get_customer, methods=["GET"]),
    Route("/_sandbox/groups/{slug}/settings", group_settings, methods=["PUT"]),
    Route("/_sandbox/writes", writes, methods=["GET"]),
    Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sandbox/tokens", tokens, methods=["GET"]),
    Route("/_sandbox/sync-log/{integration}/{data_type}", sync_log_errors, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
]
