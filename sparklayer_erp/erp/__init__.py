"""The ERP side: one port every flow talks to, and one adapter per ERP behind it.

- ``port.py``   ``ErpPort``, the Protocol of everything the integration asks of an ERP, in business terms
                (master data reads, lookup-before-create of orders, approve, cancel, amend, status,
                payments, orders of a period), and ``ErpTechnicalError`` for "retry later"
- ``tryton/``   the Tryton 8.2 adapter over JSON-RPC (``tryton.adapter.TrytonErp``)

A new ERP is a new folder here implementing ``port.py``; ``ErpResource`` in ``resources.py`` picks it, and it
must pass the port tests in ``sparklayer_erp_tests/erp/``. The flows and ``domain`` do not change.
"""
