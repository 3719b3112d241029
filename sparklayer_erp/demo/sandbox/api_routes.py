"""The SparkLayer API routes (paths exactly as documented): parse, delegate to the store modules, answer.

Handlers are deliberately thin; every rule lives in the module named for the resource.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sparklayer_erp.demo.sandbox import customers, pricing, purchases, stock, sync_log, variants
from sparklayer_erp.demo.sandbox.paging import page_params, reject_unknown_params
from sparklayer_erp.demo.sandbox.problems import JsonResponse
from sparklayer_erp.demo.sandbox.service import Sandbox
from sparklayer_erp.demo.sandbox.validate import media_type, parse_json


def sandbox_of(request: Request) -> Sandbox:
    return request.app.state.sandbox


async def json_body(request: Request) -> Any:
    return parse_json(await request.body(), request.headers.get("content-type"))


def params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def no_content() -> Response:
    return Response(status_code=204)


# -- auth ---------------------------------------------------------------------------------------------------

async def token(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = await json_body(request)
    return JsonResponse(sandbox.tokens.issue(request.headers.get("site-id"), body))


# -- customers ----------------------------------------------------------------------------------------------

async def customers_list(request: Request) -> Response:
    query = params(request)
    reject_unknown_params(query, ("page", "page_size"))
    page, size = page_params(query)
    return JsonResponse(customers.list_page(sandbox_of(request).db, page, size))


async def customer_item(request: Request) -> Response:
    db = sandbox_of(request).db
    lookup_by, identifier = request.path_params["lookup_by"], request.path_params["identifier"]
    if request.method == "GET":
        return JsonResponse(customers.get(db, lookup_by, identifier))
    doc, created = customers.upsert(db, lookup_by, identifier, await json_body(request))
    return JsonResponse(doc, status_code=201 if created else 200)


async def customer_delete(request: Request) -> Response:
    customers.delete(sandbox_of(request).db, request.path_params["lookup_by"], request.path_params["identifier"])
    return no_content()


async def customer_groups(request: Request) -> Response:
    db = sandbox_of(request).db
    if request.method == "GET":
        return JsonResponse(customers.list_groups(db))
    return JsonResponse(customers.create_group(db, await json_body(request)), status_code=201)


async def group_settings(request: Request) -> Response:
    return JsonResponse(customers.get_settings(sandbox_of(request).db, request.path_params["slug"]))


# -- pricing -------------------------------------------------------------------------------------------------

async def price_lists_v2(request: Request) -> Response:
    query = params(request)
    reject_unknown_params(query, ("page", "page_size", "order_by", "source"))
    page, size = page_params(query)
    return JsonResponse(pricing.list_page(sandbox_of(request).db, query, page, size))


async def price_lists_v1(request: Request) -> Response:
    db = sandbox_of(request).db
    if request.method == "GET":
        return JsonResponse(pricing.all_lists(db))
    return JsonResponse(pricing.create_list(db, await json_body(request)), status_code=201)


async def price_list_item(request: Request) -> Response:
    db, slug = sandbox_of(request).db, request.path_params["slug"]
    if request.method == "GET":
        return JsonResponse(pricing.get_list(db, slug))
    return JsonResponse(pricing.update_list(db, slug, await json_body(request)))


async def price_list_pricing(request: Request) -> Response:
    db, slug = sandbox_of(request).db, request.path_params["slug"]
    if request.method == "GET":
        return JsonResponse(pricing.list_pricing(db, slug))
    pricing.get_list(db, slug)  # 404 before validating a body meant for a list that does not exist
    if media_type(request.headers.get("content-type")) == "text/csv":
        entries = pricing.parse_csv(await request.body(), slug)
    else:
        entries = pricing.parse_list_entries(await json_body(request), slug)
    pricing.apply(db, entries)
    return no_content()


async def batch_update_pricing(request: Request) -> Response:
    entries = pricing.parse_batch_entries(await json_body(request))
    pricing.apply(sandbox_of(request).db, entries)
    return no_content()


async def sku_pricing(request: Request) -> Response:
    return JsonResponse(pricing.sku_pricing(sandbox_of(request).db, request.path_params["sku"]))


# -- stock and variants ------------------------------------------------------------------------------------

async def stock_locations(request: Request) -> Response:
    db = sandbox_of(request).db
    if request.method == "GET":
        return JsonResponse(stock.list_locations(db))
    return JsonResponse(stock.create_location(db, await json_body(request)), status_code=201)


async def stock_location(request: Request) -> Response:
    return JsonResponse(stock.get_location(sandbox_of(request).db, request.path_params["location_id"]))


async def batch_update_stock(request: Request) -> Response:
    stock.batch_update(sandbox_of(request).db, await json_body(request))
    return no_content()


async def batch_fetch_stock(request: Request) -> Response:
    return JsonResponse(stock.batch_fetch(sandbox_of(request).db, await json_body(request)))


async def batch_delete_stock(request: Request) -> Response:
    stock.batch_delete(sandbox_of(request).db, await json_body(request))
    return no_content()


async def variant_item(request: Request) -> Response:
    db, variant_id = sandbox_of(request).db, request.path_params["variant_id"]
    if request.method == "GET":
        return JsonResponse(variants.get(db, variant_id))
    return JsonResponse(variants.patch(db, variant_id, await json_body(request)))


# -- purchases -------------------------------------------------------------------------------------------------

async def purchases_list(request: Request) -> Response:
    return JsonResponse(purchases.list_purchases(sandbox_of(request).db, params(request)))


def _purchase_key(request: Request) -> tuple[str, str]:
    return request.path_params["lookup_by"], request.path_params["identifier"]


async def purchase_item(request: Request) -> Response:
    db = sandbox_of(request).db
    lookup_by, identifier = _purchase_key(request)
    if request.method == "GET":
        return JsonResponse(purchases.get(db, lookup_by, identifier))
    if request.method == "DELETE":
        purchases.delete(db, lookup_by, identifier)
        return no_content()
    doc, created = purchases.upsert(db, lookup_by, identifier, await json_body(request))
    return JsonResponse(doc, status_code=201 if created else 200)


async def purchase_history(request: Request) -> Response:
    db = sandbox_of(request).db
    lookup_by, identifier = _purchase_key(request)
    if request.method == "GET":
        return JsonResponse(purchases.list_history(db, lookup_by, identifier))
    return JsonResponse(purchases.add_history(db, lookup_by, identifier, await json_body(request)),
                        status_code=201)


async def purchase_transactions(request: Request) -> Response:
    db = sandbox_of(request).db
    lookup_by, identifier = _purchase_key(request)
    if request.method == "GET":
        return JsonResponse(purchases.list_transactions(db, lookup_by, identifier))
    tx, created = purchases.put_transaction(db, lookup_by, identifier, await json_body(request))
    return JsonResponse(tx, status_code=201 if created else 200)


# -- sync log -----------------------------------------------------------------------------------------------------

async def sync_log_item(request: Request) -> Response:
    db = sandbox_of(request).db
    integration, data_type = request.path_params["integration"], request.path_params["data_type"]
    if request.method == "GET":
        return JsonResponse(sync_log.get_status(db, integration, data_type))
    return JsonResponse(sync_log.put_full_sync(db, integration, data_type, await json_body(request)))


async def sync_log_delete(request: Request) -> Response:
    sync_log.delete_all(sandbox_of(request).db)
    return no_content()


PURCHASE = "/api/v1/purchases/{lookup_by}/{identifier}"

ROUTES = [
    Route("/api/auth/token", token, methods=["POST"]),
    Route("/api/v2/customers", customers_list, methods=["GET"]),
    Route("/api/v2/customers/{lookup_by}/{identifier}", customer_item, methods=["GET", "PUT"]),
    Route("/api/v1/customers/{lookup_by}/{identifier}", customer_delete, methods=["DELETE"]),
    Route("/api/v1/customer-groups", customer_groups, methods=["GET", "POST"]),
    Route("/api/v1/settings/{slug}", group_settings, methods=["GET"]),
    Route("/api/v2/price-lists", price_lists_v2, methods=["GET"]),
    Route("/api/v1/price-lists", price_lists_v1, methods=["GET", "POST"]),
    Route("/api/v1/price-lists/{slug}", price_list_item, methods=["GET", "PATCH"]),
    Route("/api/v1/price-lists/{slug}/pricing", price_list_pricing, methods=["GET", "PATCH"]),
    Route("/api/v1/batch-update-pricing", batch_update_pricing, methods=["PATCH"]),
    Route("/api/v1/pricing/{sku:path}", sku_pricing, methods=["GET"]),
    Route("/api/v1/stock-locations", stock_locations, methods=["GET", "POST"]),
    Route("/api/v1/stock-locations/{location_id}", stock_location, methods=["GET"]),
    Route("/api/v1/batch-update-stock", batch_update_stock, methods=["POST"]),
    Route("/api/v1/batch-fetch-stock", batch_fetch_stock, methods=["POST"]),
    Route("/api/v1/batch-delete-stock", batch_delete_stock, methods=["POST"]),
    Route("/api/v1/variants/{variant_id}", variant_item, methods=["GET", "PATCH"]),
    Route("/api/v1/purchases", purchases_list, methods=["GET"]),
    Route(PURCHASE, purchase_item, methods=["GET", "PUT", "DELETE"]),
    Route(PURCHASE + "/history", purchase_history, methods=["GET", "POST"]),
    Route(PURCHASE + "/transactions", purchase_transactions, methods=["GET", "PUT"]),
    Route("/api/v1/sync-log/{integration}/{data_type}", sync_log_item, methods=["GET", "PUT"]),
    Route("/api/v1/sync-log", sync_log_delete, methods=["DELETE"]),
]
