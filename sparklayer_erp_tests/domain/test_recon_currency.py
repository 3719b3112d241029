"""Reconciliation across currencies: each order in its own currency (to its minor unit), totals in the
company's currency at the ERP's rate, and the currency classes."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.domain.reconciliation import (
    RECON_CLASSES,
    ReconClass,
    close_ready,
    minor_unit_frames,
    reconcile_month,
)
from sparklayer_erp.month_end.gates import (
    ByCurrencySchema,
    ErpOrdersSchema,
    ReconOrdersSchema,
    SlOrdersSchema,
)
from sparklayer_erp_tests.domain.recon_builders import AS_OF, MONTH_END, MONTH_START, Frames

D = Decimal
C = ReconClass


def run(f: Frames, **kw):
    return reconcile_month(**f.frames(), as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END, **kw)


def row(result, pid: str) -> pd.Series:
    return result.orders.set_index("purchase_id").loc[pid]


def test_each_order_is_compared_in_its_own_currency_to_its_minor_unit():
    f = Frames()
    f.sl("JP", total="1500", currency="JPY").erp(1, "JP", total="1501", currency="JPY", rate="0.0052")
    f.sl("KW", total="10.125", currency="KWD").erp(2, "KW", total="10.125", currency="KWD", rate="2.5678")
    f.sl("GB", total="10.125").erp(3, "GB", total="10.13")  # GBP: 10.125 rounds to 10.13 at the edge
    result = run(f)
    jp, kw, gb = row(result, "JP"), row(result, "KW"), row(result, "GB")
    assert (jp["recon_class"], jp["difference"]) == (C.AMOUNT_MISMATCH, D("-1"))  # one yen
    assert str(jp["sl_total"]) == "1500" and str(kw["sl_total"]) == "10.125" and str(gb["sl_total"]) == "10.13"
    assert kw["recon_class"] == gb["recon_class"] == C.COMMITTED_NOT_INVOICED
    assert (jp["currency"], kw["currency"], gb["currency"]) == ("JPY", "KWD", "GBP")
    assert "Amounts in JPY." in jp["reason"] and "1,500" in jp["reason"] and "GBP" not in gb["reason"]
    ReconOrdersSchema.validate(result.orders, lazy=True)


def test_the_tolerance_is_in_minor_units_of_each_orders_currency():
    f = Frames()
    f.sl("JP", total="1500", currency="JPY").erp(1, "JP", total="1502", currency="JPY", rate="0.0052")
    f.sl("KW", total="10.000", currency="KWD").erp(2, "KW", total="10.002", currency="KWD", rate="2.5")
    result = run(f, amount_tolerance_pence=2)
    assert {row(result, p)["recon_class"] for p in ("JP", "KW")} == {C.COMMITTED_NOT_INVOICED}
    result = run(f, amount_tolerance_pence=1)
    assert {row(result, p)["recon_class"] for p in ("JP", "KW")} == {C.AMOUNT_MISMATCH}


def test_company_currency_totals_use_the_erps_rate_rounded_half_up_per_order():
    f = Frames()
    # 100.01 EUR x 0.8571 = 85.718571 -> 85.72 GBP; 0.07 EUR x 0.5 = 0.035 -> 0.04 (tie away from zero)
    f.sl("E1", total="100.01", currency="EUR").erp(1, "E1", total="100.01", currency="EUR", rate="0.8571")
    f.sl("E2", total="0.07", currency="EUR").erp(2, "E2", total="0.07", currency="EUR", rate="0.5")
    f.sl("J1", total="1000", currency="JPY").erp(3, "J1", total="1000", currency="JPY", rate="0.00525")  # 5.25
    f.sl("G1", total="20.00").erp(4, "G1", total="20.00")  # company currency, no rate given: rate 1
    result = run(f)
    by = result.orders.set_index("purchase_id")
    assert list(by.loc[["E1", "E2", "J1", "G1"], "erp_total_company"]) == [D("85.72"), D("0.04"), D("5.25"),
                                                                            D("20.00")]
    assert by.loc["E1", "company_currency_rate"] == D("0.8571")
    assert by.loc["G1", "company_currency_rate"] == D("1")
    t = result.totals
    assert (t["sl_total"], t["erp_total"], t["difference"]) == (D("111.01"), D("111.01"), D("0.00"))
    assert result.company_currency == "GBP"
    per = result.by_currency.set_index("currency")
    assert per.loc["EUR", "sl_total"] == D("100.08") and per.loc["EUR", "sl_total_company"] == D("85.76")
    assert str(per.loc["JPY", "erp_total"]) == "1000" and per.loc["JPY", "erp_total_company"] == D("5.25")
    assert per.loc["GBP", "sl_total"] == per.loc["GBP", "sl_total_company"] == D("20.00")
    ByCurrencySchema.validate(result.by_currency, lazy=True)
    for frame in (result.by_class, result.by_customer, result.by_payment_method):
        assert sum(frame["sl_total"], D(0)) == t["sl_total"]  # every breakdown is in the company currency


def test_a_company_currency_other_than_pounds():
    f = Frames(company_currency="EUR")
    f.sl("E", total="10.00").erp(1, "E", total="10.00")
    f.sl("G", total="10.00", currency="GBP").erp(2, "G", total="10.00", currency="GBP", rate="1.1667")
    result = run(f, company_currency="EUR")
    assert result.totals["erp_total"] == D("21.67")
    assert "Amounts in GBP." in row(result, "G")["reason"] and "Amounts in" not in row(result, "E")["reason"]


def test_a_missing_rate_blocks_only_foreign_currency_orders():
    f = Frames().sl("E", total="50.00", currency="EUR").erp(1, "E", total="50.00", currency="EUR")
    f.sl("G", total="50.00").erp(2, "G", total="50.00")
    result = run(f)
    e = row(result, "E")
    assert (e["recon_class"], e["owner"], bool(e["explained"])) == (C.MISSING_CURRENCY_RATE, OwnerTeam.FINANCE,
                                                                   False)
    assert e["erp_total_company"] == D("0.00") and pd.isna(e["company_currency_rate"])
    assert row(result, "G")["recon_class"] == C.COMMITTED_NOT_INVOICED
    assert [b.recon_class for b in close_ready(result).blockers] == [C.MISSING_CURRENCY_RATE]


def test_rate_differences_within_the_tolerance_are_explained_outside_they_block():
    f = Frames()
    f.sl("SAME", currency="EUR", rate="0.85").erp(1, "SAME", currency="EUR", rate="0.85")
    f.sl("NEAR", currency="EUR", rate="0.85").erp(2, "NEAR", currency="EUR", rate="0.858")  # 0.94 %
    f.sl("FAR", currency="EUR", rate="0.85").erp(3, "FAR", currency="EUR", rate="0.86")  # 1.18 %
    result = run(f)
    assert row(result, "SAME")["recon_class"] == C.COMMITTED_NOT_INVOICED
    assert row(result, "NEAR")["recon_class"] == C.RATE_DIFFERENCE_WITHIN_TOLERANCE
    assert row(result, "FAR")["recon_class"] == C.RATE_DIFFERENCE_OUTSIDE_TOLERANCE
    assert "0.86" in row(result, "FAR")["reason"] and "0.85" in row(result, "FAR")["reason"]
    wider = run(f, rate_tolerance=D("0.02"))
    assert row(wider, "FAR")["recon_class"] == C.RATE_DIFFERENCE_WITHIN_TOLERANCE
    assert RECON_CLASSES[C.RATE_DIFFERENCE_WITHIN_TOLERANCE].explained
    assert not RECON_CLASSES[C.RATE_DIFFERENCE_OUTSIDE_TOLERANCE].explained


def test_a_currency_the_erp_does_not_know_is_finances_not_a_missing_order():
    f = Frames().sl("CHF", total="10.00", currency="CHF").sl("GBP", total="10.00")
    everything = run(f)  # without the ERP's list every ISO currency counts as known
    assert row(everything, "CHF")["recon_class"] == C.MISSING_IN_ERP
    result = run(f, erp_currencies=["GBP", "EUR"])
    chf = row(result, "CHF")
    assert (chf["recon_class"], chf["owner"]) == (C.CURRENCY_UNKNOWN_TO_ERP, OwnerTeam.FINANCE)
    assert "CHF" in chf["reason"]
    assert row(result, "GBP")["recon_class"] == C.MISSING_IN_ERP
    # a code that is not ISO 4217 at all is never known; its amounts are shown with two decimals
    odd = run(Frames().sl("X", total="1.50", currency="XTS"))
    assert row(odd, "X")["recon_class"] == C.CURRENCY_UNKNOWN_TO_ERP and str(row(odd, "X")["sl_total"]) == "1.50"


def test_an_erp_order_in_another_currency_is_a_currency_mismatch():
    result = run(Frames().sl("P", currency="EUR", rate="0.85").erp(1, "P", currency="USD", rate="0.79"))
    r = row(result, "P")
    assert r["recon_class"] == C.CURRENCY_MISMATCH
    assert "EUR" in r["reason"] and "USD" in r["reason"]


def test_absent_currency_columns_mean_the_company_currency_at_rate_1():
    f = Frames().sl("P", total="10.005").erp(1, "P", total="10.01").invoice(1, "INV1", total="10.01")
    frames = f.frames()
    plain = {k: v.drop(columns=[c for c in ("currency",) if c in v.columns]) for k, v in frames.items()}
    assert "currency" not in plain["sl_orders"] and "currency" not in plain["erp_orders"]
    a = reconcile_month(**frames, as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END)
    b = reconcile_month(**plain, as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    assert b.orders.loc[0, "currency"] == "GBP" and b.orders.loc[0, "company_currency_rate"] == D("1")


# --- the edge: Decimal records -> minor units ----------------------------------------------------------------


def test_the_edge_rounds_each_amount_half_up_to_its_currencys_minor_unit_and_children_inherit_it():
    f = Frames()
    f.sl("J", total="100.5", currency="jpy").erp(1, "J", total="-0.5", currency="JPY", rate="0.005")
    f.invoice(1, "INV-J", total="100.5", due="0.49").pay("INV-J", "99.5")
    f.sl("K", total="1.0005", currency="KWD").erp(2, "K", total="1.0004", currency="KWD", rate="2.5")
    f.line("J", "SKU", 1, "100.5").line("K", "SKU", 1, "1.0005")
    raw = f.raw()
    minor = minor_unit_frames(**raw, company_currency="GBP")
    assert list(minor["sl_orders"]["total_gross"]) == [101, 1001]  # 100.5 JPY -> 101 yen; 1.0005 KWD -> 1001
    assert list(minor["sl_orders"]["currency"]) == ["JPY", "KWD"]
    assert list(minor["erp_orders"]["total"]) == [-1, 1000]  # ties away from zero, below too
    assert list(minor["erp_invoices"][["total", "amount_due"]].iloc[0]) == [101, 0]  # the ERP order's currency
    assert list(minor["erp_payments"]["amount"]) == [100]  # the invoice's currency
    assert list(minor["sl_lines"]["line_total_gross"]) == [101, 1001]  # the order's currency
    assert all(minor[k][c].dtype == np.int64 for k in minor for c in minor[k].columns
               if c in ("total_gross", "total", "amount", "line_total_gross"))


def test_the_edge_refuses_floats_and_leaves_integers_alone():
    raw = Frames().sl("P").erp(1, "P").raw()
    with pytest.raises(TypeError, match="Decimal"):
        minor_unit_frames(**{**raw, "sl_orders": raw["sl_orders"].assign(total_gross=[120.0])})
    once = minor_unit_frames(**raw)
    twice = minor_unit_frames(**once)
    pd.testing.assert_frame_equal(once["sl_orders"], twice["sl_orders"])


def test_the_gates_refuse_decimal_money_rather_than_coerce_it_and_check_rates():
    raw = Frames().sl("P", total="120.50").erp(1, "P", currency="EUR", rate="0.85").raw()
    with pytest.raises(pa.errors.SchemaErrors) as err:
        SlOrdersSchema.validate(raw["sl_orders"], lazy=True)  # Decimal 120.50 would coerce to 120
    assert "total_gross" in set(err.value.failure_cases["column"])
    minor = minor_unit_frames(**raw)
    ErpOrdersSchema.validate(minor["erp_orders"], lazy=True)
    with pytest.raises(pa.errors.SchemaErrors):
        ErpOrdersSchema.validate(minor["erp_orders"].assign(company_currency_rate=[0.85]), lazy=True)
    with pytest.raises(pa.errors.SchemaErrors):
        ErpOrdersSchema.validate(minor["erp_orders"].assign(currency=["EURO"]), lazy=True)
