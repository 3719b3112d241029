"""Month end: each calendar month's SparkLayer orders reconciled with the ERP's orders, invoices and payments.

One partition per month (UTC). A run classifies every order, writes the spreadsheet, CSV files and chart
finance opens, and the blocking check ``month_is_close_ready`` passes only when no order needs someone to
act. The schedule reconciles the previous month on the 1st; any month can be run again from the UI.

- ``definitions.py``  its own group, job and schedule
- ``partitions.py``   the monthly partitions
- ``assets.py``       ``month_end_reconciliation`` and the check ``month_is_close_ready``
- ``close.py``        the reconciliation run: read the month, validate, ``domain.reconciliation``, export
- ``gates.py``        pandera models for the input and output frames
- ``export.py``       the pack for finance: .xlsx, CSV files, chart
"""
