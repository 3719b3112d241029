"""Orders: each confirmed SparkLayer trade order becomes one ERP sales order, exactly once, and stays in step.

A sensor picks up new, changed and cancelled purchases within seconds; the sync translates each one (or
holds it with an exception for the team that can fix it) and creates it in the ERP; the follow-up approves
pay-on-account orders, settles card orders' invoices and writes the ERP's status back to SparkLayer.

- ``definitions.py``  jobs, schedules and the sensor registration, merged by ``sparklayer_erp.definitions``
- ``assets.py``       the assets ``erp_sales_orders``, ``erp_order_approvals``, ``erp_card_payments``,
                      ``sparklayer_order_status``
- ``sensor.py``       ``order_sensor`` (bounded ticks, one run per batch) and the follow-up/sweep schedules
- ``sync.py``         synchronizer: purchases -> ERP orders, exactly once; cancels and changes before the
                      point of no return
- ``followup.py``     approvals, card payments, status back to SparkLayer
- ``mapper.py``       SparkLayer purchase <-> the domain's order shapes, and the status PUT bodies
- ``links.py``        binder: ledger order links and their states, the exception lifecycle, audit rows
"""
