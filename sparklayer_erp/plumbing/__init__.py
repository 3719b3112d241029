"""Asset plumbing every flow shares, written once so the flows do not each grow their own copy.

- ``failures.py``       the failure rule: transient errors (SparkLayer 429/5xx, dropped connections, the ERP
                        unreachable) are retried by ``TRANSIENT_RETRY``, a SparkLayer refusal stops the step
                        at once, and every failure is recorded on the ledger's sync status
- ``markdown.py``       markdown table cells and owner-team labels for run metadata
- ``pandera_types.py``  a pandera model as a Dagster type, so the gates themselves stay free of Dagster
"""
