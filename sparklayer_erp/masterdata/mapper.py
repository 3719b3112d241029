"""The mapper of master data: ERP records (the port's dataclasses or checked frame rows) → SparkLayer bodies.

Pure functions with SparkLayer's wire keys; what to send is decided in ``domain.masterdata`` and the sending
is ``sync.py``'s job. Amounts stay ``Decimal``: ``sparklayer.wire`` writes them as exact JSON numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.masterdata import (
    PricingEntry,
    StockKey,
    card_only,
    customer_from_row,
    customer_price_list_slugs,
    price_list_slug,
)
from sparklayer_erp.domain.models import Address, ErpCustomer, ErpItem, ErpPriceList
from sparklayer_erp.domain.money import UnknownCurrency, round_money
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.models import PricingRow

# --- customers -------------------------------------------------------------------------------------------

# Fields SparkLayer owns (set by staff there). A PUT is a full replacement that clears what it omits, so
# they are copied from the current SparkLayer record whenever the caller has it.
SPARKLAYER_OWNED_CUSTOMER_FIELDS = ("title", "first_name", "last_name", "role", "discount_percentage",
                                    "tax_exempt", "sales_agent_groups", "parent_customer_id")


@dataclass(frozen=True)
class CustomerLink:
    """What we already know about the customer in SparkLayer (from the ledger's link table)."""

    platform_id: str | None = None  # the shop platform's customer id (SparkLayer external_id)
    sparklayer_id: str | None = None  # SparkLayer customer UUID
    email: str | None = None  # the login e-mail SparkLayer holds now


@dataclass(frozen=True)
class CustomerUpsert:
    """``PUT /api/v2/customers/{lookup_by}/{identifier}`` with ``body``."""

    lookup_by: str  # one of contract.CUSTOMER_LOOKUPS
    identifier: str
    body: dict[str, Any]


def customer_payload(customer: ErpCustomer | Mapping[str, Any], link: CustomerLink | None = None, *,
                     current: Mapping[str, Any] | None = None,
                     balance_date: Any = None) -> CustomerUpsert:
    """The complete SparkLayer v2 customer body for one ERP customer, and how to address it.

    Full replacement: SparkLayer clears every field a PUT omits, so the body always carries every field the
    ERP owns — account code (``accounting_id``), e-mail, company name, group, price lists, the
    ``payment_on_account`` block and addresses — plus the SparkLayer-owned fields copied from ``current``.

    Credit hold: SparkLayer has no hold flag. A customer on hold in the ERP is put in the
    ``contract.CREDIT_HOLD_GROUP`` group, whose payment methods exclude pay on account and pay by invoice, so
    the buyer can still order but only by card; when the ERP releases the hold the customer returns to
    ``contract.DEFAULT_GROUP``. The credit limit and balance are always the ERP's, so SparkLayer's own
    "order exceeds credit limit" rule works on the ERP's numbers.

    Inactive customers (closed in the ERP) are treated like a hold, with a credit limit of 0 (``card_only``):
    a finance controller closing an account means "no more credit", and SparkLayer has no confirmed customer
    status field to close the account with, so the card-only group is the one lever known to stop buying on
    account or by invoice. The record stays in SparkLayer with its link (its history and open balance stay
    visible), so reactivating the account in the ERP restores the group and the ERP's limit on the next run.

    Lookup: by the platform id when known (the shop's own id, it never changes), else by the SparkLayer id,
    else by e-mail. E-mail comes last because an e-mail changed in the ERP would then address nobody (or
    create a second customer); with an id the change simply updates the login address.

    Amounts are in the customer's currency (``payment_on_account.currency_code``: the ERP's sale currency for
    the customer, the same as its price lists') and ``Decimal`` rounded half-up to that currency's minor unit
    (the cent for GBP or EUR, 1 for JPY), which ``sparklayer.wire`` writes as exact JSON
    number literals (``2000.00``): the documented ``payment_on_account`` examples use numbers and the sandbox
    refuses strings. An empty credit limit is sent as ``null`` (no limit configured in the ERP).
    """
    c = customer if isinstance(customer, ErpCustomer) else customer_from_row(customer)
    link = link or CustomerLink()
    body: dict[str, Any] = {}
    if current:
        body.update({k: current[k] for k in SPARKLAYER_OWNED_CUSTOMER_FIELDS if k in current})
    if link.platform_id:
        lookup_by, identifier = "platform", link.platform_id
        body["external_id"] = link.platform_id
    elif link.sparklayer_id:
        lookup_by, identifier = "sparklayer", link.sparklayer_id
        body["id"] = link.sparklayer_id
    else:
        lookup_by, identifier = "email", str(c.email)
    poa: dict[str, Any] = {
        contract.POA_CREDIT_LIMIT: _minor_units(c.credit_limit if c.active else Decimal(0), c.currency),
        contract.POA_BALANCE: _minor_units(c.open_balance, c.currency),
        contract.POA_CURRENCY: c.currency,
        contract.POA_NET_TERMS: c.payment_terms_days,
    }
    if balance_date is not None:
        poa[contract.POA_BALANCE_DATE] = balance_date.isoformat()
    body.update({
        "email": c.email,
        "accounting_id": c.account_code,
        "company_name": c.name,
        "group": contract.CREDIT_HOLD_GROUP if card_only(c) else contract.DEFAULT_GROUP,
        "price_lists": customer_price_list_slugs(c),
        "payment_on_account": poa,
        "addresses": [_address_body(c.account_code, n, a) for n, a in enumerate(c.addresses, start=1)],
    })
    return CustomerUpsert(lookup_by=lookup_by, identifier=identifier, body=body)


def _address_body(account_code: str, n: int, address: Address) -> dict[str, Any]:
    return {
        "external_id": f"{account_code}-{n}",  # unique per site; stable while the ERP keeps the order
        "company_name": address.name,
        "address_line1": address.street,
        "city": address.city,
        "postal_code": address.postal_code,
        "country_code": address.country_code,
        "is_default_shipping": n == 1,
        "is_default_billing": n == 1,
    }


def _minor_units(amount: Decimal | None, currency: str | None) -> Decimal | None:
    """Rounded to the currency's minor unit; the cent for a code with none known (the customer gate refuses
    currencies the business does not trade in before a body is ever built)."""
    if amount is None:
        return None
    try:
        return round_money(amount, currency or None)
    except UnknownCurrency:
        return round_money(amount)


# --- price lists and prices ---------------------------------------------------------------------------------


def price_list_payload(price_list: ErpPriceList) -> dict[str, Any]:
    """Body to create the list in SparkLayer; ``source`` is ``integration`` as the docs ask of ERPs."""
    return {
        "slug": price_list_slug(price_list.code),
        "name": price_list.name[:64],
        "currency_code": price_list.currency,
        "source": "integration",
    }


def pricing_body(entry: PricingEntry) -> dict[str, Any]:
    """One element of ``PATCH /api/v1/price-lists/{slug}/pricing``; prices stay ``Decimal``."""
    return {"sku": entry.sku, "pricing": [{"quantity": b.quantity, "price": b.price} for b in entry.breaks]}


def pricing_row(entry: PricingEntry) -> PricingRow:
    """The client's row for one SKU's prices on one list (no breaks: remove the SKU's prices)."""
    return PricingRow(sku=entry.sku, price_list_slug=entry.price_list_slug,
                      breaks=tuple((b.quantity, b.price) for b in entry.breaks))


# --- items and stock -------------------------------------------------------------------------------------


def pack_size_settings(item: ErpItem | Mapping[str, Any]) -> dict[str, Any]:
    """Variant settings body carrying the ERP pack size (contract item 12), for the ``base`` group.

    Buyers then order in multiples of the pack (12 bottles = 1 case of 12), which the order flow converts
    back to ERP sale units.
    """
    pack_size = item.pack_size if isinstance(item, ErpItem) else item["pack_size"]
    return {"settings": [{"customer_group": contract.BASE_GROUP, "pack_size": int(pack_size)}]}


def stock_updates(available: Mapping[StockKey, int], keys: Iterable[StockKey] | None = None) -> list[dict]:
    """Elements of ``POST /api/v1/batch-update-stock`` (warehouse code = location external id)."""
    chosen = sorted(available if keys is None else keys)
    return [{"sku": sku, "stock_location_external_id": warehouse, "stock_level": available[(sku, warehouse)]}
            for sku, warehouse in chosen]
