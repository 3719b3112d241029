"""Monitoring: drift between SparkLayer and the ERP, every open exception with its owner, and alerts.

Every five minutes the drift monitor compares both systems and records what disagrees as exceptions; the
exceptions view lists everything open by owner team, announces new exceptions, sends a daily digest and
reports them to SparkLayer's sync log. A failed sync run alerts operations, once per outage.

- ``definitions.py``  jobs and schedules of the drift monitor and the exceptions view, sensor, accept job
- ``assets.py``       ``drift_monitor`` and ``integration_exceptions``
- ``sensor.py``       ``sync_failure_alerts``: run-failure alerts
- ``watch.py``        the drift rules wired to SparkLayer, the ERP and the ledger; the exception report
- ``accept.py``       ``accept_exception_job``: a person accepts one exception with a reason
"""
