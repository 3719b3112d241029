"""What every part of the Tryton adapter reads: the connection, the cached reference records (company,
units, shop, warehouses, payment method, shipping tax) and sale rows in chunks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.mapping import rel
from sparklayer_erp.erp.tryton.rpc import TrytonRpc

_READ_CHUNK = 200  # sale ids (or purchase ids) per search_read


class TrytonRecords:
    """The base of ``TrytonErp``'s parts. Reference data is cached per instance (it changes with set-up,
    not with orders); sale reads are always fresh."""

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        timeout: float = 60.0,
        *,
        rpc: TrytonRpc | None = None,
    ) -> None:
        self.rpc = rpc or TrytonRpc(url, database, login, password, timeout=timeout)
        self._uom_cache: dict[str, dict[str, Any]] | None = None
        self._shop_id: int | None = None
        self._warehouse_cache: dict[str, dict[str, Any]] | None = None
        self._company_cache: dict[str, Any] | None = None
        self._payment_method_id: int | None = None
        self._shipping_taxes: list[int] | None = None

    def close(self) -> None:
        self.rpc.close()

    # ================================================================ reference data (cached)

    def _company(self) -> dict[str, Any]:
        if self._company_cache is None:
            rows = self.rpc.search_read(
                "company.company", [("id", "=", self.rpc.company_id)], ["party", "currency.code"]
            )
            if not rows:
                raise ErpTechnicalError("the integration user's company is not readable")
            self._company_cache = rows[0]
        return self._company_cache

    @property
    def currency(self) -> str:
        return rel(self._company(), "currency").get("code") or conv.CURRENCY

    def _uoms(self) -> dict[str, dict[str, Any]]:
        if self._uom_cache is None:
            rows = self.rpc.search_read("product.uom", [], ["name", "factor", "rounding", "category"])
            self._uom_cache = {row["name"]: row for row in rows}
        return self._uom_cache

    def _uom_by_id(self, uom_id: int) -> dict[str, Any]:
        for row in self._uoms().values():
            if row["id"] == uom_id:
                return row
        raise ErpTechnicalError(f"unit of measure {uom_id} is not readable")

    def _base_uom_id(self) -> int:
        base = self._uoms().get(conv.BASE_UOM_NAME)
        if base is None:
            raise ErpTechnicalError(f"the base unit {conv.BASE_UOM_NAME!r} does not exist in Tryton")
        return int(base["id"])

    def _shop(self) -> int:
        if self._shop_id is None:
            ids = self.rpc.model("web.shop", "search", [("name", "=", conv.WEB_SHOP_NAME)], 0, 1, None)
            if not ids:
                raise ErpTechnicalError(f"web shop {conv.WEB_SHOP_NAME!r} (owner of purchase ids) is missing")
            self._shop_id = int(ids[0])
        return self._shop_id

    def _warehouses(self) -> dict[str, dict[str, Any]]:
        if self._warehouse_cache is None:
            rows = self.rpc.search_read(
                "stock.location", [("type", "=", "warehouse")], ["code", "name", "storage_location"],
                order=[("code", "ASC")],
            )
            self._warehouse_cache = {row["code"]: row for row in rows if row.get("code")}
        return self._warehouse_cache

    def _pay_method(self) -> int:
        if self._payment_method_id is None:
            ids = self.rpc.model(
                "account.invoice.payment.method", "search", [("name", "=", conv.PAYMENT_METHOD_NAME)], 0, 1, None
            )
            if not ids:
                raise ErpTechnicalError(f"payment method {conv.PAYMENT_METHOD_NAME!r} is missing")
            self._payment_method_id = int(ids[0])
        return self._payment_method_id

    def _shipping_tax_ids(self) -> list[int]:
        if self._shipping_taxes is None:
            self._shipping_taxes = [
                int(i) for i in self.rpc.model("account.tax", "search", [("name", "=", conv.VAT_TAX_NAME)], 0, 1, None)
            ]
        return self._shipping_taxes

    # ================================================================ sale rows

    def _sale_rows(self, domain: list[Any], fields: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.rpc.search_read(
                "sale.sale", domain, fields, order=[("id", "ASC")], limit=500, offset=offset
            )
            out.extend(page)
            if len(page) < 500:
                return out
            offset += 500

    def _rows_by_id(self, ids: Sequence[int], fields: Sequence[str]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        unique = sorted({int(i) for i in ids})
        for start in range(0, len(unique), _READ_CHUNK):
            chunk = unique[start:start + _READ_CHUNK]
            for row in self.rpc.search_read("sale.sale", [("id", "in", chunk)], fields):
                out[int(row["id"])] = row
        return out

    def _rows_by_purchase_id(self, purchase_ids: Iterable[str], fields: Sequence[str]) -> dict[str, dict]:
        wanted = sorted({p for p in purchase_ids if p})
        fields = list(dict.fromkeys([*fields, conv.PURCHASE_ID_FIELD]))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _READ_CHUNK):
            chunk = wanted[start:start + _READ_CHUNK]
            rows = self.rpc.search_read(
                "sale.sale",
                [(conv.WEB_SHOP_FIELD, "=", self._shop()), (conv.PURCHASE_ID_FIELD, "in", chunk)],
                fields,
            )
            for row in rows:
                out[row[conv.PURCHASE_ID_FIELD]] = row
        return out

    def _one(self, erp_id: int, fields: Sequence[str]) -> dict[str, Any] | None:
        return self._rows_by_id([erp_id], fields).get(int(erp_id))
