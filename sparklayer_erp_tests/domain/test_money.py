"""Money helpers: exact conversion, explicit half-up rounding, per-line tax, plain data without floats."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.domain.money import (
    MoneyError,
    UnknownCurrency,
    currency_exponent,
    decimal_text,
    format_amount,
    from_minor_units,
    minor_unit,
    percent_from_fraction,
    round_money,
    round_unit_price,
    sum_money,
    sum_rounded,
    tax_amount,
    to_minor_units,
    to_money,
    to_plain,
)

D = Decimal


# --- to_money ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [
    ("12.34", D("12.34")), (" 1.50 ", D("1.50")), (7, D(7)), (D("0.005"), D("0.005")), ("-3", D(-3)),
    ("1E+2", D(100)), ("0.0001", D("0.0001")),
])
def test_to_money_converts_exactly_without_rounding(raw, expected):
    value = to_money(raw)
    assert isinstance(value, Decimal)
    assert value == expected
    assert str(to_money("0.005")) == "0.005"  # never rounded on the way in


@pytest.mark.parametrize("raw", [1.5, 0.1, True, False, "NaN", "nan", "inf", "-Infinity", "sNaN", D("NaN"),
                                 D("Infinity"), "", "abc", "1,000.00", None, [1], b"1"])
def test_to_money_refuses_floats_non_finite_and_garbage(raw):
    with pytest.raises(MoneyError):
        to_money(raw)


def test_to_money_error_for_float_says_what_to_do():
    with pytest.raises(MoneyError, match="original text"):
        to_money(0.1)


# --- rounding ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [
    ("0.005", "0.01"), ("0.0049999", "0.00"), ("0.015", "0.02"), ("0.025", "0.03"),  # half-even gives 0.02
    ("2.675", "2.68"), ("1.995", "2.00"), ("-0.005", "-0.01"), ("-2.675", "-2.68"), ("-0.0049", "0.00"),
    ("0", "0.00"), (7, "7.00"), ("10.1", "10.10"), ("999999.995", "1000000.00"), ("-0.001", "0.00"),
])
def test_round_money_half_up_to_the_cent(raw, expected):
    result = round_money(raw)
    assert str(result) == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(("raw", "expected"), [
    ("0.83333", "0.8333"), ("0.00005", "0.0001"), ("0.0000499", "0.0000"), ("8.64", "8.6400"),
    ("9.99995", "10.0000"), ("-0.00005", "-0.0001"),
])
def test_round_unit_price_to_four_decimals_half_up(raw, expected):
    assert str(round_unit_price(raw)) == expected


def test_rounding_refuses_floats():
    with pytest.raises(MoneyError):
        round_money(2.675)
    with pytest.raises(MoneyError):
        round_unit_price(0.5)


# --- tax -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("net", "rate", "expected"), [
    ("10.00", "20", "2.00"), ("0.025", "20", "0.01"),  # 0.005 exactly → up
    ("0.02", "25", "0.01"),  # 0.005 → up
    ("0.03", "17.5", "0.01"),  # 0.00525
    ("0.01", "20", "0.00"),  # 0.002
    ("12.34", "0", "0.00"), ("-0.025", "20", "-0.01"),  # credit line: symmetric
    ("8.33", "20", "1.67"),  # 1.666
    ("0.12", "12.5", "0.02"),  # 0.015 → up
])
def test_tax_amount_per_line_half_up(net, rate, expected):
    assert str(tax_amount(D(net), D(rate))) == expected


def test_tax_amount_refuses_negative_rate_and_float():
    with pytest.raises(MoneyError):
        tax_amount(D("10"), D("-1"))
    with pytest.raises(MoneyError):
        tax_amount(10.0, D("20"))


def test_percent_from_fraction():
    assert percent_from_fraction(D("0.20")) == D(20)
    assert percent_from_fraction("0.175") == D("17.5")


# --- sums and formatting -------------------------------------------------------------------------------
def test_sum_money_is_exact_and_decimal_even_when_empty():
    assert sum_money([]) == D(0) and isinstance(sum_money([]), Decimal)
    assert sum_money(["1.10", 2, D("0.005")]) == D("3.105")
    with pytest.raises(MoneyError):
        sum_money([D("1"), 0.5])


def test_sum_rounded_rounds_each_amount_first_like_an_invoice():
    assert sum_rounded(["0.005", "0.005"]) == D("0.02")
    assert round_money(sum_money(["0.005", "0.005"])) == D("0.01")  # the other rule gives another answer


@pytest.mark.parametrize(("raw", "expected"), [
    ("1234.5", "1,234.50"), ("8.6400", "8.64"), ("9.99960", "9.9996"), ("1E+3", "1,000.00"), ("-0.1", "-0.10"), ("0", "0.00"),
])
def test_format_amount(raw, expected):
    assert format_amount(D(raw)) == expected


# --- plain data ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sample:
    team: OwnerTeam
    amount: Decimal
    when: dt.date
    tags: frozenset


def test_to_plain_makes_json_ready_data_with_exact_decimal_strings():
    plain = to_plain({"s": _Sample(OwnerTeam.FINANCE, D("12.50"), dt.date(2026, 1, 31), frozenset({"b", "a"})),
                      3: (D("1E+2"), None, True)})
    assert plain == {"s": {"team": "finance", "amount": "12.50", "when": "2026-01-31", "tags": ["a", "b"]},
                     "3": ["100", None, True]}
    json.dumps(plain)


def test_to_plain_by_value_spells_equal_decimals_once():
    assert to_plain([D("12.50"), D("12.5"), D("-0.00"), D("1E+2")], decimals_by_value=True) == [
        "12.5", "12.5", "0", "100"]
    assert decimal_text(D("0.10")) == "0.10"
    assert decimal_text(D("0.10"), by_value=True) == "0.1"


@pytest.mark.parametrize("bad", [{"a": 1.5}, [D(1), (0.1,)], _Sample(OwnerTeam.FINANCE, 1.0, dt.date.today(), frozenset())])
def test_to_plain_refuses_floats_anywhere(bad):
    with pytest.raises(MoneyError):
        to_plain(bad)


def test_to_plain_refuses_unknown_objects_and_keys():
    with pytest.raises(TypeError):
        to_plain(object())
    with pytest.raises(TypeError):
        to_plain({(1, 2): "x"})


# --- properties ----------------------------------------------------------------------------------------
amounts = st.decimals(min_value=D("-100000"), max_value=D("100000"), places=6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(amounts)
def test_round_money_is_nearest_cent_idempotent_and_ties_go_away_from_zero(x):
    r = round_money(x)
    assert abs(r - x) <= D("0.005")
    assert round_money(r) == r
    assert r.as_tuple().exponent == -2
    if abs(r - x) == D("0.005"):
        assert abs(r) > abs(x)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=D("100000"), places=2), st.decimals(min_value=0, max_value=25, places=2))
def test_tax_amount_is_within_half_a_cent_of_the_exact_tax(net, rate):
    tax = tax_amount(net, rate)
    assert abs(tax - net * rate / 100) <= D("0.005")
    assert tax >= 0


# --- minor units per currency (ISO 4217 exponent): one property test set per exponent -----------------------

EXPONENTS = {"JPY": 0, "GBP": 2, "KWD": 3}
per_currency = pytest.mark.parametrize(("currency", "exponent"), list(EXPONENTS.items()))
units = st.integers(min_value=-(10**15), max_value=10**15)


def test_the_table_knows_the_three_exponents_and_their_minor_units():
    assert {c: currency_exponent(c) for c in EXPONENTS} == EXPONENTS
    assert [minor_unit(c) for c in EXPONENTS] == [D("1"), D("0.01"), D("0.001")]
    assert currency_exponent("gbp") == 2  # SparkLayer spells codes in lower case in money objects


@per_currency
@settings(max_examples=60, deadline=None)
@given(n=units)
def test_minor_units_round_trip_exactly(currency, exponent, n):
    amount = from_minor_units(n, currency)
    assert amount.as_tuple().exponent == -exponent  # exactly the currency's decimals
    assert to_minor_units(amount, currency) == n
    assert round_money(amount, currency) == amount  # already a whole number of minor units


@per_currency
@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=-(10**12), max_value=10**12), digit=st.integers(min_value=0, max_value=9))
def test_rounding_is_half_up_with_ties_away_from_zero(currency, exponent, n, digit):
    # n minor units plus `digit` tenths of a minor unit: below 5 rounds towards zero, 5 and above away
    amount = from_minor_units(n, currency) + D(digit).scaleb(-exponent - 1) * (1 if n >= 0 else -1)
    rounded = round_money(amount, currency)
    away = 1 if n >= 0 else -1
    expected = n + (away if digit >= 5 else 0)
    assert to_minor_units(rounded, currency) == expected
    assert abs(rounded - amount) <= minor_unit(currency) / 2  # nearest minor unit
    assert round_money(-amount, currency) == -rounded or rounded == 0  # symmetric: ties away from zero


@per_currency
@settings(max_examples=40, deadline=None)
@given(tenths=st.integers(min_value=1, max_value=4))
def test_tiny_negative_amounts_round_to_plain_zero_never_negative_zero(currency, exponent, tenths):
    tiny = -D(tenths).scaleb(-exponent - 1)  # less than half a minor unit below zero
    rounded = round_money(tiny, currency)
    assert rounded == 0 and not rounded.is_signed()
    assert str(rounded) == ("0" if exponent == 0 else "0." + "0" * exponent)
    assert str(from_minor_units(0, currency)) == str(rounded)


@per_currency
@settings(max_examples=40, deadline=None)
@given(n=units, extra=st.integers(min_value=1, max_value=9))
def test_more_precision_than_the_currency_has_is_refused(currency, exponent, n, extra):
    amount = from_minor_units(n, currency) + D(extra).scaleb(-exponent - 1)
    with pytest.raises(MoneyError, match=currency):
        to_minor_units(amount, currency)
    assert to_minor_units(round_money(amount, currency), currency) in (n, n + 1)  # after an explicit rounding


@pytest.mark.parametrize("code", ["XYZ", "", "EURO", "G B", None])
def test_an_unknown_currency_is_refused_everywhere(code):
    calls = [lambda: currency_exponent(code), lambda: minor_unit(code), lambda: to_minor_units("1", code),
             lambda: from_minor_units(1, code)]
    if code is not None:  # round_money without a currency means the cent, on purpose
        calls.append(lambda: round_money("1.00", code))
    for call in calls:
        with pytest.raises(UnknownCurrency, match="unknown currency"):
            call()


def test_minor_units_refuse_floats_and_bools():
    with pytest.raises(MoneyError):
        to_minor_units(1.5, "GBP")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        from_minor_units(True, "GBP")
    with pytest.raises(MoneyError):
        from_minor_units(1.0, "JPY")  # type: ignore[arg-type]
