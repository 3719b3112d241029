"""Exact money on the wire and the models' round trips (pure; no HTTP)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from sparklayer_erp.sparklayer import wire
from sparklayer_erp.sparklayer.models import (
    Customer,
    PaymentOnAccount,
    PricingRow,
    Purchase,
    StockLevelRow,
    SyncLogEntry,
    SyncLogError,
    Transaction,
    strip_calculated,
    with_changes,
)


def test_decimal_is_written_as_the_exact_number_literal() -> None:
    body = wire.dumps({"price": Decimal("10.40"), "big": Decimal("12345678901234567.89"), "q": 10})
    assert body == b'{"price":10.40,"big":12345678901234567.89,"q":10}'
    # read back through the same parser the client uses: no float on the way
    assert wire.loads(body)["big"] == Decimal("12345678901234567.89")


def test_float_rounding_would_have_lost_these_digits() -> None:
    # the reason wire.dumps exists: a float cannot carry this price
    assert Decimal(float(Decimal("12345678901234567.89"))) != Decimal("12345678901234567.89")


def test_dumps_matches_json_for_strings_and_rejects_nan() -> None:
    doc = {"s": 'quote " and é and \n', "n": None, "t": True, "l": [1, "x"]}
    assert json.loads(wire.dumps(doc)) == doc
    with pytest.raises(ValueError):
        wire.dumps({"x": Decimal("NaN")})


def test_datetimes_are_fixed_width_utc() -> None:
    moment = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert wire.format_datetime(moment) == "2025-03-01T09:00:00.000000Z"
    assert wire.parse_datetime("2025-03-01T09:00:00Z") == dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        wire.format_datetime(dt.datetime(2025, 3, 1))


def test_pricing_row_payload_uses_numbers_and_sorted_breaks() -> None:
    row = PricingRow("SKU-1", "trade", ((10, Decimal("9.50")), (1, Decimal("10.40"))))
    assert wire.dumps(row.to_api(with_slug=True)) == (
        b'{"sku":"SKU-1","price_list_slug":"trade","pricing":'
        b'[{"quantity":1,"price":10.40},{"quantity":10,"price":9.50}]}'
    )
    with pytest.raises(ValueError):
        PricingRow("SKU-1", "trade", ((1, Decimal("1")), (1, Decimal("2"))))
    with pytest.raises(ValueError):
        PricingRow("SKU-1", "trade", ((1, 1.5),))  # type: ignore[arg-type]


def test_pricing_flat_rows_group_per_sku() -> None:
    rows = PricingRow.group_flat(
        "trade",
        [
            {"sku": "A", "quantity": 10, "price": Decimal("0.9")},
            {"sku": "A", "quantity": 1, "price": "1.00"},
            {"sku": "B", "quantity": 1, "price": Decimal("2")},
        ],
    )
    assert rows == [
        PricingRow("A", "trade", ((1, Decimal("1.00")), (10, Decimal("0.9")))),
        PricingRow("B", "trade", ((1, Decimal("2")),)),
    ]


def test_stock_row_needs_exactly_one_location_key() -> None:
    with pytest.raises(ValueError):
        StockLevelRow("A", 1)
    with pytest.raises(ValueError):
        StockLevelRow("A", 1, stock_location_external_id="WH", stock_location_id="x")
    expected = {"stock_location_external_id": "WH", "sku": "A", "stock_level": 5}
    assert StockLevelRow("A", 5, "WH").to_api() == expected


def test_customer_round_trip_keeps_money_exact() -> None:
    customer = Customer(
        external_id="C-1",
        email="a@b.example",
        accounting_id="ACME01",
        group="trade",
        price_lists=("trade", "acme-contract"),
        payment_on_account=PaymentOnAccount(
            credit_limit=Decimal("5000.00"),
            balance=Decimal("1234.56"),
            currency_code="GBP",
            net_terms_days=30,
        ),
    )
    body = wire.dumps(customer.to_api())
    again = Customer.from_api(wire.loads(body))
    assert again == customer
    assert b'"credit_limit":5000.00' in body


PURCHASE = {
    "type": "order",
    "status": "incoming",
    "purchase_identifiers": {"sparklayer": "p-1", "visible": "#1001", "internal": None},
    "customer_identifiers": {"sparklayer": "c-1", "platform": "C-1"},
    "payment_method": "on_account",
    "customer_reference": "PO123",
    "currency_code": "GBP",
    "dates": {"placed": "2025-01-02T10:00:00Z", "last_updated": "2025-01-02T10:00:01.5Z"},
    "calculated_total": {"number": "15.99", "currency": "gbp"},
    "total_shipping": {"number": "5.00", "currency": "gbp"},
    "packages": [
        {
            "type": "incoming",
            "calculated_status": "x",
            "line_items": [
                {
                    "identifiers": {"sku": "SKU-1"},
                    "quantity": 12,
                    "unit_total": {"number": "0.80", "currency": "gbp"},
                    "line_total": {"total_net": {"number": "9.60"}, "total_tax": {"number": "1.92"},
                                   "total_gross": {"number": "11.52"}},
                    "tax_rate": "20",
                }
            ],
        }
    ],
    "metadata": [{"name": "source", "value": "web"}],
    "custom_fields": [{"name": "delivery", "value": "Friday"}],
}


def test_purchase_from_api() -> None:
    p = Purchase.from_api(PURCHASE)
    assert p.sparklayer_id == "p-1" and p.internal_id is None
    assert p.placed_at == dt.datetime(2025, 1, 2, 10, tzinfo=dt.UTC)
    assert p.last_updated_at == dt.datetime(2025, 1, 2, 10, 0, 1, 500000, tzinfo=dt.UTC)
    (line,) = p.lines
    assert (line.sku, line.quantity, line.unit_net, line.line_net, line.tax_rate) == (
        "SKU-1", 12, Decimal("0.80"), Decimal("9.60"), Decimal("20"),
    )
    assert p.total == Decimal("15.99") and p.shipping_net == Decimal("5.00")
    assert p.metadata == {"source": "web"}


def test_with_changes_keeps_unmodelled_fields_and_strips_calculated() -> None:
    ids = {"sparklayer": "p-1", "internal": "SO9"}
    body = with_changes(PURCHASE, status="processing", purchase_identifiers=ids)
    assert body["status"] == "processing"
    assert body["custom_fields"] == PURCHASE["custom_fields"]  # not modelled, still sent
    assert "calculated_total" not in body
    assert "calculated_status" not in body["packages"][0]
    assert "calculated_total" in PURCHASE  # the GET answer is not mutated
    assert strip_calculated([{"calculated_x": 1, "y": 2}]) == [{"y": 2}]


def test_transaction_and_sync_log_payloads() -> None:
    t = Transaction("pay-1", "payment", Decimal("100.10"), "GBP", True)
    assert t.to_api()["total"] == {"number": "100.10", "currency": "gbp"}
    assert Transaction.from_api(t.to_api()) == t
    with pytest.raises(ValueError):
        SyncLogEntry(None, None, False, (SyncLogError("x", "a"), SyncLogError("x", "b")))
