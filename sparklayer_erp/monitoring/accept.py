"""Let a person accept (ignore) one exception with a reason, from the Dagster UI's launchpad.

Why a job: finance and operations people already work in the UI; launching ``accept_exception_job`` with
``{exception_id, reason, by}`` is a form with three fields, and the run log records who decided what. The
ledger keeps the decision: the next evaluations still count the problem but leave it accepted (no alerts, not
in SparkLayer's sync log, listed apart in ``integration_exceptions``). When the cause disappears the exception
is resolved as usual; if the problem comes back later it is a new exception.
"""

# No ``from __future__ import annotations``: Dagster reads the config and resource annotations as types.
import dagster as dg
from pydantic import Field

from sparklayer_erp.ledger import LedgerError
from sparklayer_erp.resources import LedgerResource

ACCEPT_JOB_NAME = "accept_exception_job"


class AcceptExceptionConfig(dg.Config):
    exception_id: int = Field(description="the Id column of the exception in integration_exceptions")
    reason: str = Field(description="why no action is needed, in words a colleague will understand later")
    by: str = Field(description="your name or e-mail")


@dg.op(description="Mark one open exception as accepted, with the reason and who decided.")
def accept_exception(context: dg.OpExecutionContext, config: AcceptExceptionConfig,
                     ledger: LedgerResource) -> dg.Output[int]:
    try:
        row = ledger.ledger().accept(config.exception_id, config.reason, config.by)
    except (LedgerError, ValueError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    context.log.info(f"exception {row.id} ({row.kind}, {row.entity_type} {row.entity_id}) accepted by {row.accepted_by}")
    return dg.Output(row.id, metadata={
        "exception_id": row.id, "kind": row.kind, "owner": row.owner_team,
        "about": f"{row.entity_type} {row.entity_id}", "message": row.message,
        "accepted_by": row.accepted_by or "", "reason": row.accepted_reason or "",
    })


@dg.job(description="Accept (ignore) one exception with a reason: it stays recorded, is no longer alerted or "
                    "reported to SparkLayer, and closes by itself when its cause is gone.",
        tags={"kind": "decision"})
def accept_exception_job() -> None:
    accept_exception()
