"""`exceptions` lists what is open (or everything) per team; `accept` records a person's decision through the
same code as the Dagster job accept_exception_job, whose form refuses bad input in plain words."""

from __future__ import annotations

import pytest

from sparklayer_erp.cli import cli
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.monitoring.accept import AcceptRefused, accept_exception_job, accept_exception_now
from sparklayer_erp.resources import LedgerResource


@pytest.fixture
def rows(ledger: Ledger):
    held = ledger.raise_exception("missing_customer_link", "sales_operations", "order", "P-HELD",
                                  "Order P-HELD (PO PO-1) has no customer link", "Link the customer")
    price = ledger.raise_exception("price_mismatch", "finance", "order", "P-PRICE", "Prices differ", "Check")
    ledger.raise_exception("price_mismatch", "finance", "order", "P-PRICE", "Prices differ", "Check")
    gone = ledger.raise_exception("unknown_sku", "ecommerce", "sku", "SKU-X", "SKU-X unknown", "Add it")
    ledger.resolve("unknown_sku", "sku", "SKU-X")
    return {"held": held, "price": price, "gone": gone}


def _ids(output: str) -> list[int]:
    return [int(line.split()[0]) for line in output.splitlines()[2:] if line.strip()]


def test_exceptions_lists_open_ones_by_default_with_the_id_to_accept(rows, runner):
    result = runner.invoke(cli, ["exceptions"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split()
    assert header == ["id", "kind", "owner", "entity", "first", "seen", "last", "seen", "count", "status"]
    assert _ids(result.output) == [rows["held"].id, rows["price"].id]
    assert "order P-PRICE" in result.output and " 2 " in result.output  # entity and count
    assert _ids(runner.invoke(cli, ["exceptions", "--open"]).output) == [rows["held"].id, rows["price"].id]


def test_exceptions_filters_by_team_and_shows_every_status_with_all(rows, runner):
    assert _ids(runner.invoke(cli, ["exceptions", "--team", "finance"]).output) == [rows["price"].id]
    assert _ids(runner.invoke(cli, ["exceptions", "--team", "SALES_OPERATIONS"]).output) == [rows["held"].id]
    everything = runner.invoke(cli, ["exceptions", "--all"]).output
    assert _ids(everything) == [rows["held"].id, rows["price"].id, rows["gone"].id]
    assert "resolved" in everything
    assert _ids(runner.invoke(cli, ["exceptions", "--all", "--team", "ecommerce"]).output) == [rows["gone"].id]
    none = runner.invoke(cli, ["exceptions", "--team", "ecommerce"])
    assert none.exit_code == 0 and "no open exceptions for ecommerce" in none.output
    assert runner.invoke(cli, ["exceptions", "--team", "marketing"]).exit_code == 2


def test_accept_records_the_decision_and_it_leaves_the_open_list(rows, ledger, runner):
    pid = rows["price"].id
    result = runner.invoke(cli, ["accept", str(pid), "--reason", " Agreed with the buyer, ticket 8812 ",
                                 "--by", "Fiona Smith (finance)"])
    assert result.exit_code == 0, result.output
    assert f"exception {pid} (price_mismatch, order P-PRICE) accepted by Fiona Smith (finance)" in result.output
    row = ledger.get_exception(pid)
    assert (row.status, row.accepted_reason, row.accepted_by) == (
        "accepted", "Agreed with the buyer, ticket 8812", "Fiona Smith (finance)")
    assert _ids(runner.invoke(cli, ["exceptions"]).output) == [rows["held"].id]
    assert "accepted" in runner.invoke(cli, ["exceptions", "--all"]).output


@pytest.mark.parametrize(("args", "code", "says"), [
    (["999999", "--reason", "x", "--by", "me"], 1, "no exception with id 999999"),
    (["0", "--reason", "x", "--by", "me"], 2, "0"),
    (["abc", "--reason", "x", "--by", "me"], 2, "abc"),
    (["{held}", "--reason", "   ", "--by", "me"], 1, "reason must not be empty"),
    (["{held}", "--reason", "fine", "--by", ""], 1, "by must not be empty"),
    (["{held}", "--by", "me"], 2, "--reason"),
    (["{gone}", "--reason", "fine", "--by", "me"], 1, "already resolved"),
])
def test_accept_refuses_bad_input_and_changes_nothing(rows, ledger, runner, args, code, says):
    args = [a.format(held=rows["held"].id, gone=rows["gone"].id) for a in args]
    result = runner.invoke(cli, ["accept", *args])
    assert result.exit_code == code and says in result.output, result.output
    assert ledger.get_exception(rows["held"].id).status == "open"
    assert ledger.get_exception(rows["gone"].id).status == "resolved"


def _run_job(ledger_url: str, config: dict):
    return accept_exception_job.execute_in_process(
        run_config={"ops": {"accept_exception": {"config": config}}},
        resources={"ledger": LedgerResource(database_url=ledger_url)}, raise_on_error=False)


def _failure(result) -> str:
    event = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return event.event_specific_data.error.message


@pytest.mark.parametrize(("config", "says"), [
    ({"exception_id": 0, "reason": "x", "by": "me"}, "exception_id must be 1 or more"),
    ({"exception_id": 999_999, "reason": "x", "by": "me"}, "no exception with id 999999"),
    ({"exception_id": "{held}", "reason": "", "by": "me"}, "reason must not be empty"),
    ({"exception_id": "{held}", "reason": "ok", "by": " "}, "by must not be empty"),
    ({"exception_id": "{gone}", "reason": "ok", "by": "me"}, "already resolved"),
])
def test_the_launchpad_job_refuses_bad_input_with_a_plain_message(rows, ledger_url, config, says):
    config = {k: int(v.format(**{n: r.id for n, r in rows.items()})) if k == "exception_id" and isinstance(v, str)
              else v for k, v in config.items()}
    result = _run_job(ledger_url, config)
    assert not result.success
    message = _failure(result)
    assert says in message and "Traceback" not in message, message


def test_the_launchpad_form_is_typed_so_an_id_that_is_not_a_number_never_starts_a_run(ledger_url):
    from dagster import DagsterInvalidConfigError

    with pytest.raises(DagsterInvalidConfigError, match="exception_id"):
        _run_job(ledger_url, {"exception_id": "#42", "reason": "x", "by": "me"})
    with pytest.raises(DagsterInvalidConfigError, match="reason"):
        _run_job(ledger_url, {"exception_id": 1, "by": "me"})


def test_the_job_and_the_command_share_one_decision(rows, ledger, ledger_url):
    result = _run_job(ledger_url, {"exception_id": rows["held"].id, "reason": "test order", "by": "Ops"})
    assert result.success
    assert ledger.get_exception(rows["held"].id).accepted_by == "Ops"
    again = accept_exception_now(ledger, rows["held"].id, "a test order, ticket 7", "Ops Lead")
    assert (again.status, again.accepted_reason) == ("accepted", "a test order, ticket 7")
    with pytest.raises(AcceptRefused, match="whole number"):
        accept_exception_now(ledger, "7", "x", "y")
