"""The hand-off codec: asset outputs as compressed JSON with tagged values, never pickled.

Frames keep their dtypes, index and cell types (``Decimal``, dates, timestamps, lists, ...) exactly; a stored
value can only ever become pandas frames, plain values and the project's own dataclasses and enums. Kept apart
from the I/O manager (``handoff``) so that loading the code location, which every run worker does, does not
import pandas and numpy: only a run that hands a value on loads this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import json
import math
import zlib
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import CategoricalDtype, pandas_dtype

OUR_MODULES = "sparklayer_erp."
_TAG = "$"


class HandoffError(Exception):
    """A value cannot be handed off (a type the codec does not know) or a stored one cannot be read back."""


# --- the codec: JSON with tagged values -------------------------------------------------------------------------


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _our_class(path: str) -> type:
    """The class named ``module:qualname``, refused unless it is one of the project's dataclasses or enums."""
    module, _, qualname = path.partition(":")
    if not module.startswith(OUR_MODULES):
        raise HandoffError(f"a stored hand-off names {path!r}, which is not one of the project's types")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type) or not (dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)):
        raise HandoffError(f"a stored hand-off names {path!r}, which is not a dataclass or an enum")
    return obj


def _dtype_spec(dtype: Any) -> Any:
    if isinstance(dtype, CategoricalDtype):
        return {"categories": _enc(list(dtype.categories)), "ordered": bool(dtype.ordered)}
    return str(dtype)


def _dtype(spec: Any) -> Any:
    if isinstance(spec, dict):
        return CategoricalDtype(categories=_dec(spec["categories"]), ordered=spec["ordered"])
    return pandas_dtype(spec)


def _column(values: pd.Series | pd.Index) -> dict[str, Any]:
    dtype = values.dtype
    if dtype.kind in "iub" and not isinstance(dtype, CategoricalDtype) and isinstance(dtype, np.dtype):
        cells: list[Any] = values.tolist()  # plain ints / bools, no NaN possible
    else:
        cells = [_enc(v) for v in values.astype(object).tolist()]
    return {"dtype": _dtype_spec(dtype), "v": cells}


def _uncolumn(doc: dict[str, Any], index: pd.Index | None = None) -> pd.Series:
    dtype = _dtype(doc["dtype"])
    series = pd.Series([_dec(v) for v in doc["v"]], dtype=object, index=index)
    return series if dtype == np.dtype(object) else series.astype(dtype)


def _enc_index(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.MultiIndex):
        raise HandoffError("frames with a MultiIndex cannot be handed off")
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": _enc(index.name)}
    return {**_column(index), "name": _enc(index.name)}


def _dec_index(doc: dict[str, Any]) -> pd.Index:
    if "range" in doc:
        return pd.RangeIndex(*doc["range"], name=_dec(doc["name"]))
    return pd.Index(_uncolumn(doc), name=_dec(doc["name"]))


def _enc(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, np.bool_):
        return int(value) if isinstance(value, int) else {_TAG: "np", "t": str(value.dtype), "v": int(value)}
    if isinstance(value, np.bool_):
        return {_TAG: "np", "t": "bool", "v": bool(value)}
    if isinstance(value, float | np.floating):
        plain = float(value)
        if not math.isfinite(plain):
            return {_TAG: "float", "v": repr(plain), **({"t": str(value.dtype)} if isinstance(value, np.floating)
                                                         else {})}
        return plain if isinstance(value, float) else {_TAG: "np", "t": str(value.dtype), "v": plain}
    if isinstance(value, decimal.Decimal):
        return {_TAG: "dec", "v": str(value)}
    if value is pd.NaT:
        return {_TAG: "nat"}
    if isinstance(value, pd.Timestamp):
        return {_TAG: "ts", "v": value.isoformat()}
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, pd.Timedelta):
        return {_TAG: "td", "v": int(value.value)}
    if isinstance(value, enum.Enum):
        _our_class(_class_path(type(value)))
        return {_TAG: "enum", "cls": _class_path(type(value)), "v": _enc(value.value)}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [_enc(v) for v in value]}
    if isinstance(value, frozenset | set):
        return {_TAG: "frozenset" if isinstance(value, frozenset) else "set", "v": [_enc(v) for v in value]}
    if isinstance(value, dict):
        return {_TAG: "dict", "v": [[_enc(k), _enc(v)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return {_TAG: "ndarray", "col": _column(pd.Series(value))}
    if isinstance(value, pd.DataFrame):
        if value.columns.has_duplicates:
            raise HandoffError("frames with duplicate column names cannot be handed off")
        return {_TAG: "frame", "index": _enc_index(value.index), "columns": _enc_index(value.columns),
                "data": [_column(value[c]) for c in value.columns], "attrs": _enc(dict(value.attrs))}
    if isinstance(value, pd.Series):
        return {_TAG: "series", "index": _enc_index(value.index), "name": _enc(value.name), "col": _column(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        path = _class_path(type(value))
        _our_class(path)
        return {_TAG: "dataclass", "cls": path,
                "v": {f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise HandoffError(f"a {type(value).__module__}.{type(value).__qualname__} cannot be handed off between runs")


def _dec(doc: Any) -> Any:
    if isinstance(doc, list):
        return [_dec(v) for v in doc]
    if not isinstance(doc, dict):
        return doc
    tag = doc[_TAG]
    if tag == "np":
        return np.dtype(doc["t"]).type(doc["v"])
    if tag == "float":
        plain = float(doc["v"])
        return np.dtype(doc["t"]).type(plain) if "t" in doc else plain
    if tag == "dec":
        return decimal.Decimal(doc["v"])
    if tag == "nat":
        return pd.NaT
    if tag == "ts":
        return pd.Timestamp(doc["v"])
    if tag == "datetime":
        return dt.datetime.fromisoformat(doc["v"])
    if tag == "date":
        return dt.date.fromisoformat(doc["v"])
    if tag == "td":
        return pd.Timedelta(doc["v"], unit="ns")
    if tag == "enum":
        return _our_class(doc["cls"])(_dec(doc["v"]))
    if tag == "tuple":
        return tuple(_dec(v) for v in doc["v"])
    if tag == "set":
        return {_dec(v) for v in doc["v"]}
    if tag == "frozenset":
        return frozenset(_dec(v) for v in doc["v"])
    if tag == "dict":
        return {_dec(k): _dec(v) for k, v in doc["v"]}
    if tag == "ndarray":
        return _uncolumn(doc["col"]).to_numpy()
    if tag == "frame":
        index = _dec_index(doc["index"])
        columns = _dec_index(doc["columns"])
        frame = pd.DataFrame({i: _uncolumn(col, index) for i, col in enumerate(doc["data"])}, index=index)
        frame.columns = columns
        frame.attrs.update(_dec(doc["attrs"]))
        return frame
    if tag == "series":
        return _uncolumn(doc["col"], _dec_index(doc["index"])).rename(_dec(doc["name"]))
    if tag == "dataclass":
        cls = _our_class(doc["cls"])
        values = {name: _dec(v) for name, v in doc["v"].items()}
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        obj = cls(**{n: v for n, v in values.items() if fields[n].init})
        for name, v in values.items():
            if not fields[name].init:
                object.__setattr__(obj, name, v)
        return obj
    raise HandoffError(f"a stored hand-off holds an unknown tag {tag!r}")


def encode(value: Any) -> bytes:
    """``value`` as compressed JSON (raises :class:`HandoffError` for a type it cannot keep exactly)."""
    text = json.dumps(_enc(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return zlib.compress(text.encode("utf-8"), 6)


def decode(payload: bytes) -> Any:
    return _dec(json.loads(zlib.decompress(payload).decode("utf-8")))
