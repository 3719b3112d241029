"""Content hashes: equal meaning gives an equal hash, any real change gives a different one."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from sparklayer_erp.domain.hashing import (
    canonical_json,
    content_hash,
    hash_dict,
    hash_series,
    key_from_text,
    key_text,
    row_hash_series,
    row_hashes,
)
from sparklayer_erp.domain.models import Address, ErpCustomer
from sparklayer_erp.domain.money import MoneyError


def test_content_hash_ignores_spelling_but_not_meaning():
    a = {"price": Decimal("12.50"), "on": dt.date(2026, 1, 31), "skus": ["A", "B"]}
    b = {"skus": ["A", "B"], "on": dt.date(2026, 1, 31), "price": Decimal("12.5")}  # other key order, 12.5
    assert content_hash(a) == content_hash(b)
    assert canonical_json(a) == '{"on":"2026-01-31","price":"12.5","skus":["A","B"]}'
    assert content_hash({**a, "price": Decimal("12.51")}) != content_hash(a)
    assert content_hash({**a, "skus": ["B", "A"]}) != content_hash(a)  # list order is meaning
    assert content_hash(Decimal("100")) == content_hash(Decimal("1E+2"))
    assert len(content_hash(a)) == 64


def test_content_hash_refuses_floats():
    with pytest.raises(MoneyError):
        content_hash({"price": 0.1})


def test_content_hash_is_the_same_in_another_process():
    customer = ErpCustomer("C1", "Acme", "a@acme.example", "Net 30", 30, Decimal("1000.00"), Decimal("0"),
                           False, "TRADE", None, addresses=(Address("Acme", "1 St", "York", "Y1", "GB"),))
    code = ("from decimal import Decimal; from sparklayer_erp.domain.models import Address, ErpCustomer; "
            "from sparklayer_erp.domain.hashing import content_hash; "
            "print(content_hash(ErpCustomer('C1', 'Acme', 'a@acme.example', 'Net 30', 30, "
            "Decimal('1000'), Decimal('0.00'), False, 'TRADE', None, "
            "addresses=(Address('Acme', '1 St', 'York', 'Y1', 'GB'),))))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123"}).stdout.strip()
    assert other == content_hash(customer)


def _prices() -> pd.DataFrame:
    return pd.DataFrame({
        "price_list_code": ["TRADE", "TRADE", "TRADE", "WHOLESALE"],
        "sku": ["A", "A", "B", "A"],
        "min_quantity": pd.Series([1, 12, 1, 1], dtype=object),
        "unit_price": pd.Series([Decimal("1.00"), Decimal("0.90"), Decimal("2.00"), Decimal("0.80")],
                                dtype=object),
        "currency": ["GBP"] * 4,
    })


KEY = ["price_list_code", "sku"]
VALUES = ["min_quantity", "unit_price", "currency"]


def test_row_hashes_one_hash_per_key_combining_the_breaks():
    hashes = row_hashes(_prices(), KEY, VALUES)
    assert set(hashes) == {("TRADE", "A"), ("TRADE", "B"), ("WHOLESALE", "A")}
    assert all(len(h) == 16 and int(h, 16) >= 0 for h in hashes.values())
    assert len(set(hashes.values())) == 3


def test_row_hashes_do_not_depend_on_row_order_spelling_or_dtype():
    base = row_hashes(_prices(), KEY, VALUES)
    shuffled = _prices().iloc[[3, 1, 2, 0]]
    assert row_hashes(shuffled, KEY, VALUES) == base
    respelled = _prices()
    respelled["unit_price"] = [Decimal("1"), Decimal("0.9000"), Decimal("2"), Decimal("0.8")]
    respelled["min_quantity"] = respelled["min_quantity"].astype("int64")
    assert row_hashes(respelled, KEY, VALUES) == base


def test_row_hashes_see_every_real_change():
    base = row_hashes(_prices(), KEY, VALUES)
    for column, value in [("unit_price", Decimal("0.91")), ("min_quantity", 24), ("currency", "EUR")]:
        changed = _prices()
        changed.loc[1, column] = value  # the 12-unit break of TRADE/A
        after = row_hashes(changed, KEY, VALUES)
        assert [k for k in after if after[k] != base[k]] == [("TRADE", "A")], column
    swapped = _prices()  # the same two prices on swapped breaks is a different price list
    swapped.loc[[0, 1], "unit_price"] = [Decimal("0.90"), Decimal("1.00")]
    assert row_hashes(swapped, KEY, VALUES)[("TRADE", "A")] != base[("TRADE", "A")]
    dropped = _prices().drop(index=1)  # a break removed
    assert row_hashes(dropped, KEY, VALUES)[("TRADE", "A")] != base[("TRADE", "A")]


def test_row_hashes_see_values_moving_between_columns():
    def one(price_level: str | None, contract_list: str | None) -> str:
        frame = pd.DataFrame({"account_code": ["C1"], "price_level": [price_level],
                              "contract_price_list": [contract_list]})
        return row_hashes(frame, ["account_code"], ["price_level", "contract_price_list"])["C1"]

    assert one("TRADE", "CONTRACT-C1") != one("CONTRACT-C1", "TRADE")
    assert one("TRADE", None) != one(None, "TRADE")


def test_row_hashes_single_key_and_missing_values():
    frame = pd.DataFrame({"account_code": ["C1", "C2"], "credit_limit": pd.Series([None, Decimal("0")],
                                                                                  dtype=object)})
    hashes = row_hashes(frame, ["account_code"], ["credit_limit"])
    assert set(hashes) == {"C1", "C2"}
    assert hashes["C1"] != hashes["C2"]  # "no limit" is not "limit 0"
    assert row_hashes(frame.iloc[:0], ["account_code"], ["credit_limit"]) == {}


def test_row_hashes_are_stable_across_processes():
    code = ("import pandas as pd; from decimal import Decimal; "
            "from sparklayer_erp.domain.hashing import row_hashes; "
            "df = pd.DataFrame({'k': ['a', 'b'], 'v': pd.Series([Decimal('1.5'), None], dtype=object)}); "
            "print(sorted(row_hashes(df, ['k'], ['v']).items()))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "7"}).stdout.strip()
    df = pd.DataFrame({"k": ["a", "b"], "v": pd.Series([Decimal("1.50"), None], dtype=object)})
    assert other == str(sorted(row_hashes(df, ["k"], ["v"]).items()))


def test_row_hashes_of_many_keys_equal_hashing_each_key_alone():
    rng = np.random.default_rng(5)
    n = 2000
    frame = pd.DataFrame({
        "price_list_code": rng.choice(["L1", "L2", "L3"], n).astype(object),
        "sku": [f"S{i}" for i in rng.integers(0, 300, n)],
        "min_quantity": pd.Series(rng.integers(1, 5, n).tolist(), dtype=object),
        "unit_price": pd.Series([Decimal(int(c)) / 100 for c in rng.integers(0, 10_000, n)], dtype=object),
        "currency": "GBP",
    })
    fast = row_hashes(frame, KEY, VALUES)
    for key, group in frame.groupby(KEY):
        assert fast[key] == row_hashes(group, KEY, VALUES)[key]
    assert len(fast) == frame.groupby(KEY).ngroups


def test_series_form_round_trips_through_text():
    series = row_hash_series(_prices(), KEY, VALUES)
    as_text = hash_dict(series)
    assert as_text == row_hashes(_prices(), KEY, VALUES)
    back = hash_series(as_text, KEY)
    assert back.dtype == np.uint64 and back.equals(series)
    single = row_hash_series(_prices(), ["sku"], VALUES)
    assert hash_series(hash_dict(single), ["sku"]).equals(single)
    assert hash_series({}, KEY).empty and row_hash_series(_prices().iloc[:0], KEY, VALUES).empty


def test_key_text_round_trip():
    for key in [("TRADE", "SKU-1"), "C1001", ("SKU-1", "WH")]:
        assert key_from_text(key_text(key)) == key
    assert key_text(("TRADE", "SKU-1")) == '["TRADE","SKU-1"]'
