"""Pure conversions: status letters, states, terms, external ids, exact JSON numbers, config."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sparklayer_erp.domain.models import ErpOrderState, Invoice
from sparklayer_erp.erp.netsuite import queries as q
from sparklayer_erp.erp.netsuite.config import (
    NetSuiteConfig,
    NetSuiteConfigError,
    host_for_account,
    parse_locations,
)
from sparklayer_erp.erp.netsuite.mapping import (
    company_rate,
    credit_memo_external_id,
    credit_memo_text,
    credit_note_from_row,
    fulfilment_state,
    implied_tax_rate,
    invoice_state,
    line_amount,
    net_for_gross,
    num,
    order_state,
    payment_external_id,
    payment_terms_days,
    reference_from_credit_memo_external_id,
    reference_from_payment_external_id,
    status_letter,
    truthy,
    valid_external_id,
)
from sparklayer_erp.erp.netsuite.masterdata import price_at
from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp_tests.erp.netsuite.support import oauth_config, tba_config


def _invoice(due: str, state: str = "posted") -> Invoice:
    return Invoice(number="INV1", state=state, total=Decimal("10"), amount_due=Decimal(due))


@pytest.mark.parametrize(("letter", "state"), [
    ("A", ErpOrderState.PENDING_APPROVAL), ("B", ErpOrderState.COMMITTED), ("C", ErpOrderState.CANCELLED),
    ("D", ErpOrderState.COMMITTED), ("E", ErpOrderState.COMMITTED), ("F", ErpOrderState.COMMITTED),
])
def test_status_letters_map_to_states(letter, state):
    assert order_state(letter, fulfilled=letter in "DEF") is state


def test_billed_is_done_only_when_every_invoice_is_paid():
    assert order_state("G", True, [_invoice("0", "paid")]) is ErpOrderState.DONE
    assert order_state("G", True, [_invoice("0", "paid"), _invoice("4.50")]) is ErpOrderState.COMMITTED
    assert order_state("G", True, [_invoice("4.50"), _invoice("9", "cancelled")]) is ErpOrderState.COMMITTED


def test_closed_is_cancelled_unless_something_was_fulfilled_or_billed():
    assert order_state("H", False) is ErpOrderState.CANCELLED
    assert order_state("H", True) is ErpOrderState.DONE
    assert order_state("H", False, [_invoice("0", "paid")]) is ErpOrderState.DONE
    assert order_state("H", False, [_invoice("0", "cancelled")]) is ErpOrderState.CANCELLED


def test_unknown_letter_is_technical():
    with pytest.raises(ErpTechnicalError):
        order_state("Z", False)


def test_status_letter_reads_every_shape():
    assert status_letter({"statuscode": "SalesOrd:B", "status": "B"}) == "B"
    assert status_letter({"status": "D"}) == "D"
    assert status_letter({"status": {"id": "F", "refName": "Pending Billing"}}) == "F"
    assert fulfilment_state("C") == "done" and fulfilment_state("A") == "picked"
    assert invoice_state("A") == "posted" and invoice_state("B") == "paid" and invoice_state("V") == "cancelled"


def test_terms_days_from_names():
    assert payment_terms_days("Net 30") == 30
    assert payment_terms_days("Net 60") == 60
    assert payment_terms_days("Due on receipt") == 0
    assert payment_terms_days("Whenever") is None
    assert payment_terms_days(None) is None


def test_payment_external_ids_are_safe_and_round_trip():
    xid = payment_external_id("pi_3N|x y")
    assert valid_external_id(xid) and xid.startswith("SLPAY-")
    assert reference_from_payment_external_id(xid) == "pi_3N_x_y"
    assert not valid_external_id("RED|PO|1337") and valid_external_id("0f6e-ab_12")


def test_numbers_go_out_exactly_or_not_at_all():
    assert num(Decimal("54.10")) == 54.1 and num(Decimal("2.000")) == 2 and isinstance(num(Decimal("2.0")), int)
    with pytest.raises(ValueError):
        num(Decimal("0.12345678901234567890"))


def test_truthy_reads_suiteql_booleans():
    assert truthy("T") and truthy(True) and not truthy("F") and not truthy(None)


def test_price_breaks_pick_the_highest_threshold_reached():
    points = [(Decimal(1), Decimal("0.90")), (Decimal(120), Decimal("0.85"))]
    assert price_at(points, Decimal(12)) == Decimal("0.90")
    assert price_at(points, Decimal(120)) == Decimal("0.85")
    assert price_at([], Decimal(1)) is None


# ------------------------------------------------------------------ config

def test_host_is_derived_from_the_account_id_and_can_be_overridden():
    assert host_for_account("1234567_SB1") == "https://1234567-sb1.suitetalk.api.netsuite.com"
    assert oauth_config().rest_root == "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
    local = oauth_config(base_url="http://127.0.0.1:8123/")
    assert local.rest_root == "http://127.0.0.1:8123/services/rest"
    assert local.token_url == "http://127.0.0.1:8123/services/rest/auth/oauth2/v1/token"


def test_repr_hides_secrets():
    for config in (oauth_config(), tba_config()):
        text = repr(config)
        for secret in config.secrets():
            assert secret not in text
        assert "***" in text and config.account_id in text


def test_locations_parse_and_refuse_malformed_text():
    assert parse_locations("1=MAIN, 2=NORTH") == {"1": "MAIN", "2": "NORTH"}
    assert parse_locations("") == {}
    for bad in ("1", "1=A,1=B", "1=A,2=A", "=A"):
        with pytest.raises(NetSuiteConfigError):
            parse_locations(bad)


def test_missing_credentials_name_the_settings():
    with pytest.raises(NetSuiteConfigError, match="NETSUITE_PRIVATE_KEY"):
        NetSuiteConfig(account_id="1", auth="oauth2", client_id="c", certificate_id="k")
    with pytest.raises(NetSuiteConfigError, match="NETSUITE_TOKEN_SECRET"):
        NetSuiteConfig(account_id="1", auth="tba", consumer_key="a", consumer_secret="b", token_id="c")
    with pytest.raises(NetSuiteConfigError, match="NETSUITE_AUTH"):
        NetSuiteConfig(account_id="1", auth="basic")  # type: ignore[arg-type]


# ------------------------------------------------------------------ queries

def test_every_query_binds_as_many_params_as_it_has_placeholders():
    for name, query in q.all_queries().items():
        assert query.q.count("?") == len(query.params), name
        assert "ORDER BY" in query.q, name


def test_in_lists_are_bounded():
    with pytest.raises(ValueError):
        q.orders_by_id(list(range(q.IN_CHUNK + 1)))
    with pytest.raises(ValueError):
        q.orders_by_id([])


def test_config_from_settings_reads_every_netsuite_variable():
    from sparklayer_erp_tests.erp.netsuite.support import pem, rsa_key

    one_line_key = pem(rsa_key()).replace("\n", "\\n")
    config = NetSuiteConfig.from_settings({
        "NETSUITE_ACCOUNT_ID": "1234567_SB1", "NETSUITE_AUTH": "OAUTH2", "NETSUITE_CLIENT_ID": "c",
        "NETSUITE_CERTIFICATE_ID": "k", "NETSUITE_PRIVATE_KEY": one_line_key, "NETSUITE_SUBSIDIARY": "3",
        "NETSUITE_LOCATIONS": "1=MAIN,2=NORTH", "NETSUITE_CONCURRENCY": "8", "NETSUITE_BASE_URL": "",
    })
    assert config.private_key_pem == pem(rsa_key()).strip()
    assert (config.auth, config.subsidiary, config.concurrency) == ("oauth2", "3", 8)
    assert config.locations == {"1": "MAIN", "2": "NORTH"} and config.base_url is None
    with pytest.raises(NetSuiteConfigError, match="NETSUITE_CONCURRENCY"):
        NetSuiteConfig.from_settings({"NETSUITE_ACCOUNT_ID": "1", "NETSUITE_CONCURRENCY": "many"})


def test_credit_refusals_are_recognised_by_text_not_by_every_user_error():
    import httpx

    from sparklayer_erp.erp.netsuite.errors import credit_refusal_kind, parse_error
    from sparklayer_erp_tests.erp.netsuite.support import error_body

    def err(detail: str, code: str = "USER_ERROR", status: int = 400):
        return parse_error(httpx.Response(status, json=error_body(status, code, detail)), "PATCH", "/x")

    assert credit_refusal_kind(err("Error while accessing a resource. Customer is on credit hold.")) == "hold"
    assert credit_refusal_kind(err("This order exceeds the customer's credit limit.")) == "limit"
    assert credit_refusal_kind(err("You cannot fulfill a pending approval order.")) is None
    assert credit_refusal_kind(err("Customer is on credit hold.", code="INVALID_CONTENT")) is None


def test_line_amount_is_netsuites_rounded_amount_or_half_up_from_base_quantity_and_rate():
    assert line_amount({"foreignamount": "-2.23", "quantity": "5", "rate": "0.445"}) == Decimal("2.23")
    assert line_amount({"quantity": "5", "rate": "0.445"}) == Decimal("2.23")  # half-up, not half-even
    assert line_amount({"quantity": "12", "rate": "0.72125"}) == Decimal("8.66")
    assert line_amount({"quantity": "3", "rate": "150.5"}, "JPY") == Decimal("452")  # yen have no minor unit
    assert line_amount({"quantity": "3", "rate": "0.1235"}, "KWD") == Decimal("0.371")


def test_company_rate_is_one_at_home_and_the_orders_rate_abroad():
    assert company_rate({"exchangerate": "0.8"}, "GBP", "GBP") == 1
    assert company_rate({"exchangerate": "0.8"}, "EUR", "GBP") == Decimal("0.8")
    assert company_rate({}, "EUR", "GBP") is None
    assert company_rate({"exchangerate": "0"}, "EUR", "GBP") is None


@pytest.mark.parametrize(("tax", "taxable", "rate"), [
    ("4.44", "22.19", "0.2"), ("0.00", "10.00", "0"), ("8.88", "100.00", "0.0888"), ("1.78", "20.00", "0.089"),
    ("88.75", "1000.00", "0.08875"),
])
def test_implied_tax_rate_is_the_simplest_rate_behind_rounded_figures(tax, taxable, rate):
    found = implied_tax_rate(Decimal(tax), Decimal(taxable))
    assert found == Decimal(rate)


@pytest.mark.parametrize(("gross", "rate", "step"), [
    ("5.00", "0.2", "0.01"), ("10.37", "0.2", "0.01"), ("0.01", "0.2", "0.01"), ("7.77", "0.08875", "0.01"),
    ("1000", "0.1", "1"), ("5.125", "0.05", "0.001"),
])
def test_net_for_gross_gives_back_the_gross_with_half_up_tax_in_the_minor_unit(gross, rate, step):
    net = net_for_gross(Decimal(gross), Decimal(rate), Decimal(step))
    assert net == net.quantize(Decimal(step))
    assert net + (net * Decimal(rate)).quantize(Decimal(step), rounding="ROUND_HALF_UP") == Decimal(gross)


def test_implied_tax_rate_in_a_currency_without_cents():
    assert implied_tax_rate(Decimal("91"), Decimal("909"), Decimal(1)) == Decimal("0.1")


def test_credit_memo_external_ids_keep_the_reference_start_and_read_back_without_prefix():
    xid = credit_memo_external_id("sparklayer-refund:P1:R 1")
    assert valid_external_id(xid)
    assert reference_from_credit_memo_external_id(xid) == "sparklayer-refund_P1_R_1"
    assert reference_from_credit_memo_external_id("CM-BY-HAND") == "CM-BY-HAND"
    assert credit_memo_external_id("R-1") != payment_external_id("R-1")


def test_credit_note_rows_carry_goods_returned_reason_and_state():
    memo = credit_memo_text("broken", goods_returned=True)
    note = credit_note_from_row({"id": "9", "tranid": "CM1001", "foreigntotal": "12.00", "statuscode": "CustCred:B",
                                 "trandate": "2026-03-01", "externalid": credit_memo_external_id("X-1"),
                                 "memo": memo}, "INV1001", [])
    assert (note.goods_returned, note.reason, note.state, note.total) == (True, "broken", "paid", Decimal("12.00"))
    assert (note.reference, note.invoice_number, note.credit_note_id) == ("X-1", "INV1001", "9")
    plain = credit_note_from_row({"id": "10", "tranid": "CM1002", "foreigntotal": "-3", "statuscode": "CustCred:A",
                                  "memo": "price dispute"}, None, [])
    assert (plain.goods_returned, plain.reason, plain.reference, plain.total) == (
        False, "price dispute", "CM1002", Decimal(3))
