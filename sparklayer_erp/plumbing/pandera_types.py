"""pandera model → Dagster type, without dagster-pandera (which pins pandas < 3).

The gates (``masterdata.gates``, ``month_end.gates``) stay plain pandera so the domain tests and
the benchmark never load Dagster. The column table shown in the Dagster UI uses each field's title and the
description written for finance and operations people.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pandera.errors
import pandera.pandas as pa


def pandera_dagster_type(model: type[pa.DataFrameModel]) -> dg.DagsterType:
    """A ``DagsterType`` whose type check validates the whole frame lazily against ``model``."""
    schema = model.to_schema()

    def _check(_context: object, value: object) -> dg.TypeCheck:
        if not isinstance(value, pd.DataFrame):
            return dg.TypeCheck(success=False,
                                description=f"Expected a DataFrame, got {type(value).__name__}")
        try:
            schema.validate(value, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases
            return dg.TypeCheck(
                success=False,
                description=f"{len(cases)} failure case(s) for {model.__name__}",
                metadata={"num_failures": len(cases),
                          "failures": dg.MetadataValue.md(cases.head(20).to_markdown())},
            )
        return dg.TypeCheck(success=True, metadata={"row_count": len(value)})

    columns = [
        dg.TableColumn(name=name, type=str(column.dtype),
                       description=" — ".join(p for p in (column.title, column.description) if p) or None)
        for name, column in schema.columns.items()
    ]
    return dg.DagsterType(
        type_check_fn=_check,
        name=model.__name__,
        typing_type=pd.DataFrame,
        description=(model.__doc__ or "").strip() or None,
        metadata={"schema": dg.TableSchemaMetadataValue(dg.TableSchema(columns=columns))},
    )
