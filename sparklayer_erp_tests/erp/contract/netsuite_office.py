"""The contract suite's back office on the NetSuite emulator: staff acting through NetSuite's REST API
(item fulfilments, invoices, customer payments, the customer's Hold field), and the adapter built from the
same ``NETSUITE_*`` settings a deployment uses."""

from __future__ import annotations

import re
from contextlib import ExitStack, closing
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.bootstrap import netsuite_environment
from sparklayer_erp.demo.netsuite import seed
from sparklayer_erp.resources import erp_resource_from_settings

if TYPE_CHECKING:
    from sparklayer_erp_tests.erp.contract.conftest import ErpUnderContract
    from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator

def netsuite_settings(emulator: NetSuiteEmulator, auth: str = "oauth2") -> dict[str, str]:
    """The environment of a deployment pointed at the emulator (as the demo sets it)."""
    return {**netsuite_environment(emulator.settings(auth)), "NETSUITE_CONCURRENCY": "5"}


def _term_id(name: str) -> int:
    """The emulator's term ids: the demo terms by their days, from 1."""
    names = sorted({c.payment_terms for c in demo_data.CUSTOMERS}, key=lambda n: int(re.sub(r"\D", "", n) or 0))
    return names.index(name) + 1


class NetSuiteBackOffice:
    """NetSuite staff: warehouse (item fulfilments), accounts receivable (invoices, payments), credit control."""

    name = "netsuite"
    base_unit = seed.BASE_UNIT_NAME

    def __init__(self, emulator: NetSuiteEmulator) -> None:
        self.emulator = emulator
        self.staff = emulator.staff
        self.invoices: dict[int, list[int]] = {}

    def unit_name(self, pack_size: int) -> str:
        return seed.unit_name(pack_size)

    def allocate(self, erp_id: int) -> None:
        self.staff.ship(int(erp_id), tracking=(), ship_status="A")  # picked: stock taken for the order

    def ship(self, erp_id: int, *, tracking: str, partial: bool = False) -> None:
        lines = None
        if partial:
            first = self.staff.get("salesOrder", int(erp_id))["item"]["items"][0]
            lines = {first["line"]: first["quantity"]}
        self.staff.ship(int(erp_id), tracking=(tracking,), lines=lines, ship_status="C")

    def invoice(self, erp_id: int) -> list[str]:
        invoice_id = self.staff.invoice(int(erp_id))
        self.invoices.setdefault(int(erp_id), []).append(invoice_id)
        return [str(self.staff.get("invoice", i)["tranId"]) for i in self.invoices[int(erp_id)]]

    def pay_by_bank(self, erp_id: int, *, reference: str) -> None:
        # a bank-feed import: the payment carries the bank reference as its external id
        for invoice_id in self.invoices.get(int(erp_id), []):
            self.staff.transform("invoice", invoice_id, "customerPayment", {"externalId": reference})

    def new_customer(self, code: str, *, credit_limit: Decimal | None) -> None:
        body: dict[str, Any] = {
            "entityId": code, "externalId": code, "companyName": f"Test customer {code}", "isPerson": False,
            "email": f"{code.lower()}@test.example", "subsidiary": {"id": str(seed.SUBSIDIARY_ID)},
            "currency": {"id": "1"}, "terms": {"id": str(_term_id("Net 30"))},
            "priceLevel": {"id": str(seed.level_id("TRADE"))}, "creditHoldOverride": {"id": "AUTO"},
            "addressBook": {"items": [{"addressBookAddress": {"city": "London", "country": {"id": "GB"}}}]},
        }
        if credit_limit is not None:
            body["creditLimit"] = float(credit_limit)
        self.staff.create("customer", body)

    def set_credit_limit(self, code: str, limit: Decimal | None) -> None:
        self.staff.set_credit_limit(code, None if limit is None else float(limit))

    def set_credit_hold(self, code: str, on: bool) -> None:
        self.staff.set_credit_hold(code, "ON" if on else "AUTO")


def netsuite_under_contract(request: pytest.FixtureRequest, stack: ExitStack) -> ErpUnderContract:
    from sparklayer_erp_tests.erp.contract.conftest import ErpUnderContract

    emulator = request.getfixturevalue("netsuite_emulator")
    port = stack.enter_context(closing(erp_resource_from_settings(netsuite_settings(emulator)).port()))
    return ErpUnderContract(port, NetSuiteBackOffice(emulator))
