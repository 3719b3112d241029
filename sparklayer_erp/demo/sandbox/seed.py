"""The shop as it exists before the integration ever ran (idempotent: only on a fresh store).

Seeded: the customer groups (base, trade, credit-hold) with their payment methods; every demo customer as the
*shop* knows them (platform id, SparkLayer id, e-mail, company, group ``trade``, one address) plus the
unlinked newcomer; a live variant per demo SKU. Deliberately *not* seeded, because the integration must push
them: accounting ids, price lists and prices, payment-on-account terms, pack-size settings, stock locations.
"""

from __future__ import annotations

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox import variants
from sparklayer_erp.demo.sandbox.customers import ALL_FIELDS, LIST_FIELDS
from sparklayer_erp.demo.sandbox.db import Database, dumps
from sparklayer_erp.sparklayer import contract

SEEDED_KEY = "seeded"
ALL_METHODS = list(contract.PAYMENT_METHODS)
GROUPS = (
    (contract.BASE_GROUP, "Base", None, {"payment_methods": ["platform_upfront"]}),
    (contract.DEFAULT_GROUP, "Trade", contract.BASE_GROUP, {"payment_methods": ALL_METHODS}),
    (contract.CREDIT_HOLD_GROUP, "Credit hold", contract.BASE_GROUP, {"payment_methods": ["platform_upfront"]}),
)


def _customer_doc(**fields: object) -> dict:
    doc: dict = {k: ([] if k in LIST_FIELDS else None) for k in ALL_FIELDS}
    doc.update(fields)
    return doc


def _address(external_id: str, company: str, city: str) -> dict:
    return {"external_id": external_id, "first_name": None, "last_name": None, "company_name": company,
            "address_line1": "1 High Street", "address_line2": None, "city": city, "region_name": None,
            "region_code": None, "postal_code": "AB1 2CD", "country_code": "GB", "phone": None,
            "is_default_shipping": True, "is_default_billing": True}


def shop_customers() -> list[dict]:
    out = []
    for c in demo_data.CUSTOMERS:
        out.append(_customer_doc(
            id=c.sparklayer_id, external_id=c.platform_id, email=c.email, company_name=c.name,
            group=contract.DEFAULT_GROUP, role="main",
            addresses=[_address(f"addr-{c.platform_id}", c.name, c.city)]))
    u = demo_data.UNLINKED_SPARKLAYER_CUSTOMER
    out.append(_customer_doc(
        id=u["id"], external_id=u["external_id"], email=u["email"], company_name=u["company_name"],
        first_name=u["first_name"], last_name=u["last_name"], group=contract.DEFAULT_GROUP, role="main",
        addresses=[_address(f"addr-{u['external_id']}", u["company_name"], "Leeds")]))
    return out


def seed(db: Database) -> bool:
    """Fill a fresh store; returns False (and does nothing) when it was seeded before."""
    with db.tx() as conn:
        if conn.execute("SELECT 1 FROM meta WHERE key = ?", (SEEDED_KEY,)).fetchone():
            return False
        for slug, name, parent, settings in GROUPS:
            conn.execute("INSERT INTO customer_groups (slug, name, parent_slug, settings) VALUES (?, ?, ?, ?)",
                         (slug, name, parent, dumps(settings)))
        for doc in shop_customers():
            conn.execute("INSERT INTO customers (id, legacy_id, external_id, email_key, doc) VALUES (?,?,?,?,?)",
                         (doc["id"], None, doc["external_id"], doc["email"].casefold(), dumps(doc)))
        for n, product in enumerate(demo_data.PRODUCTS, start=1):
            variants.insert(conn, {"id": f"pv_{n:05d}", "external_id": product.sku, "sku": product.sku,
                                   "title": product.name, "status": "live", "settings": []})
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (SEEDED_KEY, db.now()))
    return True
