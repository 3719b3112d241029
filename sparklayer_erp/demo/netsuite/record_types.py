"""The record types the emulator serves, with their body fields, references, enums and sublists.

Field names are the REST API Browser's camelCase names; input names match case-insensitively. Only the
subset an order-to-cash integration touches is modelled; anything else is an unknown field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sparklayer_erp.demo.netsuite import not_confirmed as nc

TRANSACTIONS, ENTITIES, ITEMS = "transactions", "entities", "items"


@dataclass(frozen=True)
class Sublist:
    fields: tuple[str, ...]
    key: tuple[str, ...] = ()  # empty: a non-keyed sublist (request lines are appended)
    refs: dict[str, str] = field(default_factory=dict)  # field -> target record type
    read_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordType:
    name: str
    group: str  # external ids are unique within a group
    fields: tuple[str, ...]
    refs: dict[str, str] = field(default_factory=dict)
    enums: dict[str, dict[str, str]] = field(default_factory=dict)
    sublists: dict[str, Sublist] = field(default_factory=dict)
    read_only: tuple[str, ...] = ()
    suiteql_type: str | None = None  # transaction.type
    id_start: int = 1

    def canonical(self, name: str) -> str | None:
        lowered = name.lower()
        for known in (*self.fields, *self.sublists):
            if known.lower() == lowered:
                return known
        return None


_TXN_COMMON = ("id", "tranId", "externalId", "entity", "tranDate", "memo", "currency", "subsidiary",
               "createdDate", "lastModifiedDate", "status", "total", "createdFrom", "customForm", "exchangeRate")
_TXN_RO = ("id", "status", "total", "subtotal", "taxTotal", "createdDate", "lastModifiedDate", "tranId")
_ITEM_LINE_RO = ("amount", "quantityCommitted", "quantityBackOrdered", "quantityPicked", "quantityPacked",
                 "quantityFulfilled", "quantityBilled", "quantityAvailable", "quantityOnHand", "lineUniqueKey")

SALES_ORDER_LINES = Sublist(
    fields=("line", "item", "quantity", "units", "rate", "amount", "price", "taxCode", "location", "description",
            "isClosed", "quantityCommitted", "quantityBackOrdered", "quantityPicked", "quantityPacked",
            "quantityFulfilled", "quantityBilled", "quantityAvailable", "quantityOnHand", "commitInventory",
            "expectedShipDate", "lineUniqueKey"),
    key=(nc.ITEM_LINE_KEY,), refs={"item": "inventoryItem", "price": "priceLevel", "location": "location"},
    read_only=_ITEM_LINE_RO)
BILLED_LINES = Sublist(
    fields=("line", "orderLine", "item", "quantity", "units", "rate", "amount", "description", "location"),
    key=("line",), refs={"item": "inventoryItem", "location": "location"}, read_only=("amount",))
APPLY_LINES = Sublist(
    fields=("doc", "apply", "amount", "due", "total", "refNum", "type", "line", "applyDate"), key=("doc",),
    refs={"doc": "invoice"}, read_only=("due", "total", "refNum", "type"))

TYPES: dict[str, RecordType] = {t.name: t for t in (
    RecordType("salesOrder", TRANSACTIONS, (
        *_TXN_COMMON, "otherRefNum", "orderStatus", "terms", "location", "shipMethod", "department", "class",
        "shipDate", "shipComplete", "subtotal", "taxTotal", "discountTotal", "canBeUnapproved", "needsPick",
        "email", "toBeEmailed", "shippingCost"),
        refs={"entity": "customer", "currency": "currency", "terms": "term", "location": "location",
              "subsidiary": "subsidiary"},
        enums={"orderStatus": nc.ORDER_STATUS, "status": nc.SALES_ORDER_STATUS},
        sublists={"item": SALES_ORDER_LINES},
        read_only=(*_TXN_RO, "canBeUnapproved", "needsPick", "createdFrom"), suiteql_type="SalesOrd",
        id_start=5001),
    RecordType("itemFulfillment", TRANSACTIONS, (
        *_TXN_COMMON, "shipStatus", "pickedDate", "packedDate", "shippedDate", "shipMethod",
        "inventoryLocation"),
        refs={"entity": "customer", "createdFrom": "salesOrder", "inventoryLocation": "location",
              "currency": "currency", "subsidiary": "subsidiary"},
        enums={"shipStatus": nc.FULFILLMENT_STATUS, "status": nc.FULFILLMENT_STATUS},
        sublists={"item": Sublist(("line", "orderLine", "item", "itemReceive", "quantity", "quantityRemaining",
                                   "location", "units", "description"), key=("line",),
                                  refs={"item": "inventoryItem", "location": "location"},
                                  read_only=("quantityRemaining",)),
                  "package": Sublist(("packageTrackingNumber", "packageWeight", "packageDescr",
                                      "packageCartonNumber", "packageTrackingNumberReturn"))},
        read_only=(*_TXN_RO, "createdFrom"), suiteql_type="ItemShip", id_start=5001),
    RecordType("invoice", TRANSACTIONS, (
        *_TXN_COMMON, "dueDate", "otherRefNum", "terms", "amountRemaining", "amountPaid", "subtotal",
        "taxTotal", "approvalStatus", "trackingNumbers", "location", "shippingCost"),
        refs={"entity": "customer", "createdFrom": "salesOrder", "terms": "term", "currency": "currency",
              "location": "location", "subsidiary": "subsidiary"},
        enums={"status": nc.INVOICE_STATUS}, sublists={"item": BILLED_LINES},
        read_only=(*_TXN_RO, "amountRemaining", "amountPaid", "createdFrom"), suiteql_type="CustInvc",
        id_start=5001),
    RecordType("customerPayment", TRANSACTIONS, (
        *_TXN_COMMON, "customer", "payment", "autoApply", "applied", "unapplied"),
        refs={"customer": "customer", "entity": "customer", "currency": "currency", "createdFrom": "invoice",
              "subsidiary": "subsidiary"},
        enums={"status": nc.PAYMENT_STATUS}, sublists={"apply": APPLY_LINES},
        read_only=(*_TXN_RO, "applied", "unapplied", "createdFrom", "entity"), suiteql_type="CustPymt",
        id_start=5001),
    RecordType("creditMemo", TRANSACTIONS, (
        *_TXN_COMMON, "applied", "unapplied", "amountRemaining", "subtotal", "taxTotal", "toBeEmailed",
        "otherRefNum"),
        refs={"entity": "customer", "createdFrom": "invoice", "currency": "currency",
              "subsidiary": "subsidiary"},
        enums={"status": nc.CREDIT_MEMO_STATUS}, sublists={"apply": APPLY_LINES, "item": BILLED_LINES},
        read_only=(*_TXN_RO, "applied", "unapplied", "amountRemaining", "createdFrom"), suiteql_type="CustCred",
        id_start=5001),
    RecordType("customer", ENTITIES, (
        "id", "entityId", "companyName", "isPerson", "firstName", "lastName", "email", "phone", "externalId",
        "subsidiary", "currency", "terms", "priceLevel", "creditLimit", "creditHoldOverride", "balance",
        "overdueBalance", "unbilledOrders", "depositBalance", "daysOverdue", "isInactive", "lastModifiedDate",
        "dateCreated", "comments"),
        refs={"subsidiary": "subsidiary", "currency": "currency", "terms": "term", "priceLevel": "priceLevel"},
        enums={"creditHoldOverride": {"AUTO": "Auto", "ON": "On", "OFF": "Off"}},
        sublists={"itemPricing": Sublist(("item", "level", "price", "currency"), key=("item",),
                                         refs={"item": "inventoryItem", "level": "priceLevel",
                                               "currency": "currency"}),
                  "groupPricing": Sublist(("group", "level"), key=("group",)),
                  "currencyList": Sublist(("currency", "balance", "overdueBalance", "unbilledOrders",
                                           "depositBalance"), key=("currency",), refs={"currency": "currency"},
                                          read_only=("balance", "overdueBalance", "unbilledOrders",
                                                     "depositBalance")),
                  "addressBook": Sublist(("label", "defaultBilling", "defaultShipping", "addressBookAddress"))},
        read_only=("id", "balance", "overdueBalance", "unbilledOrders", "depositBalance", "daysOverdue",
                   "lastModifiedDate", "dateCreated"), id_start=101),
    RecordType("inventoryItem", ITEMS, (
        "id", "itemId", "displayName", "description", "externalId", "isInactive", "unitsType", "baseUnit",
        "saleUnit", "stockUnit", "purchaseUnit", "rate", "quantityAvailable", "quantityOnHand",
        "quantityCommitted", "quantityBackOrdered", "quantityOnOrder", "lastModifiedDate", "createdDate",
        "subsidiary"),
        refs={"unitsType": "unitsType", "subsidiary": "subsidiary"},
        sublists={"price": Sublist(("priceLevel", "priceLevelName", "currencyPage", "price", "quantity",
                                    "priceQty", "discountDisplay", "isInactive"),
                                   key=("priceLevel", "currencyPage", "quantity"),
                                   refs={"priceLevel": "priceLevel", "currencyPage": "currency"},
                                   read_only=("priceLevelName",)),
                  "locations": Sublist(("location", "locationId", "quantityOnHand", "quantityAvailable",
                                        "quantityCommitted", "quantityBackOrdered", "quantityOnOrder",
                                        "quantityInTransit", "reorderPoint", "preferredStockLevel",
                                        "safetyStockLevel", "averageCostMli"), key=("location",),
                                       refs={"location": "location"},
                                       read_only=("locationId", "quantityAvailable", "quantityCommitted",
                                                  "quantityBackOrdered"))},
        read_only=("id", "quantityAvailable", "quantityOnHand", "quantityCommitted", "quantityBackOrdered",
                   "quantityOnOrder", "lastModifiedDate", "createdDate"), id_start=301),
    RecordType("unitsType", "unitsType", ("id", "name", "isInactive", "externalId"),
               sublists={"uom": Sublist(("internalId", "unitName", "pluralName", "abbreviation",
                                         "pluralAbbreviation", "conversionRate", "baseUnit", "inUse"),
                                        key=("internalId",))}, read_only=("id",)),
    RecordType("priceLevel", "priceLevel", ("id", "name", "discountPct", "isOnline", "isInactive", "externalId",
                                            "priceCalculationFormula", "lastModifiedDate"),
               read_only=("id", "lastModifiedDate")),
    RecordType("location", "location", ("id", "name", "externalId", "isInactive", "subsidiary",
                                        "lastModifiedDate"), refs={"subsidiary": "subsidiary"},
               read_only=("id", "lastModifiedDate")),
    RecordType("currency", "currency", ("id", "name", "symbol", "isBaseCurrency", "exchangeRate", "isInactive"),
               read_only=("id",)),
    RecordType("term", "term", ("id", "name", "daysUntilNetDue", "isInactive", "externalId"), read_only=("id",)),
    RecordType("subsidiary", "subsidiary", ("id", "name", "currency", "externalId", "isInactive"),
               refs={"currency": "currency"}, read_only=("id",)),
)}

_BY_LOWER = {name.lower(): t for name, t in TYPES.items()}


def record_type(name: str) -> RecordType | None:
    """Case-insensitive: ``salesorder``, ``salesOrder`` and ``SalesOrder`` are the same type."""
    return _BY_LOWER.get(name.lower())
