"""Every choice the NetSuite adapter makes where NetSuite's documentation is silent or "not confirmed",
and every mapping convention between NetSuite and the integration — in one place.

Each constant says, in its comment, what a first real tenant should verify before go-live. Nothing here
does I/O; the adapter modules import these names instead of repeating literals.
"""

from __future__ import annotations

from sparklayer_erp.domain.models import ErpOrderState

# --- requests -------------------------------------------------------------------------------------------
# Sent on every record write so a mistyped field fails instead of being silently dropped.
# Verify: the role's forms expose every field we send (otherwise switch to "Warning" and read the warning header).
PROPERTY_NAME_VALIDATION = "Error"
# OAuth 2.0 scopes asked for in the JWT client assertion. Verify: the integration record allows REST web services.
OAUTH_SCOPES = ("rest_webservices",)
# JWT lifetime (NetSuite requires exp - iat < 60 min). Tokens are re-minted this many seconds before expiry.
JWT_LIFETIME_S = 3000
TOKEN_REFRESH_MARGIN_S = 60
# Governance: first back-off delay, cap, and the jitter share. Verify: Retry-After on 429 (honoured if present).
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
SUITEQL_PAGE = 1000  # documented maximum page size
SUITEQL_MAX_ROWS = 100_000  # documented cap per query; reaching it raises (never a silently cut result)

# --- error codes ------------------------------------------------------------------------------------------
# o:errorCode values that mean "retry later" (with back-off) rather than "refused".
RETRYABLE_CODES = frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "UNEXPECTED_ERROR"})
# A second create with an external id already used. Verify: REST code/text (SOAP says DUP_RCRD "already exists").
DUPLICATE_CODES = frozenset({"DUP_RCRD", "DUPLICATE_RECORD"})
DUPLICATE_TEXTS = ("already exists", "duplicate")
# A credit-hold / credit-limit refusal on create or approve. Verify: REST text under "Enforce Holds"
# (SOAP: USER_ERROR "Customer is on credit hold."); "Warn Only" may pass with a warning instead.
CREDIT_CODES = frozenset({"USER_ERROR", "CREDIT_HOLD", "CREDIT_LIMIT_EXCEEDED"})
CREDIT_HOLD_TEXTS = ("credit hold",)
CREDIT_LIMIT_TEXTS = ("credit limit",)
INVALID_LOGIN_CODE = "INVALID_LOGIN"
# Credit check on a Pending Approval create: kept as the reference describes it (NetSuite checks "on entry of
# a sales order", approved or not, under Enforce Holds). A pending order for a customer on hold or over the
# limit is therefore NOT entered: create_orders returns the typed refusal alone (CREDIT_HOLD / CREDIT_LIMIT,
# typed from the customer's own figures, see orders._credit_refusal), no order. The order sync raises its
# credit exception for finance and retries the create at every sweep; once credit control releases the hold
# or the limit allows it, the order is entered. (A committed create refused by the check is written again
# as Pending Approval and may then be refused too: the same result.) Verify: under "Warn Only" a real tenant
# may enter the order with a warning instead; then the refusal comes at approval, as with Tryton (the adapter
# handles both answers alike).

# --- sales orders -----------------------------------------------------------------------------------------
# orderStatus values written on create/approve (the only two REST accepts).
ORDER_STATUS_PENDING_APPROVAL = "A"
ORDER_STATUS_PENDING_FULFILLMENT = "B"
# status letters (SalesOrd:X). Verify: letters C-H come from public lists, not Oracle text.
SO_PENDING_APPROVAL = "A"
SO_PENDING_FULFILLMENT = "B"
SO_CANCELLED = "C"
SO_PARTIALLY_FULFILLED = "D"
SO_PENDING_BILLING_PARTIALLY_FULFILLED = "E"
SO_PENDING_BILLING = "F"
SO_BILLED = "G"
SO_CLOSED = "H"
SO_STATE: dict[str, ErpOrderState] = {
    SO_PENDING_APPROVAL: ErpOrderState.PENDING_APPROVAL,
    SO_PENDING_FULFILLMENT: ErpOrderState.COMMITTED,
    SO_CANCELLED: ErpOrderState.CANCELLED,
    SO_PARTIALLY_FULFILLED: ErpOrderState.COMMITTED,
    SO_PENDING_BILLING_PARTIALLY_FULFILLED: ErpOrderState.COMMITTED,
    SO_PENDING_BILLING: ErpOrderState.COMMITTED,
    # Billed: DONE once every invoice is paid (and nothing open), else still COMMITTED (see mapping.order_state)
    SO_BILLED: ErpOrderState.DONE,
    # Closed: CANCELLED when nothing was fulfilled (our cancel), else DONE (see mapping.order_state)
    SO_CLOSED: ErpOrderState.CANCELLED,
}
# Cancel = close every line (isClosed), not DELETE (the order and its history stay); REST cannot reach status
# C (Cancelled). Verify: closing is allowed for the role and the order then reads status H.
# Line price level "-1" (Custom) so NetSuite keeps our rate. Verify: the custom price level id is -1.
CUSTOM_PRICE_LEVEL_ID = "-1"
# Shipping charge: body field of the sales order. Verify: shipping items/"shippingCost" are enabled on the form.
SHIPPING_COST_FIELD = "shippingCost"
# memo length on the order (NetSuite's memo field holds 999 characters).
MEMO_MAX = 999
# external ids NetSuite accepts safely in URLs (eid:...). Ours are checked before use.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_-]{1,300}$"
# The customer payment's external id: the SparkLayer payment reference, with a prefix so it cannot collide
# with an order's external id (all transactions share one external-id namespace).
PAYMENT_EXTERNAL_ID_PREFIX = "SLPAY-"
# transactionline.quantity is in the item's BASE units (public code says so). Verify in a sandbox: if it is
# in the line's unit instead, set this to False.
LINE_QUANTITY_IN_BASE_UNITS = True
# transactionline.rate is per BASE unit too (amount = quantity x rate); the port's unit price is per the line's
# unit = rate x the unit's conversion rate, rounded to PRICE_DECIMALS. Verify: if rate is per the line's unit
# (as on the REST line), set this to False.
LINE_RATE_PER_BASE_UNIT = True
PRICE_DECIMALS = 4
# ErpOrderStatus.total_untaxed = the sum of the item lines' amounts as NetSuite rounded them (each line's
# amount = quantity x rate rounded half-up to the cent, then tax on the subtotal): SuiteQL
# transactionline.foreignamount, negative on sales lines (LINE_AMOUNT_SIGN), in the order's currency.
# total_tax = foreigntotal - that (a shipping charge counts there). SuiteQL exposes no tax total; the REST
# subtotal/taxTotal would cost one read per order. Never recomputed from rate x quantity: the rate SuiteQL
# gives is per base unit and the rounding of each line is NetSuite's, not ours.
# Verify: foreignamount is exposed to the role and is the line's rounded amount (not net of discounts).
# A line without foreignamount falls back to base quantity x base rate, rounded half-up to the cent.
LINE_AMOUNT_SIGN = -1
LINE_AMOUNT_ROUNDING = "ROUND_HALF_UP"
# The order's exchange rate (company-currency units per one unit of the order's currency) is SuiteQL
# transaction.exchangerate (the REST salesOrder body field exchangeRate; neither is in the documented subset
# of fields). Verify: the column is exposed; if not, set False (company_rate is then None for foreign orders).
ORDER_EXCHANGE_RATE_COLUMN = True

# --- fulfilments, invoices, payments ------------------------------------------------------------------------
# itemFulfillment status letters (ItemShip:A/B/C) -> the shipment words the integration uses ("done" = left).
FULFILMENT_STATE = {"A": "picked", "B": "packed", "C": "done"}
# invoice status letters (CustInvc:X) -> invoice words. Verify: D/E/V (pending approval / rejected / voided).
INVOICE_STATE = {"A": "posted", "B": "paid", "D": "draft", "E": "cancelled", "V": "cancelled"}
# credit memo status letters (CustCred:X). Verify: V (voided).
CREDIT_MEMO_STATE = {"A": "posted", "B": "paid", "V": "cancelled"}
# Credit notes = creditMemo records made by POST invoice/{id}/!transform/creditMemo (NetSuite posts them on
# save: no draft). The external id is the request's reference with this prefix (like payments: every
# transaction shares one external-id namespace with the orders' purchase ids), characters NetSuite does not
# take in an external id replaced by "_"; it is read back as the note's reference without the prefix (so a
# reference "sparklayer-refund:P1:R1" reads back "sparklayer-refund_P1_R1": its start is kept). A retry finds
# the memo by GET creditMemo/eid:... and returns it. Verify: external ids on creditMemo are allowed for the role.
CREDIT_MEMO_EXTERNAL_ID_PREFIX = "SLCM-"
# The transform body names the invoice lines to credit ("line" = the invoice's line, with "quantity"; and
# "rate" for an amount-only note); lines not named are not credited. Verify: on a real tenant the transform
# copies every invoice line — if so, send the unnamed lines with quantity 0 (or ?replace=item).
# The memo's "memo" (body) is the reason; it starts with GOODS_RETURNED_MARK when goods came back (as the
# integration writes it, and as people raising a return in NetSuite are asked to).
GOODS_RETURNED_MARK = "Goods returned"
# An amount-only credit (money, no goods) is one line on the invoice's first item line, quantity 1 in that
# line's unit, rate = the net amount, description AMOUNT_CREDIT_DESCRIPTION (how it is told apart from goods
# when read back). Its net is chosen so net + tax (rounded half-up to the cent) = the gross asked for, at the
# invoice's tax rate = taxTotal / (subtotal + shippingCost) read through REST, taken as the simplest decimal
# consistent with the rounded figures. Verify: a real tenant might prefer a non-inventory "credit" item.
AMOUNT_CREDIT_DESCRIPTION = "Credit (amount only)"
# Orders with a credit memo since a date: credit memo -> createdfrom invoice -> createdfrom sales order. A
# memo entered by hand without "created from" (only an apply line on the invoice) is not found.
# An open invoice's amountRemaining is read through the record service (SuiteQL foreignamountunpaid is not
# confirmed); a paid-in-full invoice is due nothing without a read.
INVOICE_AMOUNT_REMAINING_VIA_REST = True

# Currency code = the currency reference's refName when it is an ISO code, else the currency record's symbol.
# The order's currency is the customer's; only customers with several currencies get a read per order.
ISO_CURRENCY_PATTERN = r"^[A-Z]{3}$"

# --- customers -------------------------------------------------------------------------------------------
# Account code = customer.entityId ("Customer ID"). Verify: auto-numbering is off, or entityId holds the code.
# Credit hold: SuiteQL oncredithold = 'T', or creditHoldOverride = ON read through REST.
CREDIT_HOLD_OVERRIDE_ON = "ON"
TRUE_VALUES = frozenset({"T", "TRUE", "Y", "YES", "1", "ON"})
# Payment terms days come from the term's name ("Net 30" -> 30; names below -> 0). Verify the names in use.
IMMEDIATE_TERMS = frozenset({"immediate", "due on receipt", "cash on delivery", "cod"})
# Addresses: customer addressBook lines, each with an addressBookAddress subrecord carrying NetSuite's address
# fields. Verify: the subrecord is expanded by expandSubResources=true for the role (else read it per line).
ADDRESS_SUBRECORD = "addressBookAddress"
ADDRESS_FIELDS = {"name": "addressee", "street": ("addr1", "addr2", "addr3"), "city": "city",
                  "postal_code": "zip", "country": "country"}
# Customer details read through REST (price level, contract prices, currency) are cached this long within one
# adapter instance for the price reads; list_customers always reads them fresh (credit status).
CUSTOMER_CACHE_S = 120.0

# --- price lists -------------------------------------------------------------------------------------------
# The Base Price level: its prices are the items' list prices; it is not offered as a price list.
# Verify: id 1 is "Base Price" in the tenant.
BASE_PRICE_LEVEL_ID = "1"
# Price level code = the level's externalId, else its name. Verify: the codes SparkLayer uses.
# pricing.currency exists (one row per item, level, currency and break); a level's currency is the company
# currency when it has rows in it, else the one currency of its rows. Verify: the column name; if absent set
# False and every price is taken to be in the company currency (NETSUITE settings' currency).
PRICING_CURRENCY_COLUMN = True
# A customer with itemPricing rows has a contract price list named with this prefix + account code.
CONTRACT_PRICE_LIST_PREFIX = "CONTRACT-"
# Prices (pricing.unitprice, customer itemPricing price) are per BASE unit and pricing.quantity breaks are in
# base units. Verify: the pricing table's saleunit column suggests prices might be per sale unit instead.
PRICES_PER_BASE_UNIT = True

# --- warehouses -------------------------------------------------------------------------------------------
# Location <-> warehouse code: NETSUITE_LOCATIONS when set, else the location's externalId, else its name.
# Verify: set NETSUITE_LOCATIONS explicitly for a real tenant (names change, ids do not).
# Reserved stock = quantitycommitted (committed to approved orders, not yet fulfilled). Verify against the
# tenant's "commit inventory" setting on sales orders.
