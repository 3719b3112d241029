"""Pure business rules over plain data: no I/O, no Dagster, no HTTP.

Everything here is importable and testable without a server; assets, sensors and adapters call in.
"""
