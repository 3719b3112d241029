"""A local NetSuite emulator — built from Oracle's documentation, it is **not NetSuite**.

It serves the parts of SuiteTalk REST web services that an order-to-cash integration uses, so the NetSuite
adapter, the port contract suite and the demo run without a NetSuite account; pointing the same adapter at
a real account is a change of URL and credentials. Starlette + uvicorn + one SQLite file, seeded with the
same demo company as the local Tryton (``demo_data``).

Serve: ``python -m sparklayer_erp.demo.netsuite --host 127.0.0.1 --port 8800 --db PATH``; in tests
``server.run_emulator(db_path)`` (background thread, free port) or the ``netsuite_emulator`` fixture.
``credentials.adapter_settings(base_url)`` gives the ``NETSUITE_*`` settings for an adapter.

What it reproduces
- Auth: ``POST /services/rest/auth/oauth2/v1/token`` (client credentials, JWT assertion checked for ``kid``,
  ``iss``, ``aud``, ``scope``, ``exp - iat <= 3600`` and its PS256/384/512 or ES256/384/512 signature), Bearer
  tokens that expire (3600 s, shorter on request), TBA ``OAuth realm=…`` headers with HMAC-SHA256 signatures
  verified; refusals are 401 ``INVALID_LOGIN``.
- Record service for salesOrder, itemFulfillment, invoice, customerPayment, creditMemo, customer,
  inventoryItem, unitsType, priceLevel, location, currency, term, subsidiary: create 204 + ``Location``, GET
  with links / refs / enums / ``expandSubResources`` / ``fields`` / ``simpleEnumFormat``, PATCH (null clears,
  ``replaceSelectedFields``), ``PUT eid:`` upsert, ``eid:`` everywhere, DELETE, sublist merge / append /
  ``?replace=``, external ids unique per record group (case-insensitive), case-insensitive type and field
  names, ``X-NetSuite-PropertyNameValidation: Error``, listing with a simple ``q``.
- Sales orders: ``orderStatus`` A/B with approve and un-approve rules, status letters A–H derived from the
  lines, credit check on create and approve (``creditHoldOverride`` ON/AUTO/OFF, credit limit vs balance +
  unbilled orders), close lines to cancel, stock committed on approval and released on close.
- Transforms: salesOrder → itemFulfillment (shipStatus A/B/C, packages with tracking numbers, on-hand stock
  lowered when shipped), salesOrder → invoice (bills fulfilled, unbilled quantities, tax at the demo VAT
  rate), invoice → customerPayment (applies; invoice Paid In Full at zero), invoice → creditMemo (the
  invoice lines named, or all; applied to the amount remaining); ``POST customerPayment`` with ``apply``.
- Order currency and ``exchangeRate`` (the currency record's rate when the order is entered), line
  amounts rounded half-up to the cent (``transactionline.foreignamount``), tax on the subtotal.
- Customers with their ``addressBook`` (one default billing/shipping address per demo customer).
- SuiteQL on SQLite tables with NetSuite's names (transaction, transactionline, customer, item, pricing,
  pricelevel, customeritempricing, inventoryitemlocations, location, currency, term, subsidiary, unitstype,
  unitstypeuom, NextTransactionLink, TrackingNumber, TrackingNumberMap, DeletedRecord) kept in step with
  every record write; ``BUILTIN.DF``/``CF``, ``TO_CHAR``/``TO_DATE``/``TO_TIMESTAMP``/``SYSDATE``/``NVL``;
  ``Prefer: transient`` required; paging keys, ``limit`` ≤ 1000, ``offset % limit == 0``, 100,000-row cap;
  unknown table / column → 400 ``INVALID_PARAMETER`` with NetSuite's detail texts.
- Asynchronous requests: ``Prefer: respond-async`` → 202 + job / task / result, a repeated
  ``X-NetSuite-Idempotency-Key`` → 400 ``IDEMPOTENCY_ERROR`` with the first job's ``Location``.
- Governance: in-flight requests counted, 429 ``CONCURRENCY_LIMIT_EXCEEDED`` above the limit (no
  Retry-After), ``GET /services/rest/system/v1/governanceLimits``.
- Faults at run time on ``/_emulator/faults`` (forced 429 and 500 shares or counts, dropped connections,
  commit-then-drop and commit-then-delay for writes, latency, concurrency limit, token lifetime),
  ``/_emulator/expire-tokens``, ``/_emulator/reset`` (re-seed), ``/_emulator/preferences`` (credit
  handling, default order status), ``/_emulator/clock`` (move the business date forward: overdue invoices).

What it does not reproduce
- Batch requests, the metadata catalog, sub-resource line URLs (``…/item/1``), record actions
  (``@approve``), saved searches, RESTlets, SOAP; async jobs that are still pending (every job completes
  at once).
- Any record type or field not listed above; custom fields and forms; subsidiaries beyond one; multi-book;
  SuiteTax detail (one tax rate on goods and shipping); discounts, shipping items (a flat ``shippingCost``
  is taxed and billed on the first invoice), gift certificates.
- Status C (Cancelled) — no documented REST way to reach it; pick/pack requirements of Advanced Shipping;
  inventory detail, bins, lots; fulfilment or invoice deletion and voids; deposits; returns.
- Overdue-based holds only when the ``days_overdue_for_hold`` preference is set; Warn Only behaves like
  Ignore.
- SuiteQL is SQLite underneath: Oracle functions beyond the translated ones, ROWNUM, and Oracle's exact
  typing, sorting and NULL rules are not reproduced; datetimes are UTC text, not user-preference formats.
- Per-integration concurrency allocation, frequency limits, request size limits, the 15-minute timeout.

Every choice taken where the documentation is silent or "not confirmed" is in ``not_confirmed.py``.
"""
