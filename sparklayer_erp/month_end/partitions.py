"""Partitions, defined once: month-end reconciliation runs per calendar month (UTC)."""

import dagster as dg

monthly = dg.MonthlyPartitionsDefinition(start_date="2026-01-01", end_offset=1)
