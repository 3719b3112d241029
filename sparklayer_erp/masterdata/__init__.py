"""Master data, ERP -> SparkLayer: customers and credit, price lists and prices, pack sizes, stock.

The ERP is the system of record. Each dataset is read from the ERP port, passes a pandera gate (bad rows
are held back as exceptions for their owner team, and a mostly broken extract stops the push), and only
records that changed since the last successful push are sent to SparkLayer.

- ``definitions.py``  the stock job (every 5 minutes), the hourly and full jobs and their schedules, the resend job
- ``assets.py``       ``erp_*`` extract assets with blocking checks, ``sparklayer_*`` push assets
- ``catalog.py``      what those need when the code location loads (dataset names, labels, models by path):
                      free of pandas and pandera, because every run worker (the order sync's too) loads it
- ``extract.py``      read the ERP, gate each frame, quarantine what fails (exceptions with owners)
- ``sync.py``         synchronizer: push changed rows, report to the sync log
- ``resend.py``       push chosen records again in full, whatever the change hashes say
- ``mapper.py``       ERP records -> SparkLayer request bodies
- ``gates/``          pandera models every extract must pass
"""
