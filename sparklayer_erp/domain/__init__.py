"""Pure business rules over plain data: no I/O, no Dagster, no HTTP, no database.

Everything here is importable and testable without a server; flows and adapters call in. It imports
nothing from ``ledger``, ``erp.tryton`` or the SparkLayer client (checked by import-linter).

- ``models.py``            the shapes the ERP port speaks (customers, items, prices, orders, refusals)
- ``orders.py``            one SparkLayer purchase -> an ERP order draft, or the problems that hold it
- ``order_lifecycle.py``   cancels and changes before/after the point of no return, approval, status back
- ``order_polling.py``     the order sensor's tick plan and cursor
- ``masterdata.py``        master data rules: change detection by hashes, stock formula, quarantine
- ``drift.py``             the drift rules; ``reconciliation.py`` the month-end classes
- ``exception_kinds.py``   every exception kind with its owner team; ``alerting.py`` what alerts say
- ``money.py``, ``hashing.py``  exact money and content hashes
"""
