"""Every choice we made where the SparkLayer API reference says "not confirmed" — in one place.

The client (``sparklayer_erp.sparklayer``) and the local sandbox (``sparklayer_erp.demo.sandbox``) both import
these, so they cannot drift apart; when the live OpenAPI specs confirm or contradict one, change it here.
The README's SparkLayer section lists the same choices for people.

Documented facts (not choices) are not repeated here: paths, token lifetime, RFC 7807, limit/offset and
page/page_size pagination, full-replace PUT, replace-per-SKU pricing PATCH, stock upsert per SKU+location.
"""

from __future__ import annotations

# 1. Token response: documented keys are access_token and expires_in; we also send/accept token_type.
TOKEN_TYPE = "Bearer"
TOKEN_LIFETIME_S = 3600
TOKEN_RENEW_BEFORE_S = 60  # renew this long before expiry (what third-party clients do)

# 2. GET /api/v1/purchases answers a bare JSON array (the legacy shape); ascending by last update is
#    requested with this order_by value so that a limit/offset walk is stable.
PURCHASES_ORDER_BY_ASC = "last_updated:asc"
PURCHASES_MAX_LIMIT = 500
PRICE_LISTS_MAX_PAGE_SIZE = 250
FILTER_UPDATED_GTE = "dates[last_updated][gte]"
FILTER_UPDATED_LTE = "dates[last_updated][lte]"
FILTER_PLACED_GTE = "dates[placed][gte]"
FILTER_PLACED_LTE = "dates[placed][lte]"
FILTER_TYPE = "type"
FILTER_CUSTOMER = "customer_identifiers[sparklayer]"

# 3. Purchase shape details.
#    - line item: identifiers.sku (SKU key), quantity (int, base units), unit_total (MonetaryObject, net per
#      unit), line_total {total_net, total_tax, total_gross, discount_net, discount_gross}, tax_rate
#      (decimal string, percent, e.g. "20").
#    - dates keys: placed, last_updated, cancelled (ISO 8601 UTC strings).
#    - customer_identifiers keys: sparklayer (customer UUID) and platform (platform customer id).
#    - status: the legacy display status enum below, writable on PUT; a buyer/store cancellation sets it
#      to "cancelled" and dates.cancelled.
#    - shipping: total_shipping (MonetaryObject, net) and shipping_tax (MonetaryObject).
PURCHASE_STATUSES = ("incoming", "processing", "shipped", "part_shipped", "returned", "complete",
                     "cancelled", "on_hold")
PURCHASE_TYPES = ("cart", "quote", "awaiting_approval", "order_unconfirmed", "order")
PAYMENT_METHODS = ("invoice", "on_account", "platform_upfront")
LOOKUP_KINDS = ("sparklayer", "platform", "internal", "visible")

# 4. packages[].type values: "incoming" (placed, not yet fulfilled), "shipment", "cancellation", "return".
#    packages[].shipments[]: {carrier, carrier_id, tracking_number, tracking_url, shipped_at}.
PACKAGE_TYPES = ("incoming", "shipment", "cancellation", "return")
#    Packages the integration writes (sparklayer_package_id starts "erp-"): one "shipment" package per ERP
#    shipment ("erp-shipment-<shipment>") holding the units it carried, each ordered line split over its
#    packages with its line_total shared out exactly (so calculated_total does not move); the units the ERP
#    cancelled after the point of no return in "erp-cancellation-<order>"; goods that came back (an ERP credit
#    note for returned goods) in "erp-return-<credit note>" with units only, no money (a return repeats
#    shipped units, and the refund transaction carries the money).

# 5. accounting_files[]: {identifiers: {visible: <invoice number>}, data: {type: "uri", uri: <url>},
#    file_type: "invoice"}.  transactions: {platform_id, type: "payment"|"refund", total: MonetaryObject,
#    apply_to_balance: bool, created_at, full_transaction: {...}}.

# 6. Customers v2: payment_on_account keys. Get/list paths are inferred from the upsert path:
#    GET /api/v2/customers/{lookupBy}/{identifier} and GET /api/v2/customers?page=&page_size= (paginated
#    like v2 price lists: {data, pagination}).
POA_CREDIT_LIMIT = "credit_limit"
POA_BALANCE = "balance"
POA_BALANCE_DATE = "balance_date"
POA_CURRENCY = "currency_code"
POA_NET_TERMS = "net_terms_days"
CUSTOMER_LOOKUPS = ("platform", "email", "sparklayer")

# 7. Credit hold: SparkLayer has no hold flag. A customer on hold in the ERP is moved to this customer
#    group, whose payment methods exclude on_account and invoice (card only), and released back to their
#    normal group. Group payment methods are read with GET /api/v1/settings/{slug} -> {"payment_methods": [...]}.
CREDIT_HOLD_GROUP = "credit-hold"
DEFAULT_GROUP = "trade"
BASE_GROUP = "base"

# 8. 409 bodies: code "concurrent-update" is retryable; anything else (resource-already-exists, ...) is a
#    genuine conflict and never retried.
RETRYABLE_409_CODE = "concurrent-update"

# 9. Pricing GET /api/v1/price-lists/{slug}/pricing answers a flat array of
#    {sku, quantity, price, unit_of_measure}; 204/404 are treated as empty.

# 10. Stock batch-fetch answers [{sku, stock_levels: [{stock_location_id, stock_location_external_id,
#     stock_level}]}].

# 11. Sync log data types we write, and the error entry keys.
SYNC_LOG_INTEGRATION = "sparklayer-erp"
SYNC_LOG_DATA_TYPES = ("customers", "prices", "products", "stock", "orders", "exceptions")
# error entry: {external_id, visible_id, external_url, message}

# 12. Pack sizes: on a custom (Ignite) platform they are variant settings written with
#     PATCH /api/v1/variants/{id} where id is the variant external id; our sandbox plays such a store with
#     external_id == SKU. Body: {"settings": [{"customer_group": "base", "pack_size": N}]}.
#     On platform-connected stores (Shopify/BigCommerce) pack sizes are platform metafields: set
#     SPARKLAYER_PACK_SIZE_MODE=ledger and the integration records the mapping and reports the gap.
PACK_SIZE_MODES = ("variants", "ledger")

# --- Added by the sandbox (issue 3): further choices the sandbox had to make; additive only. ---------------

# 13. v2 pagination ({data, pagination}): an empty collection answers total 0 and total_pages 1 (one empty
#     page, as Laravel-style paginators do); clients stop when current_page >= total_pages or data is empty.
#     page_size above PRICE_LISTS_MAX_PAGE_SIZE (also used for v2 customers) is a 400, not clamped.
EMPTY_TOTAL_PAGES = 1

# 14. POST /api/v1/batch-fetch-stock (and batch-delete-stock) body: {"skus": ["SKU-1", ...]}
#     (the sandbox also accepts a bare array of SKUs).
STOCK_FETCH_BODY_KEY = "skus"

# 15. calculated_fulfilment_status values, derived from packages: "incoming" (units still open),
#     "part_shipped", "shipped", "returned", "cancelled" (status cancelled or every unit in a cancellation
#     package). MonetaryObject currency is lower case as in the documented example ("gbp"): compare
#     case-insensitively.
FULFILMENT_STATUSES = ("incoming", "part_shipped", "shipped", "returned", "cancelled")

# 16. GET /api/v1/purchases without limit returns 100 rows; without order_by, newest first (by creation).
#     order_by accepts last_updated:asc|desc and placed:asc|desc; ties are broken by creation order, so a
#     limit/offset walk by last_updated:asc is stable. Unknown query parameters are a 400 (typo guard).
PURCHASES_DEFAULT_LIMIT = 100

# 17. Purchase transactions: total is positive for a payment and negative for a refund, in the purchase's
#     currency; total_paid (calculated, ignored on PUT) = sum of the totals with apply_to_balance true.
#     An ERP credit note is written as a refund with platform_id "erp-credit-<number>"; refunds whose
#     platform_id starts "erp-" are never credited back to the ERP. calculated_total leaves out "cancellation"
#     and "return" packages.
