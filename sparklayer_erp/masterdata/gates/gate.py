"""The quarantine gate: split a frame into rows that may be sent and rows held back, with plain reasons.

Rules:
- a row is held back if any check fails on it; every reason is kept, in words an operations or finance person
  understands ("credit limit must be empty (no limit) or an amount of 0 or more (found: -500)");
- a duplicated key holds back **every** row that shares it: we cannot know which one the ERP meant;
- a failure of the whole frame (a missing column, an unexpected one) holds back every row;
- the rows that pass, validated again on their own, pass: removing rows cannot break a uniqueness rule and
  all other checks are per row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd
import pandera.errors
import pandera.pandas as pa

REASONS = "reasons"
FAILED_CHECKS = "failed_checks"

_UNIQUENESS = ("field_uniqueness", "multiple_fields_uniqueness")


def split_valid(df: pd.DataFrame, model: type[pa.DataFrameModel]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(valid_rows, quarantined_rows)``; both keep ``df``'s index and columns.

    ``quarantined_rows`` has two more columns: ``reasons`` (list of plain sentences per row) and
    ``failed_checks`` (list of ``"column:check"`` for people debugging the integration).
    """
    work = df.reset_index(drop=True)
    try:
        model.validate(work, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        reasons, checks = _explain(exc.failure_cases, model, work)
    else:
        reasons, checks = {}, {}
    bad = sorted(reasons)
    good_mask = pd.Series(True, index=work.index)
    good_mask.iloc[bad] = False
    valid = df[good_mask.to_numpy()]
    quarantined = df.iloc[bad].copy()
    quarantined[REASONS] = pd.Series([reasons[i] for i in bad], index=quarantined.index, dtype=object)
    quarantined[FAILED_CHECKS] = pd.Series([checks[i] for i in bad], index=quarantined.index, dtype=object)
    return valid, quarantined


def _explain(failures: pd.DataFrame, model: type[pa.DataFrameModel],
             work: pd.DataFrame) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Row position → reasons and failed checks, from pandera's ``failure_cases``."""
    schema = model.to_schema()
    names = _check_names(schema)
    reasons: dict[int, list[str]] = defaultdict(list)
    checks: dict[int, list[str]] = defaultdict(list)
    frame_reasons: list[str] = []
    frame_checks: list[str] = []
    cols = ["schema_context", "column", "check", "failure_case", "index"]
    for context, column, check, case, index in failures[cols].itertuples(index=False, name=None):
        column, check = str(column), str(check)
        if context == "DataFrameSchema" and check not in _UNIQUENESS and not _missing(index):
            tag = f"row:{names.get(('', check), check)}"
        else:
            tag = f"{column}:{names.get((column, check), check)}"
        if _missing(index):
            _add(frame_reasons, _frame_reason(schema, column, check, case))
            _add(frame_checks, tag)
            continue
        row = int(index)
        if check in _UNIQUENESS:
            reason = _duplicate_reason(schema, column, check, work, row)
            if reason is None:  # a missing key is already reported as missing
                continue
        elif context == "DataFrameSchema":  # a check on the whole row: its error text is the sentence
            reason = check
        else:
            reason = _row_reason(schema, column, check, case)
        _add(reasons[row], reason)
        _add(checks[row], tag)
    if any(tag.endswith(":column_in_dataframe") for tag in frame_checks):
        # checks on the whole row cannot run without the column; the missing column is the one reason
        kept = [i for i, tag in enumerate(frame_checks) if tag.endswith(":column_in_dataframe")]
        frame_reasons = [frame_reasons[i] for i in kept]
        frame_checks = [frame_checks[i] for i in kept]
    if frame_reasons:
        for row in range(len(work)):
            reasons[row] = frame_reasons + reasons.get(row, [])
            checks[row] = frame_checks + checks.get(row, [])
    return dict(reasons), dict(checks)


def _check_names(schema: pa.DataFrameSchema) -> dict[tuple[str, str], str]:
    """(column, error text) → the check's name, so ``failed_checks`` reads ``email:plausible_email``."""
    names = {(name, c.error): c.name for name, col in schema.columns.items() for c in col.checks if c.error}
    names.update({("", c.error): c.name for c in schema.checks if c.error})
    return names


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    return pd.api.types.is_scalar(value) and not isinstance(value, str) and bool(pd.isna(value))


def _title(schema: pa.DataFrameSchema, column: str) -> str:
    col = schema.columns.get(column)
    return (col.title if col is not None and col.title else column.replace("_", " "))


def _shown(value: Any) -> str:
    if _missing(value):
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)


def _row_reason(schema: pa.DataFrameSchema, column: str, check: str, case: Any) -> str:
    title = _title(schema, column)
    if check == "not_nullable":
        return f"{title} is missing"
    if check.startswith(("dtype(", "coerce_dtype(")):
        return f"{title} has the wrong kind of value (found: {_shown(case)})"
    return f"{title} {check} (found: {_shown(case)})"


def _duplicate_reason(schema: pa.DataFrameSchema, column: str, check: str, work: pd.DataFrame,
                      row: int) -> str | None:
    cols = [column] if check == "field_uniqueness" else list(schema.unique or [column])
    values = [work.at[row, c] for c in cols]
    if any(_missing(v) or (isinstance(v, str) and not v.strip()) for v in values):
        return None
    what = " and ".join(_title(schema, c) for c in cols)
    shown = " / ".join(_shown(v) for v in values)
    return (f"the same {what} ({shown}) appears on more than one row; none of them is sent until the ERP "
            f"has only one")


def _frame_reason(schema: pa.DataFrameSchema, column: str, check: str, case: Any) -> str:
    if check == "column_in_dataframe":
        return f"the ERP extract has no {_title(schema, str(case))} column, so no row can be checked"
    if check == "column_in_schema":
        return f"the ERP extract has an unexpected column {case!r}; nothing is sent until the integration " \
               f"is updated for it"
    if check.startswith(("dtype(", "coerce_dtype(")):
        return f"the {_title(schema, column)} column has the wrong type ({case}) for the whole extract"
    return f"the whole extract could not be checked ({_title(schema, column)}: {check}: {_shown(case)})"
