"""Partitions, defined once: month-end reconciliation runs per calendar month in company time.

The months are cut at midnight in ``COMPANY_TIMEZONE`` (read when the code location loads; a zone that is not
an IANA name fails loading, naming the variable): for a UK company an order placed at 00:30 on 1 July (BST,
30 June 23:30 UTC) is July's, as in its ERP.
"""

import dagster as dg

from sparklayer_erp import settings

COMPANY_TIMEZONE = str(settings.read("COMPANY_TIMEZONE"))


def monthly_partitions(timezone: str) -> dg.MonthlyPartitionsDefinition:
    """One partition per calendar month in ``timezone``, keyed by its first day (``2026-07-01``)."""
    return dg.MonthlyPartitionsDefinition(start_date="2026-01-01", end_offset=1, timezone=timezone)


monthly = monthly_partitions(COMPANY_TIMEZONE)
