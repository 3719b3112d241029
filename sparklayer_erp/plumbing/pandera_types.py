"""pandera model → Dagster type, without dagster-pandera (which pins pandas < 3).

The gates (``masterdata.gates``, ``month_end.gates``) stay plain pandera so the domain tests and
the benchmark never load Dagster. Defining a type here touches neither pandas nor pandera: every run worker
loads the whole code location before its run, the order sync's included, and those imports would add some
0.4 s to each. The model is named by import path and loaded by the type check, when a step runs; the column
table (each field's title and the description written for finance and operations people) is built then too,
by ``column_schema``, for the step to attach to its materialisation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    import pandera.pandas as pa


def load(path: str) -> Any:
    """The object a ``"module:attr"`` path names, imported now."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def pandera_dagster_type(model_path: str, *, name: str, description: str | None = None) -> dg.DagsterType:
    """A ``DagsterType`` whose type check validates the whole frame lazily against the pandera model at
    ``model_path`` ("module:Class"), imported by the first check, not when the type is defined."""

    def _check(_context: object, value: object) -> dg.TypeCheck:
        import pandas as pd
        import pandera.errors

        model = load(model_path)
        if not isinstance(value, pd.DataFrame):
            return dg.TypeCheck(success=False,
                                description=f"Expected a DataFrame, got {type(value).__name__}")
        try:
            model.to_schema().validate(value, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases
            return dg.TypeCheck(
                success=False,
                description=f"{len(cases)} failure case(s) for {model.__name__}",
                metadata={"num_failures": len(cases),
                          "failures": dg.MetadataValue.md(cases.head(20).to_markdown())},
            )
        return dg.TypeCheck(success=True, metadata={"row_count": len(value)})

    return dg.DagsterType(type_check_fn=_check, name=name, description=description)


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchemaMetadataValue:
    """The model's columns (name, dtype, "title — description") as ``dagster/column_schema`` metadata."""
    columns = [
        dg.TableColumn(name=name, type=str(column.dtype),
                       description=" — ".join(p for p in (column.title, column.description) if p) or None)
        for name, column in model.to_schema().columns.items()
    ]
    return dg.TableSchemaMetadataValue(dg.TableSchema(columns=columns))
