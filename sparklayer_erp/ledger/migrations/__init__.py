"""Alembic scripts for the ledger (a package only so that ``env.py`` ships with the wheel)."""
