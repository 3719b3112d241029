"""The command line: ledger migrations by command, and configuration errors that name the variable."""

from sparklayer_erp.cli import main


def test_ledger_migrations_run_by_command(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert main(["ledger", "upgrade", "--url", url]) == 0
    assert "revision 0001" in capsys.readouterr().out
    assert main(["ledger", "downgrade", "--url", url]) == 0
    assert "revision None" in capsys.readouterr().out


def test_a_malformed_setting_stops_the_command_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("LEDGER_DATABASE_URL", "mysql://nope")
    assert main(["ledger", "current"]) == 2
    assert "LEDGER_DATABASE_URL" in capsys.readouterr().err
