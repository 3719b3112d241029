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
    fulfilment_state,
    invoice_state,
    num,
    order_state,
    payment_external_id,
    payment_terms_days,
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
