"""Typed views of the SparkLayer resources the integration reads and writes.

Each model has ``from_api`` (tolerant: unknown keys are ignored, a missing optional key is None) and, where
we write it, ``to_api`` (strict: exactly the documented keys, Decimals kept exact — see ``wire``).
Money is ``Decimal`` throughout. Shapes the reference leaves open follow ``contract``.

Full-replace resources (purchases, customers) keep the whole answer in ``raw`` so that a write can start
from what SparkLayer holds and change only what we own — ``with_changes`` is that starting point.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.wire import format_datetime, money, parse_datetime, to_decimal

JsonDict = dict[str, Any]

_CALCULATED_PREFIX = "calculated_"


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    number = Decimal(str(value))
    if number != number.to_integral_value():
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def _opt_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    return parse_datetime(text).date() if "T" in text else dt.date.fromisoformat(text)


def _drop_none(doc: Mapping[str, Any]) -> JsonDict:
    return {k: v for k, v in doc.items() if v is not None}


def strip_calculated(value: Any) -> Any:
    """A deep copy without any ``calculated_*`` key, at any depth (the API computes those; never send)."""
    if isinstance(value, Mapping):
        return {
            k: strip_calculated(v) for k, v in value.items() if not str(k).startswith(_CALCULATED_PREFIX)
        }
    if isinstance(value, list | tuple):
        return [strip_calculated(v) for v in value]
    return copy.deepcopy(value)


def with_changes(purchase_raw: Mapping[str, Any], **changes: Any) -> JsonDict:
    """The body for a full-replace PUT: what SparkLayer holds now, minus calculated fields, plus ``changes``.

    The purchase PUT clears every field it is not sent, so a write-back never builds a purchase from our
    model alone — it starts from the GET answer (``Purchase.raw``) and replaces only the top-level keys we
    own (``packages``, ``accounting_files``, ``status``, ``purchase_identifiers`` ...).
    """
    body = strip_calculated(purchase_raw)
    for key, value in changes.items():
        body[key] = strip_calculated(value)
    return body


# ----------------------------------------------------------------------------------------------- pricing


@dataclass(frozen=True)
class PriceListRule:
    source_price_list_slug: str
    adjustment_percentage: Decimal | None = None  # 0..1, e.g. 0.10 = 10 %
    adjustment_direction: str | None = None  # plus | minus
    currency_exchange_rate: Decimal | None = None

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> PriceListRule:
        return cls(
            source_price_list_slug=str(doc["source_price_list_slug"]),
            adjustment_percentage=to_decimal(doc.get("adjustment_percentage")),
            adjustment_direction=_opt_str(doc.get("adjustment_direction")),
            currency_exchange_rate=to_decimal(doc.get("currency_exchange_rate")),
        )

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                "source_price_list_slug": self.source_price_list_slug,
                "adjustment_percentage": self.adjustment_percentage,
                "adjustment_direction": self.adjustment_direction,
                "currency_exchange_rate": self.currency_exchange_rate,
            }
        )


@dataclass(frozen=True)
class PriceList:
    slug: str
    name: str
    currency_code: str
    source: str = "integration"  # the docs ask external systems to use "integration"
    tax_inclusive_display: bool | None = None
    rules: tuple[PriceListRule, ...] = ()

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> PriceList:
        return cls(
            slug=str(doc["slug"]),
            name=str(doc.get("name") or ""),
            currency_code=str(doc.get("currency_code") or ""),
            source=str(doc.get("source") or "custom"),
            tax_inclusive_display=doc.get("tax_inclusive_display"),
            rules=tuple(PriceListRule.from_api(r) for r in doc.get("rules") or ()),
        )

    def to_api(self) -> JsonDict:
        doc: JsonDict = {
            "slug": self.slug,
            "name": self.name,
            "currency_code": self.currency_code,
            "source": self.source,
            "tax_inclusive_display": self.tax_inclusive_display,
        }
        if self.rules:
            doc["rules"] = [r.to_api() for r in self.rules]
        return _drop_none(doc)


@dataclass(frozen=True)
class PricingRow:
    """All price breaks of one SKU on one list. Empty ``breaks`` = remove the SKU's prices from the list.

    ``breaks`` are ``(quantity, unit price)`` with quantity 1 the base price; prices are written as JSON
    numbers (as the documented payload shows), exactly.
    """

    sku: str
    price_list_slug: str
    breaks: tuple[tuple[int, Decimal], ...]
    display_tax_rate: Decimal | None = None

    def __post_init__(self) -> None:
        quantities = [q for q, _ in self.breaks]
        if len(set(quantities)) != len(quantities):
            raise ValueError(f"{self.sku}: duplicate quantity break on {self.price_list_slug}")
        for quantity, price in self.breaks:
            if quantity < 1 or not isinstance(price, Decimal):
                raise ValueError(f"{self.sku}: break ({quantity!r}, {price!r}) needs qty >= 1 and a Decimal")

    def pricing_api(self) -> list[JsonDict]:
        return [{"quantity": q, "price": p} for q, p in sorted(self.breaks)]

    def to_api(self, *, with_slug: bool) -> JsonDict:
        """One entry for ``PATCH …/{slug}/pricing`` (``with_slug=False``) or ``batch-update-pricing``."""
        doc: JsonDict = {"sku": self.sku}
        if with_slug:
            doc["price_list_slug"] = self.price_list_slug
        if self.display_tax_rate is not None:
            doc["display_tax_rate"] = self.display_tax_rate
        doc["pricing"] = self.pricing_api()
        return doc

    @classmethod
    def from_api(cls, doc: Mapping[str, Any], price_list_slug: str | None = None) -> PricingRow:
        """From ``{sku, [price_list_slug], pricing: [{quantity, price}]}``."""
        return cls(
            sku=str(doc["sku"]),
            price_list_slug=str(price_list_slug or doc["price_list_slug"]),
            breaks=tuple(
                sorted((int(p["quantity"]), _required_decimal(p["price"])) for p in doc.get("pricing") or ())
            ),
            display_tax_rate=to_decimal(doc.get("display_tax_rate")),
        )

    @classmethod
    def group_flat(cls, price_list_slug: str, rows: Iterable[Mapping[str, Any]]) -> list[PricingRow]:
        """The flat ``[{sku, quantity, price, unit_of_measure}]`` of GET …/pricing, one row per SKU."""
        by_sku: dict[str, list[tuple[int, Decimal]]] = {}
        for row in rows:
            by_sku.setdefault(str(row["sku"]), []).append(
                (int(row["quantity"]), _required_decimal(row["price"]))
            )
        return [cls(sku, price_list_slug, tuple(sorted(breaks))) for sku, breaks in by_sku.items()]


def _required_decimal(value: Any) -> Decimal:
    amount = to_decimal(value)
    if amount is None:
        raise ValueError("missing amount")
    return amount


# ------------------------------------------------------------------------------------------------- stock


@dataclass(frozen=True)
class StockLocation:
    id: str | None
    name: str
    external_id: str

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> StockLocation:
        return cls(
            id=_opt_str(doc.get("id")), name=str(doc.get("name") or ""), external_id=str(doc["external_id"])
        )


@dataclass(frozen=True)
class StockLevelRow:
    """One SKU at one location. Optional fields left None are not sent (so they are left as they are)."""

    sku: str
    stock_level: int
    stock_location_external_id: str | None = None
    stock_location_id: str | None = None
    restock_date: dt.date | None = None
    min_stock_level: int | None = None

    def __post_init__(self) -> None:
        if (self.stock_location_external_id is None) == (self.stock_location_id is None):
            raise ValueError("give exactly one of stock_location_external_id / stock_location_id")

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                "stock_location_id": self.stock_location_id,
                "stock_location_external_id": self.stock_location_external_id,
                "sku": self.sku,
                "stock_level": self.stock_level,
                "restock_date": self.restock_date.isoformat() if self.restock_date else None,
                "min_stock_level": self.min_stock_level,
            }
        )

    @classmethod
    def from_fetch(cls, doc: Mapping[str, Any]) -> list[StockLevelRow]:
        """One ``batch-fetch-stock`` entry ``{sku, stock_levels: [...]}`` → one row per location."""
        return [
            cls(
                sku=str(doc["sku"]),
                stock_level=_opt_int(level.get("stock_level")) or 0,
                stock_location_external_id=_opt_str(level.get("stock_location_external_id")),
                stock_location_id=(
                    None
                    if level.get("stock_location_external_id")
                    else _opt_str(level.get("stock_location_id"))
                ),
                restock_date=_opt_date(level.get("restock_date")),
                min_stock_level=_opt_int(level.get("min_stock_level")),
            )
            for level in doc.get("stock_levels") or ()
        ]


@dataclass(frozen=True)
class VariantSetting:
    """Per-customer-group quantity rules on a variant (contract 12); None fields are not sent."""

    customer_group: str
    pack_size: int | None = None
    min_order_quantity: int | None = None
    max_order_quantity: int | None = None

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                "customer_group": self.customer_group,
                "pack_size": self.pack_size,
                "min_order_quantity": self.min_order_quantity,
                "max_order_quantity": self.max_order_quantity,
            }
        )


# --------------------------------------------------------------------------------------------- customers


@dataclass(frozen=True)
class PaymentOnAccount:
    credit_limit: Decimal | None = None
    balance: Decimal | None = None
    balance_date: dt.date | None = None
    currency_code: str | None = None
    net_terms_days: int | None = None

    @classmethod
    def from_api(cls, doc: Mapping[str, Any] | None) -> PaymentOnAccount | None:
        if not doc:
            return None
        return cls(
            credit_limit=to_decimal(doc.get(contract.POA_CREDIT_LIMIT)),
            balance=to_decimal(doc.get(contract.POA_BALANCE)),
            balance_date=_opt_date(doc.get(contract.POA_BALANCE_DATE)),
            currency_code=_opt_str(doc.get(contract.POA_CURRENCY)),
            net_terms_days=_opt_int(doc.get(contract.POA_NET_TERMS)),
        )

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                contract.POA_CREDIT_LIMIT: self.credit_limit,
                contract.POA_BALANCE: self.balance,
                contract.POA_BALANCE_DATE: self.balance_date.isoformat() if self.balance_date else None,
                contract.POA_CURRENCY: self.currency_code,
                contract.POA_NET_TERMS: self.net_terms_days,
            }
        )


@dataclass(frozen=True)
class CustomerAddress:
    external_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    region_name: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    is_default_shipping: bool | None = None
    is_default_billing: bool | None = None

    _KEYS = (
        "external_id", "first_name", "last_name", "company_name", "address_line1", "address_line2", "city",
        "region_name", "region_code", "postal_code", "country_code", "phone",
    )  # fmt: skip

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> CustomerAddress:
        return cls(
            **{k: _opt_str(doc.get(k)) for k in cls._KEYS},
            is_default_shipping=doc.get("is_default_shipping"),
            is_default_billing=doc.get("is_default_billing"),
        )

    def to_api(self) -> JsonDict:
        doc = {k: getattr(self, k) for k in self._KEYS}
        doc["is_default_shipping"] = self.is_default_shipping
        doc["is_default_billing"] = self.is_default_billing
        return _drop_none(doc)


@dataclass(frozen=True)
class Customer:
    """A v2 customer. ``to_api`` is the full-replace body: a field left None is *cleared* by the PUT."""

    external_id: str | None = None
    email: str | None = None
    id: str | None = None
    accounting_id: str | None = None
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    group: str | None = None
    role: str | None = None
    price_lists: tuple[str, ...] = ()
    discount_percentage: Decimal | None = None
    tax_exempt: bool | None = None
    currency_code: str | None = None
    payment_on_account: PaymentOnAccount | None = None
    addresses: tuple[CustomerAddress, ...] = ()
    status: str | None = None
    parent_customer_id: str | None = None
    sales_agent_groups: tuple[str, ...] = ()
    raw: JsonDict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> Customer:
        return cls(
            external_id=_opt_str(doc.get("external_id")),
            email=_opt_str(doc.get("email")),
            id=_opt_str(doc.get("id")),
            accounting_id=_opt_str(doc.get("accounting_id")),
            title=_opt_str(doc.get("title")),
            first_name=_opt_str(doc.get("first_name")),
            last_name=_opt_str(doc.get("last_name")),
            company_name=_opt_str(doc.get("company_name")),
            group=_opt_str(doc.get("group")),
            role=_opt_str(doc.get("role")),
            price_lists=tuple(str(s) for s in doc.get("price_lists") or ()),
            discount_percentage=to_decimal(doc.get("discount_percentage")),
            tax_exempt=doc.get("tax_exempt"),
            currency_code=_opt_str(doc.get("currency_code")),
            payment_on_account=PaymentOnAccount.from_api(doc.get("payment_on_account")),
            addresses=tuple(CustomerAddress.from_api(a) for a in doc.get("addresses") or ()),
            status=_opt_str(doc.get("status")),
            parent_customer_id=_opt_str(doc.get("parent_customer_id")),
            sales_agent_groups=tuple(str(s) for s in doc.get("sales_agent_groups") or ()),
            raw=dict(doc),
        )

    def to_api(self) -> JsonDict:
        doc: JsonDict = {
            "id": self.id,
            "external_id": self.external_id,
            "email": self.email,
            "accounting_id": self.accounting_id,
            "title": self.title,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company_name": self.company_name,
            "group": self.group,
            "role": self.role,
            "price_lists": list(self.price_lists),
            "discount_percentage": self.discount_percentage,
            "tax_exempt": self.tax_exempt,
            "currency_code": self.currency_code,
            "payment_on_account": self.payment_on_account.to_api() if self.payment_on_account else None,
            "addresses": [a.to_api() for a in self.addresses],
            "status": self.status,
            "parent_customer_id": self.parent_customer_id,
            "sales_agent_groups": list(self.sales_agent_groups),
        }
        return _drop_none(doc)


@dataclass(frozen=True)
class CustomerGroup:
    slug: str
    name: str
    parent_slug: str | None = None

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> CustomerGroup:
        return cls(str(doc["slug"]), str(doc.get("name") or ""), _opt_str(doc.get("parent_slug")))


@dataclass(frozen=True)
class GroupSettings:
    slug: str
    payment_methods: tuple[str, ...]
    raw: JsonDict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_api(cls, slug: str, doc: Mapping[str, Any]) -> GroupSettings:
        return cls(slug, tuple(str(m) for m in doc.get("payment_methods") or ()), dict(doc))


# --------------------------------------------------------------------------------------------- purchases


@dataclass(frozen=True)
class PurchaseLine:
    """One order line, in base units (contract 3): ``unit_net`` per unit; ``tax_rate`` in percent."""

    sku: str | None
    quantity: int
    unit_net: Decimal | None
    line_net: Decimal | None
    line_tax: Decimal | None
    line_gross: Decimal | None
    tax_rate: Decimal | None
    discount_net: Decimal | None = None
    name: str | None = None

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> PurchaseLine:
        totals = doc.get("line_total") or {}
        identifiers = doc.get("identifiers") or {}
        name = " ".join(p for p in (_opt_str(doc.get("name_parent")), _opt_str(doc.get("name_child"))) if p)
        return cls(
            sku=_opt_str(identifiers.get("sku") if isinstance(identifiers, Mapping) else None)
            or _opt_str(doc.get("sku")),
            quantity=_opt_int(doc.get("quantity")) or 0,
            unit_net=to_decimal(doc.get("unit_total")),
            line_net=to_decimal(totals.get("total_net")),
            line_tax=to_decimal(totals.get("total_tax")),
            line_gross=to_decimal(totals.get("total_gross")),
            tax_rate=to_decimal(doc.get("tax_rate")),
            discount_net=to_decimal(totals.get("discount_net")),
            name=name or None,
        )


@dataclass(frozen=True)
class Shipment:
    carrier: str | None = None
    carrier_id: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: dt.datetime | None = None

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> Shipment:
        return cls(
            carrier=_opt_str(doc.get("carrier")),
            carrier_id=_opt_str(doc.get("carrier_id")),
            tracking_number=_opt_str(doc.get("tracking_number")),
            tracking_url=_opt_str(doc.get("tracking_url")),
            shipped_at=parse_datetime(doc.get("shipped_at")),
        )

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                "carrier": self.carrier,
                "carrier_id": self.carrier_id,
                "tracking_number": self.tracking_number,
                "tracking_url": self.tracking_url,
                "shipped_at": format_datetime(self.shipped_at) if self.shipped_at else None,
            }
        )


@dataclass(frozen=True)
class Package:
    type: str  # contract.PACKAGE_TYPES
    lines: tuple[PurchaseLine, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    package_id: str | None = None

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> Package:
        identifiers = doc.get("identifiers") or {}
        return cls(
            type=str(doc.get("type") or ""),
            lines=tuple(PurchaseLine.from_api(li) for li in doc.get("line_items") or ()),
            shipments=tuple(Shipment.from_api(s) for s in doc.get("shipments") or ()),
            package_id=_opt_str(identifiers.get("sparklayer_package_id")),
        )


@dataclass(frozen=True)
class AccountingFile:
    visible_id: str | None
    uri: str | None
    file_type: str = "invoice"

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> AccountingFile:
        data = doc.get("data") or {}
        return cls(
            visible_id=_opt_str((doc.get("identifiers") or {}).get("visible")),
            uri=_opt_str(data.get("uri")),
            file_type=str(doc.get("file_type") or "invoice"),
        )

    def to_api(self) -> JsonDict:
        return {
            "identifiers": _drop_none({"visible": self.visible_id}),
            "data": _drop_none({"type": "uri", "uri": self.uri}),
            "file_type": self.file_type,
        }


@dataclass(frozen=True)
class Transaction:
    """A payment (+) or refund (−) on a purchase; upserted by ``platform_id`` (contract 5)."""

    platform_id: str
    type: str  # payment | refund
    total: Decimal
    currency: str
    apply_to_balance: bool
    created_at: dt.datetime | None = None
    full_transaction: JsonDict = field(default_factory=dict, hash=False)

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> Transaction:
        total = doc.get("total") or {}
        return cls(
            platform_id=str(doc["platform_id"]),
            type=str(doc.get("type") or "payment"),
            total=_required_decimal(total),
            currency=str((total.get("currency") if isinstance(total, Mapping) else None) or "").upper(),
            apply_to_balance=bool(doc.get("apply_to_balance")),
            created_at=parse_datetime(doc.get("created_at")),
            full_transaction=dict(doc.get("full_transaction") or {}),
        )

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                "platform_id": self.platform_id,
                "type": self.type,
                "total": money(self.total, self.currency),
                "apply_to_balance": self.apply_to_balance,
                "created_at": format_datetime(self.created_at) if self.created_at else None,
                "full_transaction": self.full_transaction or None,
            }
        )


@dataclass(frozen=True)
class Purchase:
    """A purchase as read (``GET …/purchases``). Writes go through ``with_changes(self.raw, ...)``."""

    identifiers: dict[str, str] = field(hash=False)
    type: str
    status: str | None
    customer_identifiers: dict[str, str] = field(hash=False)
    payment_method: str | None
    customer_reference: str | None
    currency: str | None
    dates: dict[str, dt.datetime] = field(hash=False)
    lines: tuple[PurchaseLine, ...]
    packages: tuple[Package, ...]
    shipping_net: Decimal | None
    shipping_tax: Decimal | None
    total: Decimal | None  # calculated_total (gross)
    total_paid: Decimal | None
    accounting_files: tuple[AccountingFile, ...]
    transactions: tuple[Transaction, ...]
    metadata: dict[str, str] = field(hash=False)
    raw: JsonDict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def sparklayer_id(self) -> str | None:
        return self.identifiers.get("sparklayer")

    @property
    def internal_id(self) -> str | None:
        return self.identifiers.get("internal")

    @property
    def visible_id(self) -> str | None:
        return self.identifiers.get("visible")

    @property
    def placed_at(self) -> dt.datetime | None:
        return self.dates.get("placed")

    @property
    def last_updated_at(self) -> dt.datetime | None:
        return self.dates.get("last_updated")

    @property
    def cancelled_at(self) -> dt.datetime | None:
        return self.dates.get("cancelled")

    @property
    def lines_net(self) -> Decimal:
        return sum((line.line_net or Decimal("0") for line in self.lines), Decimal("0"))

    def with_changes(self, **changes: Any) -> JsonDict:
        return with_changes(self.raw, **changes)

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> Purchase:
        identifiers = doc.get("purchase_identifiers") or doc.get("order_identifiers") or {}
        packages = tuple(Package.from_api(p) for p in doc.get("packages") or ())
        return cls(
            identifiers={k: str(v) for k, v in identifiers.items() if v not in (None, "")},
            type=str(doc.get("type") or ""),
            status=_opt_str(doc.get("status")),
            customer_identifiers={
                k: str(v) for k, v in (doc.get("customer_identifiers") or {}).items() if v not in (None, "")
            },
            payment_method=_opt_str(doc.get("payment_method")),
            customer_reference=_opt_str(doc.get("customer_reference")),
            currency=_opt_str(doc.get("currency_code")),
            dates={
                k: parsed
                for k, v in (doc.get("dates") or {}).items()
                if (parsed := parse_datetime(v)) is not None
            },
            lines=_purchase_lines(doc, packages),
            packages=packages,
            shipping_net=to_decimal(doc.get("total_shipping")),
            shipping_tax=to_decimal(doc.get("shipping_tax")),
            total=to_decimal(doc.get("calculated_total")),
            total_paid=to_decimal(doc.get("total_paid")),
            accounting_files=tuple(AccountingFile.from_api(a) for a in doc.get("accounting_files") or ()),
            transactions=tuple(Transaction.from_api(t) for t in doc.get("transactions") or ()),
            metadata={
                str(m.get("name")): str(m.get("value"))
                for m in doc.get("metadata") or ()
                if isinstance(m, Mapping) and m.get("name") is not None
            },
            raw=dict(doc),
        )


def _purchase_lines(doc: Mapping[str, Any], packages: tuple[Package, ...]) -> tuple[PurchaseLine, ...]:
    """The lines as ordered: top-level ``line_items`` when sent, else the lines of every package that
    holds ordered goods (returns repeat shipped lines, so they are left out)."""
    if doc.get("line_items"):
        return tuple(PurchaseLine.from_api(li) for li in doc["line_items"])
    return tuple(line for p in packages if p.type != "return" for line in p.lines)


# -------------------------------------------------------------------------------------------- sync log


@dataclass(frozen=True)
class SyncLogError:
    external_id: str
    message: str
    visible_id: str | None = None
    external_url: str | None = None

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> SyncLogError:
        return cls(
            external_id=str(doc["external_id"]),
            message=str(doc.get("message") or ""),
            visible_id=_opt_str(doc.get("visible_id")),
            external_url=_opt_str(doc.get("external_url")),
        )

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                "external_id": self.external_id,
                "visible_id": self.visible_id,
                "external_url": self.external_url,
                "message": self.message,
            }
        )


SYNC_LOG_MAX_ERRORS = 5000  # documented cap per full-sync report


@dataclass(frozen=True)
class SyncLogEntry:
    """A full-sync report (PUT replaces the previous one, errors included). ``error_count`` is read-only."""

    started_full_sync: dt.datetime | None
    last_full_sync: dt.datetime | None
    last_full_sync_succeeded: bool
    errors: tuple[SyncLogError, ...] = ()
    error_count: int | None = None

    def __post_init__(self) -> None:
        if len(self.errors) > SYNC_LOG_MAX_ERRORS:
            raise ValueError(f"a sync log holds at most {SYNC_LOG_MAX_ERRORS} errors")
        ids = [e.external_id for e in self.errors]
        if len(set(ids)) != len(ids):
            raise ValueError("sync-log error external_ids must be unique")

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> SyncLogEntry:
        errors = tuple(SyncLogError.from_api(e) for e in doc.get("errors") or ())
        count = doc.get("error_count")
        return cls(
            started_full_sync=parse_datetime(doc.get("started_full_sync")),
            last_full_sync=parse_datetime(doc.get("last_full_sync")),
            last_full_sync_succeeded=bool(doc.get("last_full_sync_succeeded")),
            errors=errors,
            error_count=_opt_int(count) if count is not None else len(errors),
        )

    def to_api(self) -> JsonDict:
        return {
            "started_full_sync": format_datetime(self.started_full_sync) if self.started_full_sync else None,
            "last_full_sync": format_datetime(self.last_full_sync) if self.last_full_sync else None,
            "last_full_sync_succeeded": self.last_full_sync_succeeded,
            "errors": [e.to_api() for e in self.errors],
        }
