"""The local stack for the demo and the tests: a SparkLayer sandbox, a Tryton ERP, a demo company, buyers.

Production code never imports this package; only ``sparklayer_erp.cli`` (``sparklayer-erp demo``,
``sandbox``, ``erp``) and the tests do.

- ``sandbox/``                 a local SparkLayer serving the documented API, with faults on demand
- ``tryton_local.py``          builds, caches and starts a local Tryton in its own virtualenv
- ``tryton_requirements.txt``  the pinned Tryton packages of that virtualenv
- ``tryton_seed.py``           seeds the demo company; runs inside the Tryton virtualenv
- ``demo_data.py``             the demo company's customers, items and prices, shared by both seeds
- ``bootstrap.py``             turns schedules and sensors on and launches first runs (Dagster UI's API)
- ``simulator.py``             simulated buyers placing a realistic mix of orders into the sandbox
"""
