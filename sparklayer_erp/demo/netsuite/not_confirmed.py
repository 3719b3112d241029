"""Every choice the emulator makes where the documentation is silent or says "not confirmed", in one place.

Each constant names the behaviour a first real NetSuite tenant should verify. Changing one here changes the
emulator everywhere; nothing else in the package hard-codes these shapes.
"""

from __future__ import annotations

# --- record service ------------------------------------------------------------------------------------------
# POST with an externalId already used in the same record group (SOAP says DUP_RCRD "This record already exists").
DUPLICATE_EXTERNAL_ID_STATUS = 400
DUPLICATE_EXTERNAL_ID_CODE = "USER_ERROR"
DUPLICATE_EXTERNAL_ID_DETAIL = "Error while accessing a resource. This record already exists."
# Creating / approving a sales order for a customer on credit hold (SOAP: USER_ERROR "Customer is on credit hold.").
CREDIT_HOLD_STATUS = 400
CREDIT_HOLD_CODE = "USER_ERROR"
CREDIT_HOLD_DETAIL = "Error while accessing a resource. Customer is on credit hold."
# Account preferences (Setup > Accounting Preferences): Enforce Holds, limit includes orders, and whether the
# check also runs when an order is created in Pending Approval (NetSuite checks on entry of any sales order).
CREDIT_LIMIT_HANDLING = "ENFORCE"  # "IGNORE" | "WARN" | "ENFORCE"; WARN behaves like IGNORE in web services
CREDIT_LIMIT_INCLUDES_ORDERS = True
CREDIT_CHECK_ON_PENDING_CREATE = True
# orderStatus when a create omits it (tutorial: "initially set to value A"; really an account preference).
DEFAULT_ORDER_STATUS = "A"
# Business-rule refusals: transform to itemFulfillment while Pending Approval, fulfilment of closed lines,
# invoicing with nothing fulfilled, un-approving a fulfilled order, deleting an order with dependent records.
RULE_ERROR_STATUS = 400
RULE_ERROR_CODE = "USER_ERROR"
# Location header on PUT eid: upserts and on transforms (PATCH and POST document it).
LOCATION_ON_UPSERT = True
LOCATION_ON_TRANSFORM = True
# Unknown record type in the path (live text known, status and code not).
UNKNOWN_RECORD_TYPE_STATUS = 404
UNKNOWN_RECORD_TYPE_CODE = "INVALID_PARAMETER"
# Unknown body field with X-NetSuite-PropertyNameValidation: Error; a non-JSON body; a missing mandatory field.
UNKNOWN_FIELD_CODE = "INVALID_CONTENT"
BAD_BODY_CODE = "INVALID_CONTENT"
MISSING_FIELD_CODE = "USER_ERROR"
# Line key of the transaction item sublist for merges (observed behaviour: "line").
ITEM_LINE_KEY = "line"
# Status letters C-H of sales orders and their labels; invoice/payment/credit memo letters and labels.
SALES_ORDER_STATUS = {
    "A": "Pending Approval", "B": "Pending Fulfillment", "C": "Cancelled", "D": "Partially Fulfilled",
    "E": "Pending Billing/Partially Fulfilled", "F": "Pending Billing", "G": "Billed", "H": "Closed",
}
ORDER_STATUS = {"A": "Pending Approval", "B": "Pending Fulfillment"}
FULFILLMENT_STATUS = {"A": "Picked", "B": "Packed", "C": "Shipped"}
INVOICE_STATUS = {"A": "Open", "B": "Paid In Full", "D": "Pending Approval", "E": "Rejected", "V": "Voided"}
PAYMENT_STATUS = {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited"}
CREDIT_MEMO_STATUS = {"A": "Open", "B": "Fully Applied", "V": "Voided"}
NEW_PAYMENT_STATUS = "B"
# Body of invoice -> customerPayment transform: {"payment": amount} applies that amount (default: all due).
# Price level "-1" = custom price (lines and customer itemPricing); the Base Price level has internal id 1.
CUSTOM_PRICE_LEVEL_ID = "-1"
BASE_PRICE_LEVEL_ID = 1
# salesOrder.exchangeRate (company-currency units per one unit of the order's currency; not in the documented
# field subset): the currency record's exchangeRate when the order is entered (no rate history), copied to its
# invoices and credit memos; SuiteQL transaction.exchangerate.
# invoice -> creditMemo transform: item lines named in the body (by invoice "line" or "orderLine", with an
# optional quantity, rate and description) are the only ones credited; no lines named credits the whole
# invoice. The memo is applied to the invoice's amount remaining (the rest stays unapplied customer credit).
# Whether inventoryLocation is required on the itemFulfillment transform: not required (line/header default).
FULFILLMENT_REQUIRES_INVENTORY_LOCATION = False
# Item fulfilment lowers on-hand stock when it reaches Shipped (C); picking/packing only records quantities.
# Sales-order lines count quantityFulfilled only for shipped fulfilments.

# --- SuiteQL --------------------------------------------------------------------------------------------------
# Missing "Prefer: transient", limit outside 1..1000, offset not a multiple of limit.
SUITEQL_PARAM_ERROR_CODE = "INVALID_PARAMETER"
# NULL columns are left out of a result item (clients treat a missing key as NULL).
OMIT_NULL_COLUMNS = True
# Datetimes are stored and returned as 'YYYY-MM-DD HH:MM:SS' in UTC, dates as 'YYYY-MM-DD' (a real account
# formats unconverted dates by the user's preferences: always TO_CHAR them).
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
# transactionline.quantity (and quantityshiprecv/picked/packed/billed/committed) in BASE units, negative on
# sales lines (sales order, invoice, fulfilment); transactionline.rate per base unit; tl.id = REST orderLine.
TRANSACTION_QUANTITY_IN_BASE_UNITS = True
# pricing: one row per (item, price level, currency, quantity break) with quantity in base units (first break
# 1), unitprice per base unit, saleunit = the units type's base unit; pricing.currency exists.
FIRST_PRICE_BREAK = 1
# customer.pricelevel, customer.creditholdoverride, customeritempricing (customer, item, level, price,
# currency) are exposed to the integration role; transaction.foreignamountunpaid exists (not ...remaining).
# NextTransactionLink.linktype values: fulfilment ShipRcpt, invoice OrdBill, payment Payment, credit memo SaleRet.
LINK_TYPES = {"itemFulfillment": "ShipRcpt", "invoice": "OrdBill", "customerPayment": "Payment",
              "creditMemo": "SaleRet"}

# --- governance ---------------------------------------------------------------------------------------------
# No Retry-After on 429 (documented as absent); no per-minute frequency limit.
DEFAULT_CONCURRENCY_LIMIT = 5
# Access tokens: lifetime 3600 s, expires_in always 3600; an expired token gets 401 INVALID_LOGIN.
TOKEN_LIFETIME_S = 3600
# TBA: only the oauth_* header parameters and query parameters are signed (not a JSON body).
