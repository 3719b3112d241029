"""Money stays exact: Decimal in, integer pence inside, Decimal out; one rounding rule, tested at the edges."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparklayer_erp.domain.money import round_money
from sparklayer_erp.domain.reconciliation import ReconClass, pence_to_decimal, reconcile_month, to_pence
from sparklayer_erp.month_end.gates import ErpOrdersSchema, SlOrdersSchema
from sparklayer_erp_tests.domain.recon_builders import AS_OF, MONTH_END, MONTH_START, Frames

D = Decimal


def run(f: Frames, **kw):
    return reconcile_month(**f.frames(), as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END, **kw)


@pytest.mark.parametrize(("amount", "pence"), [
    ("0.005", 1), ("0.004", 0), ("0.0049999", 0), ("-0.005", -1), ("-0.004", 0), ("1.005", 101),
    ("2.675", 268), ("0.015", 2), ("123456789.995", 12345679000), ("10", 1000), ("1E+2", 10000),
])
def test_each_amount_rounds_half_up_to_the_cent_once(amount: str, pence: int):
    assert to_pence([D(amount)])[0] == pence
    assert pence_to_decimal(pence) == round_money(D(amount))  # the project's one rounding rule agrees


def test_pence_come_back_as_two_place_decimals():
    assert str(pence_to_decimal(0)) == "0.00"
    assert str(pence_to_decimal(-5)) == "-0.05"
    assert str(pence_to_decimal(123456)) == "1234.56"


@pytest.mark.parametrize("bad", [1.5, None, D("NaN"), D("Infinity"), "1.50", 3])
def test_non_decimal_money_is_refused(bad):
    with pytest.raises(TypeError, match="Decimal"):
        to_pence([D("1.00"), bad], column="x")


def test_half_pence_orders_total_per_document_not_on_the_sum():
    f = Frames()
    for i in range(3):
        f.sl(f"P{i}", total="0.005").erp(i + 1, f"P{i}", total="0.01")
    result = run(f)
    assert result.totals["sl_total"] == D("0.03")  # 3 × round(0.005) — not round(0.015) = 0.02
    assert result.totals["difference"] == D("0.00")
    assert set(result.orders["recon_class"]) == {ReconClass.COMMITTED_NOT_INVOICED}


def test_half_pence_edge_decides_a_mismatch_exactly():
    f = Frames().sl("UP", total="10.005").erp(1, "UP", total="10.01")  # both 1001 pence
    f.sl("DOWN", total="10.004").erp(2, "DOWN", total="10.01")  # 1000 vs 1001
    result = run(f)
    by = result.orders.set_index("purchase_id")
    assert by.loc["UP", "recon_class"] == ReconClass.COMMITTED_NOT_INVOICED
    assert by.loc["DOWN", "recon_class"] == ReconClass.AMOUNT_MISMATCH
    assert by.loc["DOWN", "difference"] == D("-0.01")
    assert str(by.loc["UP", "sl_total"]) == "10.01"


def test_large_sums_stay_exact_where_floats_would_not():
    f = Frames()
    for i in range(10):
        f.sl(f"P{i}", total="0.10").erp(i + 1, f"P{i}", total="0.10")
    f.sl("BIG", total="90071992547409.93").erp(99, "BIG", total="90071992547409.93")
    t = run(f).totals
    assert t["sl_total"] == D("90071992547410.93")  # 9,007,199,254,741,093 pence > 2**53: a float sum drifts
    assert float(9007199254741093) != 9007199254741093


amounts = st.decimals(min_value=D("-1000"), max_value=D("100000"), places=3, allow_nan=False,
                      allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(amounts, amounts, st.sampled_from(["C1", "C2", "C3"]),
                          st.sampled_from(["invoice", "on_account", "platform_upfront"]), st.booleans()),
                min_size=1, max_size=12))
def test_totals_add_up_to_the_cent_in_every_breakdown(rows):
    f = Frames()
    for i, (sl_total, erp_total, account, method, cancelled) in enumerate(rows):
        f.sl(f"P{i}", total=str(sl_total), account=account, method=method,
             status="cancelled" if cancelled else "processing").erp(i + 1, f"P{i}", total=str(erp_total),
                                                                     account=account)
    result = run(f)
    expected_sl = sum((round_money(s) for s, _, _, _, c in rows if not c), D("0.00"))
    expected_erp = sum((round_money(e) for _, e, _, _, _ in rows), D("0.00"))
    t = result.totals
    assert (t["sl_total"], t["erp_total"]) == (expected_sl, expected_erp)
    for frame in (result.by_customer, result.by_payment_method, result.by_class):
        assert sum(frame["sl_total"], D(0)) == expected_sl
        assert sum(frame["erp_total"], D(0)) == expected_erp
        assert all(s - e == d for s, e, d in zip(frame["sl_total"], frame["erp_total"], frame["difference"],
                                                 strict=True))
        assert all(v.as_tuple().exponent == -2 for v in frame["difference"])


def test_input_schemas_refuse_float_money_and_unknown_states():
    good = Frames().sl("P").erp(1, "P").frames()
    with pytest.raises(pa.errors.SchemaErrors) as err:
        SlOrdersSchema.validate(good["sl_orders"].assign(total_gross=[120.0]), lazy=True)
    assert set(err.value.failure_cases["column"]) == {"total_gross"}
    with pytest.raises(pa.errors.SchemaErrors):
        ErpOrdersSchema.validate(good["erp_orders"].assign(state=["shipped"]), lazy=True)
    dup = pd.concat([good["sl_orders"]] * 2, ignore_index=True)
    with pytest.raises(pa.errors.SchemaErrors):
        SlOrdersSchema.validate(dup, lazy=True)


def test_decimal_columns_share_objects_for_equal_amounts():
    f = Frames()
    for i in range(5):
        f.sl(f"P{i}").erp(i + 1, f"P{i}")
    totals = run(f).orders["sl_total"].to_numpy()
    assert len({id(v) for v in totals}) == 1 and totals[0] == D("120.00")
    assert isinstance(np.asarray(totals)[0], Decimal)


def test_a_float_equal_to_a_decimal_amount_is_still_refused():
    # amounts are converted once per distinct value; a float that hashes like a Decimal must not slip through
    with pytest.raises(TypeError, match="Decimal"):
        to_pence([D("1.5"), 1.5, D("1.5")], column="x")
    with pytest.raises(TypeError, match="NaN"):
        to_pence([D("1.5"), D("NaN")], column="x")


def test_equal_amounts_spelled_differently_convert_alike_and_each_rounds_once():
    assert to_pence([D("1.10"), D("1.1"), D("1.100"), D("0.005"), D("-0.005")]).tolist() == [110, 110, 110, 1, -1]
