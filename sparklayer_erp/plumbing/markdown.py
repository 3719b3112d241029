"""Markdown for the Dagster UI's metadata: table cells and team names, written once."""

from __future__ import annotations

import math

MISSING = "—"


def cell(value: object, missing: str = MISSING) -> str:
    """One markdown table cell: pipes escaped, newlines flattened, empty values shown as ``missing``."""
    if value is None or (isinstance(value, str) and not value) or (isinstance(value, float) and math.isnan(value)):
        return missing
    return str(value).replace("|", "\\|").replace("\n", " ")


def team_label(team: object) -> str:
    """``sales_operations`` → ``Sales operations``: how an owner team is named to people."""
    return str(team).replace("_", " ").capitalize()
