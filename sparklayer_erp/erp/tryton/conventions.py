"""How the demo company is laid out in Tryton: the names the seed creates and the adapter looks up.

One place for every naming choice shared by the seed (``demo/tryton_seed.py``, which runs inside the Tryton venv
and gets these values as JSON, so keep this file pure stdlib and free of package imports) and the JSON-RPC adapter.
A real customer's Tryton will differ; these are the defaults the adapter is configured with.
"""

from __future__ import annotations

# --- database and users ---------------------------------------------------------------------------------
DB_NAME = "erp"
ADMIN_LOGIN = "admin"
# Demo-only admin password (the local ERP listens on 127.0.0.1 only). Real deployments never use it.
DEFAULT_ADMIN_PASSWORD = "admin"
ADMIN_EMAIL = "admin@demo-wholesale.example"

# The integration's own non-admin user. Deliberately NOT in the credit-limit group
# (account_credit_limit.group_credit_limit): members of that group get a skippable UserWarning instead of
# the hard UserError that makes a credit refusal a refusal. Also NOT in stock.group_stock_cancellation,
# so Tryton itself refuses to cancel a shipment that is already done.
INTEGRATION_LOGIN = "integration"
PASSWORD_ENV = "ERP_PASSWORD"  # the runtime password; the local ERP applies it when set
DEFAULT_INTEGRATION_PASSWORD = "integration-demo-pass"  # demo/test default when ERP_PASSWORD is unset
INTEGRATION_GROUPS = (
    ("sale", "group_sale"),
    ("sale", "group_sale_admin"),  # also grants write on web.shop
    ("stock", "group_stock"),
    ("account", "group_account"),  # invoices, payments (account.invoice.pay wizard)
    ("product", "group_product_admin"),  # uoms, templates, price lists (read is open to all)
    ("party", "group_party_admin"),
)

# A human ERP user for the demo ("a person in the ERP" approves orders). Same rights as the integration
# plus the credit-limit group, so Tryton lets them override a credit warning knowingly.
OPERATOR_LOGIN = "operator"
OPERATOR_PASSWORD_ENV = "ERP_OPERATOR_PASSWORD"
DEFAULT_OPERATOR_PASSWORD = "operator-demo-pass"

# --- the company ----------------------------------------------------------------------------------------
COMPANY_NAME = "Demo Wholesale Ltd"
COMPANY_PARTY_CODE = "COMPANY"
CURRENCY = "GBP"

# --- orders: the SparkLayer purchase id ------------------------------------------------------------------
# Tryton's web_shop module adds sale.sale.web_shop + web_id with the constraint web_shop_id_unique:
# Exclude(web_shop =, NULLIF(web_id, '') =). On PostgreSQL that is a real exclusion constraint; on SQLite
# (no parametrised constraints) Tryton checks it in ModelSQL.validate inside the writing transaction, and
# SQLite serialises writers. Either way a second sale with the same purchase id in the same shop is refused
# with a UserError ("web_shop.msg_sale_web_shop_id_unique"), so a retry cannot create a duplicate.
WEB_SHOP_NAME = "SparkLayer"
PURCHASE_ID_FIELD = "web_id"  # on sale.sale, together with web_shop = the shop named WEB_SHOP_NAME
WEB_SHOP_FIELD = "web_shop"
PO_NUMBER_FIELD = "reference"  # sale.sale.reference: the buyer's PO number (not unique in Tryton)

# --- customers ------------------------------------------------------------------------------------------
# party.party.code = the ERP account code ("C1001"); unique in Tryton.
CUSTOMER_CODE_FIELD = "code"
# A visible hold flag: the seed sets credit_limit_amount = 0 (Tryton then refuses confirm with a
# UserError) AND adds this party category; the adapter reports "on hold" when the category is present.
CREDIT_HOLD_CATEGORY = "Credit hold"

# --- warehouses ----------------------------------------------------------------------------------------
# stock.location codes. "WH" is Tryton's own default warehouse (storage STO, input IN, output OUT).
# "WH2" is created by the seed with its own storage/input/output locations.
# With two warehouses Tryton has no implicit default for sale.warehouse; the seed sets the integration and
# operator users' warehouse preference to WH (it arrives in the context from get_preferences), so a sale
# created without "warehouse" ships from WH. Send "warehouse" explicitly to ship from WH2.
DEFAULT_WAREHOUSE_CODE = "WH"
WAREHOUSE_CODES = ("WH", "WH2")
WAREHOUSE_NAMES = {"WH": "Main warehouse", "WH2": "North warehouse"}
STORAGE_LOCATION_CODES = {"WH": "STO", "WH2": "WH2-STO"}
INPUT_LOCATION_CODES = {"WH": "IN", "WH2": "WH2-IN"}
OUTPUT_LOCATION_CODES = {"WH": "OUT", "WH2": "WH2-OUT"}
CUSTOMER_LOCATION_CODE = "CUS"

# --- payments ------------------------------------------------------------------------------------------
# account.invoice.payment.method on the cash journal, used by the account.invoice.pay wizard to settle an
# invoice with the card payment taken at SparkLayer checkout.
PAYMENT_METHOD_NAME = "Card (SparkLayer checkout)"
BANK_PAYMENT_METHOD_NAME = "Bank transfer"  # for simulating a customer paying an on-account invoice

# --- price lists -----------------------------------------------------------------------------------------
# Every product.price_list.name is the price list CODE from demo_data: the level codes ("TRADE",
# "WHOLESALE", "DISTRIBUTOR") and contract lists "CONTRACT-<account code>" (demo_data.contract_list_code).
# Lines: quantities are compared in the product's DEFAULT uom (Unit); the first matching line wins.
# A Tryton price list has no currency field (it is in its company's currency); a level for buyers in another
# currency ends in "-<ISO code>" ("TRADE-EUR"), and the adapter reads its prices converted at the ERP's rate.
LEVEL_PRICE_LISTS = ("TRADE", "WHOLESALE", "DISTRIBUTOR", "TRADE-EUR")
PRICE_LIST_CURRENCY_SEPARATOR = "-"
CONTRACT_PRICE_LIST_PREFIX = "CONTRACT-"

# --- units of measure ------------------------------------------------------------------------------------
# All in Tryton's "Unit" category; "Case of N" has factor N (1 case = N units), rounding 1, digits 0.
BASE_UOM_NAME = "Unit"
CASE_UOM_NAMES = {6: "Case of 6", 12: "Case of 12", 24: "Case of 24"}


def uom_name_for_pack_size(pack_size: int) -> str:
    """The Tryton sale unit for a pack size: "Unit" for singles, "Case of N" otherwise."""
    return BASE_UOM_NAME if pack_size == 1 else CASE_UOM_NAMES[pack_size]


# --- payment terms -------------------------------------------------------------------------------------
PAYMENT_TERM_DAYS = {"Immediate": 0, "Net 30": 30, "Net 60": 60}

# --- taxes / accounting --------------------------------------------------------------------------------
VAT_TAX_NAME = "VAT 20%"
ACCOUNT_CATEGORY_NAME = "Goods (accounting)"

# --- shipments -----------------------------------------------------------------------------------------
# Carrier tracking number of a customer shipment. stock.shipment.out.reference comes with the base stock
# module ("the external identifier for the shipment"); the warehouse writes the carrier's tracking number
# there. We do NOT install stock_package_shipping (field shipping_reference): it pulls in carrier,
# packages and shipment-cost modules and makes `pack` raise a "no carrier" UserWarning for every
# shipment without a carrier, which the integration user would have to acknowledge.
TRACKING_FIELD = "reference"
