"""The command line: ledger migrations by command, a guarded downgrade, and configuration errors that name the
variable; every command documents itself."""

from __future__ import annotations

import pytest

from sparklayer_erp import cli as cli_module
from sparklayer_erp.cli import cli, main
from sparklayer_erp.ledger import current_revision, head_revision


def test_ledger_migrations_run_by_command(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert main(["ledger", "upgrade", "--url", url]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert main(["ledger", "current", "--url", url]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert main(["ledger", "downgrade", "--url", url, "--revision", "base", "--yes"]) == 0
    assert "revision None" in capsys.readouterr().out


def test_a_malformed_setting_stops_the_command_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("LEDGER_DATABASE_URL", "mysql://nope")
    assert main(["ledger", "current"]) == 2
    assert "LEDGER_DATABASE_URL" in capsys.readouterr().err


def test_downgrade_needs_a_revision(ledger_url, runner):
    result = runner.invoke(cli, ["ledger", "downgrade", "--yes"])
    assert result.exit_code == 2 and "give the revision" in result.output
    assert current_revision(ledger_url) is None  # nothing was even created


def test_downgrade_without_a_terminal_refuses_unless_told_yes(ledger, ledger_url, runner):
    refused = runner.invoke(cli, ["ledger", "downgrade", "base"])
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert current_revision(ledger_url) == head_revision()

    done = runner.invoke(cli, ["ledger", "downgrade", "base", "--yes"])
    assert done.exit_code == 0 and "revision None" in done.output
    assert current_revision(ledger_url) is None


def test_downgrade_asks_at_a_terminal(ledger, ledger_url, runner, monkeypatch):
    monkeypatch.setattr(cli_module, "_interactive", lambda: True)
    declined = runner.invoke(cli, ["ledger", "downgrade", "--revision", "base"], input="n\n")
    assert declined.exit_code == 1 and "drops every ledger table" in declined.output
    assert current_revision(ledger_url) == head_revision()

    confirmed = runner.invoke(cli, ["ledger", "downgrade", "--revision", "base"], input="y\n")
    assert confirmed.exit_code == 0 and current_revision(ledger_url) is None


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=" ".join)
def test_every_command_and_option_has_help(path, runner):
    command = dict(_commands(cli))[path]
    assert command.help, f"{' '.join(path)} has no help"
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"{' '.join(path)} {param.opts} has no help"
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output


def test_the_old_commands_and_flags_still_parse(runner, monkeypatch):
    calls = {}
    monkeypatch.setattr(cli_module, "run_demo", lambda port, simulate, automation: calls.update(
        port=port, simulate=simulate, automation=automation) or 0)
    assert runner.invoke(cli, ["demo", "--no-simulate", "--no-automation", "--port", "3100"]).exit_code == 0
    assert calls == {"port": 3100, "simulate": False, "automation": False}
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    assert calls == {"port": 3000, "simulate": True, "automation": True}
    from sparklayer_erp.demo import tryton_local
    from sparklayer_erp.demo.sandbox import server

    seen = []
    monkeypatch.setattr(server, "main", lambda argv: seen.append(("sandbox", argv)) or 0)
    monkeypatch.setattr(tryton_local, "main", lambda argv: seen.append(("erp", argv)) or 0)
    monkeypatch.setenv("ERP_URL", "http://127.0.0.1:8123")
    monkeypatch.setenv("SPARKLAYER_BASE_URL", "http://127.0.0.1:8700")
    for args in (["sandbox", "--port", "8701", "--db", "x.sqlite"], ["sandbox"], ["erp", "serve"],
                 ["erp", "serve", "--port", "8009"], ["erp", "build"], ["erp", "info"]):
        assert runner.invoke(cli, args).exit_code == 0, args
    assert seen == [("sandbox", ["--port", "8701", "--db", "x.sqlite"]), ("sandbox", ["--port", "8700"]),
                    ("erp", ["serve", "--port", "8123"]), ("erp", ["serve", "--port", "8009"]),
                    ("erp", ["build"]), ("erp", ["info"])]
    assert runner.invoke(cli, ["erp", "nonsense"]).exit_code == 2
