"""The month-end pack is versioned: every run writes a new version (file and ledger row with its checksum), the
close records the version it used and a later run never replaces it; the migration goes up and down on SQLite
and PostgreSQL; the CLI copies a version out of the ledger; finance gets the pack attached to an e-mail."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator
from email import message_from_string
from email.policy import default as email_policy
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from sparklayer_erp.cli import cli
from sparklayer_erp.domain.reconciliation import reconcile_month
from sparklayer_erp.ledger import Ledger, current_revision, downgrade, make_engine, upgrade
from sparklayer_erp.month_end import close as flow
from sparklayer_erp.notify.delivery import AlertRouting, deliver
from sparklayer_erp_tests.domain.recon_builders import AS_OF, MONTH_END, MONTH_START, Frames
from sparklayer_erp_tests.sinks import smtp_sink

PACK_TABLES = {"month_end_packs", "month_closes"}
MONTH = f"{MONTH_START:%Y-%m}"


def blocked_month():
    """One settled order, one paid in the shop but open in the ERP (blocks the close)."""
    f = Frames().sl("OK", total="100.00").erp(1, "OK", total="100.00").invoice(1, "INV1", total="100.00", due="0")
    f.pay("INV1", "100.00")
    f.sl("CARD", method="platform_upfront", paid="60.05", total="60.05").erp(2, "CARD", total="60.05")
    f.invoice(2, "INV2", total="60.05")
    return reconcile_month(**f.frames(), as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END)


def ready_month():
    f = Frames().sl("OK", total="100.00").erp(1, "OK", total="100.00").invoice(1, "INV1", total="100.00", due="0")
    f.pay("INV1", "100.00")
    return reconcile_month(**f.frames(), as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty ledger database of each kind (named apart from the Tryton-backed fixtures of this folder)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str) -> Iterator[Ledger]:
    with Ledger.from_url(db_url) as led:
        yield led


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_pack_migration_goes_up_and_down_keeping_what_came_before(db_url: str) -> None:
    upgrade(db_url)
    with Ledger(db_url) as led:
        led.claim_order("P-1", "ACC-1", "invoice", "h")
        version = led.reserve_pack_version(MONTH, "run-1")
        led.complete_pack_version(MONTH, version, path="/x.xlsx", checksum="0" * 64, content=b"xlsx",
                                  close_ready=True)
        led.record_month_close(MONTH, version, "run-1")
    assert _tables(db_url) >= PACK_TABLES

    downgrade(db_url, "0003")
    assert current_revision(db_url) == "0003"
    assert not PACK_TABLES & _tables(db_url)
    with Ledger(db_url) as led:
        assert led.get_order_link("P-1") is not None  # the rest of the ledger is untouched

    upgrade(db_url)
    assert current_revision(db_url) == "0004"
    with Ledger(db_url) as led:
        assert led.pack_versions(MONTH) == [] and led.month_close(MONTH) is None
        assert led.reserve_pack_version(MONTH, "run-2") == 1  # numbering starts again on the new tables


def test_two_runs_write_two_versions_and_the_close_keeps_the_first_close_ready_one(store: Ledger,
                                                                                    tmp_path: Path) -> None:
    blocked = flow.publish(blocked_month(), store, tmp_path, run_id="run-a")
    ready = flow.publish(ready_month(), store, tmp_path, run_id="run-b")
    later = flow.publish(ready_month(), store, tmp_path, run_id="run-c")
    again_blocked = flow.publish(blocked_month(), store, tmp_path, run_id="run-d")

    assert [p.version for p in (blocked, ready, later, again_blocked)] == [1, 2, 3, 4]
    paths = [p.exported.spreadsheet for p in (blocked, ready, later, again_blocked)]
    assert len(set(paths)) == 4 and all(p.exists() for p in paths)  # nothing overwritten
    assert [p.name for p in paths] == [f"reconciliation-{MONTH}-v{n}.xlsx" for n in (1, 2, 3, 4)]
    assert all(p.parent.name == f"v{n}" for n, p in enumerate(paths, 1))

    rows = store.pack_versions(MONTH)
    assert [(r.version, r.run_id, r.close_ready) for r in rows] == [
        (1, "run-a", False), (2, "run-b", True), (3, "run-c", True), (4, "run-d", False)]
    for row, path in zip(rows, paths, strict=True):
        assert row.path == str(path)
        assert row.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
        assert store.pack_content(MONTH, row.version) == path.read_bytes()

    # the close used version 2; versions 3 and 4 (close-ready again, then blocked) do not move it
    assert (blocked.close, blocked.newly_closed) == (None, False)
    assert ready.newly_closed and ready.close.version == 2 and ready.close.run_id == "run-b"
    assert not later.newly_closed and later.close.version == 2
    assert store.month_close(MONTH).version == 2
    assert again_blocked.close.version == 2
    assert paths[1].read_bytes() == store.pack_content(MONTH, 2)  # the closed version's file is intact

    summary = {r[0]: r[1] for r in openpyxl.load_workbook(paths[2])["Summary"].iter_rows(values_only=True)
               if r and r[0]}
    assert summary["Pack version"].startswith(f"{MONTH} version 3")
    assert "Closed on version 2" in summary["Month close"]


def test_a_version_is_written_once_and_a_month_must_be_a_month(store: Ledger) -> None:
    version = store.reserve_pack_version(MONTH, "run-a")
    store.complete_pack_version(MONTH, version, path="/a.xlsx", checksum="a" * 64, content=b"a", close_ready=False)
    with pytest.raises(Exception, match="already written"):
        store.complete_pack_version(MONTH, version, path="/b.xlsx", checksum="b" * 64, content=b"b",
                                    close_ready=True)
    assert store.pack_content(MONTH, version) == b"a"
    with pytest.raises(ValueError, match="YYYY-MM"):
        store.reserve_pack_version("2026-13", "run-x")


def test_an_unfinished_version_is_not_listed_and_its_number_is_not_reused(store: Ledger) -> None:
    first = store.reserve_pack_version(MONTH, "crashed-run")  # the run died before writing
    second = store.reserve_pack_version(MONTH, "run-b")
    assert (first, second) == (1, 2)
    assert store.pack_versions(MONTH) == [] and store.pack_version(MONTH) is None


def test_the_cli_copies_the_closed_version_out_of_the_ledger(tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv("LEDGER_DATABASE_URL", url)
    with Ledger.from_url(url) as led:
        flow.publish(blocked_month(), led, tmp_path / "data", run_id="run-a")
        closed = flow.publish(ready_month(), led, tmp_path / "data", run_id="run-b")
        flow.publish(blocked_month(), led, tmp_path / "data", run_id="run-c")
    closed.exported.spreadsheet.unlink()  # the run's own disk is gone (a container run launcher)
    runner = CliRunner()

    listing = runner.invoke(cli, ["pack", "--month", MONTH, "--list"])
    assert listing.exit_code == 0, listing.output
    assert "closed on this" in next(line for line in listing.output.splitlines() if line.startswith("2 "))

    out = tmp_path / "finance"
    copied = runner.invoke(cli, ["pack", "--month", MONTH, "--out", str(out)])  # default: the closed version
    assert copied.exit_code == 0, copied.output
    target = out / f"reconciliation-{MONTH}-v2.xlsx"
    assert "the version the month closed on" in copied.output
    assert hashlib.sha256(target.read_bytes()).hexdigest() == closed.checksum
    assert openpyxl.load_workbook(target).sheetnames[0] == "Read me"

    assert runner.invoke(cli, ["pack", "--month", MONTH, "--out", str(out)]).exit_code == 1  # never overwrites
    third = runner.invoke(cli, ["pack", "--month", MONTH, "--version", "3", "--out", str(out)])
    assert third.exit_code == 0 and (out / f"reconciliation-{MONTH}-v3.xlsx").exists()
    assert runner.invoke(cli, ["pack", "--month", MONTH, "--version", "9"]).exit_code == 1
    assert runner.invoke(cli, ["pack", "--month", "2026-11"]).exit_code == 1  # not reconciled yet
    assert runner.invoke(cli, ["pack", "--month", "October"]).exit_code == 2


def _mail(envelope: dict):
    return message_from_string(envelope["data"], policy=email_policy)


def test_finance_gets_the_pack_by_e_mail_when_the_month_is_blocked_and_when_it_closes(store: Ledger,
                                                                                       tmp_path: Path) -> None:
    with smtp_sink() as smtp:
        url = f"mailto://127.0.0.1:{smtp.server_address[1]}?from=erp@acme.example&to=controller@acme.example"
        routing = AlertRouting(urls={"finance": (url,)}, ui_url="http://dagster.acme.example")
        sent = []
        for result, run in ((blocked_month(), "run-a"), (ready_month(), "run-b"), (ready_month(), "run-c")):
            published = flow.publish(result, store, tmp_path, run_id=run)
            alert = flow.pack_alert(result, published, routing.ui_url)
            if alert is not None:
                deliver(routing, [alert], attachments=[published.exported.spreadsheet])
            sent.append((published, alert))
        messages = list(smtp.messages)

    (blocked, blocked_alert), (closed, closed_alert), (_, rerun_alert) = sent
    assert rerun_alert is None  # a re-run of a closed month that is still close-ready tells nobody
    assert len(messages) == 2 and all(m["rcpt"] == ["controller@acme.example"] for m in messages)
    first, second = (_mail(m) for m in messages)
    assert "is blocked" in first["Subject"] and "1 order(s)" in first["Subject"]
    assert "is close-ready" in second["Subject"] and "pack version 2" in second["Subject"]
    for mail, published in ((first, blocked), (second, closed)):
        (attachment,) = list(mail.iter_attachments())
        assert attachment.get_filename() == published.exported.spreadsheet.name
        assert attachment.get_content() == published.exported.spreadsheet.read_bytes()  # the pack itself
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert published.command in body
        assert "http://dagster.acme.example/assets/month_end_reconciliation" in body
    assert "Paid in shop unpaid in ERP" in first.get_body(preferencelist=("plain",)).get_content()


def test_a_closed_month_that_is_blocked_again_says_the_close_stands(store: Ledger, tmp_path: Path) -> None:
    flow.publish(ready_month(), store, tmp_path, run_id="run-a")
    result = blocked_month()
    published = flow.publish(result, store, tmp_path, run_id="run-b")
    alert = flow.pack_alert(result, published)
    assert alert is not None and "closed on version 1" in alert.body and alert.team == "finance"
    assert "version 2" in flow.download_markdown(published)
    assert "closed on **version 1**" in flow.download_markdown(published)


def test_a_clash_with_an_existing_folder_never_overwrites_it(tmp_path: Path) -> None:
    existing = tmp_path / "reconciliation" / MONTH / "v1"
    existing.mkdir(parents=True)
    (existing / "keep.txt").write_text("from an earlier ledger")
    exported = flow.export(ready_month(), tmp_path, version=1)
    assert exported.folder != existing and exported.folder.name.startswith("v1-")
    assert (existing / "keep.txt").read_text() == "from an earlier ledger"
    assert exported.spreadsheet.exists()


def test_pack_versions_are_numbered_per_month(store: Ledger) -> None:
    later = dataclasses.replace(ready_month(), month_start=dt.date(2026, 11, 1), month_end=dt.date(2026, 12, 1))
    assert store.reserve_pack_version(MONTH, "r") == 1
    assert store.reserve_pack_version(f"{later.month_start:%Y-%m}", "r") == 1
    assert store.reserve_pack_version(MONTH, "r") == 2
