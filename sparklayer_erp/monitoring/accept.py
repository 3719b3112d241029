"""Let a person accept (ignore) one exception with a reason, from the Dagster UI's launchpad or the command line.

Why a job: finance and operations people already work in the UI; launching ``accept_exception_job`` with
``{exception_id, reason, by}`` is a form with three fields, and the run log records who decided what. The
ledger keeps the decision: the next evaluations still count the problem but leave it accepted (no alerts, not
in SparkLayer's sync log, listed apart in ``integration_exceptions``). When the cause disappears the exception
is resolved as usual; if the problem comes back later it is a new exception.

The job and ``sparklayer-erp accept`` share :func:`accept_exception_now`: the same checks, the same ledger
write, the same plain-language refusals.
"""

# No ``from __future__ import annotations``: Dagster reads the config and resource annotations as types.
import dagster as dg
from pydantic import Field

from sparklayer_erp.ledger import ExceptionRow, ExceptionStatus, Ledger, LedgerError, NotFound
from sparklayer_erp.resources import LedgerResource

ACCEPT_JOB_NAME = "accept_exception_job"


class AcceptRefused(ValueError):
    """The acceptance cannot be recorded; the message says why in words a person understands."""


class AcceptExceptionConfig(dg.Config):
    """The Launchpad form: the Dagster type check makes ``exception_id`` a whole number before the run starts;
    :func:`check_acceptance` refuses the rest (an id below 1, an empty reason or name) with a plain message."""

    exception_id: int = Field(
        description="the number after # in the Id column of open_exceptions (integration_exceptions), e.g. 42")
    reason: str = Field(description="why no action is needed, in words a colleague will understand later")
    by: str = Field(description="your name or e-mail (and team)")


def check_acceptance(exception_id: object, reason: object, by: object) -> tuple[int, str, str]:
    """The cleaned ``(exception_id, reason, by)``; :class:`AcceptRefused` naming the field otherwise."""
    if isinstance(exception_id, bool) or not isinstance(exception_id, int):
        raise AcceptRefused(f"exception_id must be a whole number (the Id shown as #42 is 42), got {exception_id!r}")
    if exception_id < 1:
        raise AcceptRefused(f"exception_id must be 1 or more (the Id shown as #42 is 42), got {exception_id}")
    if not isinstance(reason, str) or not reason.strip():
        raise AcceptRefused("reason must not be empty: say why no action is needed, e.g. "
                            "'Refunded by the card provider on 26 Nov, ticket 8812'")
    if not isinstance(by, str) or not by.strip():
        raise AcceptRefused("by must not be empty: give your name or e-mail, so colleagues know who decided")
    return exception_id, reason.strip(), by.strip()


def accept_exception_now(ledger: Ledger, exception_id: object, reason: object, by: object) -> ExceptionRow:
    """Check the request and record the acceptance; :class:`AcceptRefused` with a plain message when the id is
    unknown, already resolved, or a field is wrong. Accepting an accepted exception again updates the reason."""
    exception_id, reason, by = check_acceptance(exception_id, reason, by)
    try:
        return ledger.accept(exception_id, reason, by)
    except NotFound:
        raise AcceptRefused(f"no exception with id {exception_id}: check the Id in open_exceptions "
                            f"(integration_exceptions in the Dagster UI, or `sparklayer-erp exceptions`)") from None
    except LedgerError as exc:
        row = ledger.get_exception(exception_id)
        if row is not None and row.status == ExceptionStatus.RESOLVED:
            when = f" on {row.resolved_at:%Y-%m-%d %H:%M} UTC" if row.resolved_at else ""
            raise AcceptRefused(f"exception {exception_id} ({row.kind}, {row.entity_type} {row.entity_id}) was "
                                f"already resolved{when}: its cause is gone, there is nothing to accept") from None
        raise AcceptRefused(str(exc)) from None


@dg.op(description="Mark one open exception as accepted, with the reason and who decided.")
def accept_exception(context: dg.OpExecutionContext, config: AcceptExceptionConfig,
                     ledger: LedgerResource) -> dg.Output[int]:
    try:
        row = accept_exception_now(ledger.ledger(), config.exception_id, config.reason, config.by)
    except AcceptRefused as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    context.log.info(f"exception {row.id} ({row.kind}, {row.entity_type} {row.entity_id}) accepted by {row.accepted_by}")
    return dg.Output(row.id, metadata={
        "exception_id": row.id, "kind": row.kind, "owner": row.owner_team,
        "about": f"{row.entity_type} {row.entity_id}", "message": row.message,
        "accepted_by": row.accepted_by or "", "reason": row.accepted_reason or "",
    })


@dg.job(description="Accept (ignore) one exception with a reason: it stays recorded, is no longer alerted or "
                    "reported to SparkLayer, and closes by itself when its cause is gone. In the Launchpad fill "
                    "exception_id (the number after # in open_exceptions), reason and by.",
        tags={"kind": "decision"})
def accept_exception_job() -> None:
    accept_exception()
