"""Order drafts for the contract tests, in the ERP's own units (from the back office) and demo prices."""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import ErpOrderDraft, ErpOrderLine, PaymentMethod
from sparklayer_erp_tests.erp.contract.back_office import NO_LIMIT, BackOffice

ACCOUNT = NO_LIMIT[0]  # no credit limit: orders of every test fit


def line(office: BackOffice, sku: str, quantity: int | str, *, single: bool = False,
         price: str | None = None) -> ErpOrderLine:
    """``quantity`` in the SKU's sale unit (its pack), or in single units with ``single``."""
    product = demo_data.product_by_sku(sku)
    factor = 1 if single else product.pack_size
    unit_price = Decimal(price) if price else (product.list_price * factor).quantize(Decimal("0.01"))
    return ErpOrderLine(sku=sku, quantity=Decimal(quantity), unit=office.unit_name(factor), unit_price=unit_price)


def draft(office: BackOffice, pid: str, *, account: str = ACCOUNT, commit: bool = True,
          lines: tuple[ErpOrderLine, ...] | None = None, method: PaymentMethod | None = None) -> ErpOrderDraft:
    """Committed by invoice, or (``commit=False``) pending approval on account; PO number ``PO-<pid>``."""
    return ErpOrderDraft(
        purchase_id=pid, account_code=account, po_number=f"PO-{pid}",
        payment_method=method or (PaymentMethod.INVOICE if commit else PaymentMethod.ON_ACCOUNT),
        lines=lines or (line(office, "SKU-COLA-L", 1),), commit=commit,
    )


def untaxed(lines: tuple[ErpOrderLine, ...] | list[ErpOrderLine]) -> Decimal:
    return sum((ln.quantity * ln.unit_price for ln in lines), Decimal(0))
