"""The ERP port contract: what every adapter behind ``erp/port.py`` must do, run against each of them.

Every test here talks to the ERP only through ``ErpPort`` (and acts as ERP staff through a ``BackOffice``);
every expected value comes from ``demo_data``. An adapter is done when this suite passes for it.
"""
