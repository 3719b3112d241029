"""`make test` brings up its own PostgreSQL when none is named or answers on 127.0.0.1:5432 (pg.py).

These tests force the throw-away path even where a server answers: they start clusters from Debian's binaries
and from the pgserver wheel (each where present), connect through SQLAlchemy/psycopg2, and check that nothing is
left behind after stop, nor after the test process is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from sparklayer_erp_tests import pg

pytestmark = pytest.mark.postgres


def _unreachable_url() -> str:
    return f"postgresql+psycopg2://postgres@127.0.0.1:{pg._free_port()}/postgres"


def _alive(pid: int) -> bool:
    """Running (a zombie is dead: some containers' PID 1 never reaps the orphaned postmaster)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def _need(kind: pg.Kind) -> None:
    if pg.find_bin_dir(kind) is None:
        pytest.skip(f"no {kind} PostgreSQL binaries on this machine")


@pytest.mark.parametrize(
    ("kind", "os_user"), [("system", None), ("pgserver", None), ("pgserver", "nobody")]
)
def test_throwaway_cluster_serves_sqlalchemy_and_is_gone_after_stop(kind: pg.Kind, os_user: str | None):
    _need(kind)
    if os_user and os.geteuid() != 0:
        pytest.skip("the OS user only matters when the tests run as root")
    server = pg.start_throwaway_postgres(kind, os_user=os_user)
    try:
        assert server.kind == kind
        assert server.url.drivername == "postgresql+psycopg2"
        assert server.url.port not in (None, 5432)
        pid = server.postmaster_pid()
        assert pid is not None and _alive(pid)
        if os.geteuid() == 0:  # initdb and postgres refuse root: the cluster belongs to a plain OS user
            import pwd

            owner = pwd.getpwuid(server.data_dir.stat().st_uid).pw_name
            assert owner == (os_user or "postgres")
        engine = sa.create_engine(server.url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE TABLE probe (id int PRIMARY KEY, note text)"))
                conn.execute(sa.text("INSERT INTO probe VALUES (1, 'übung')"))
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT note FROM probe")).scalar_one() == "übung"
                assert conn.execute(sa.text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
                assert conn.execute(sa.text("SHOW server_encoding")).scalar_one() == "UTF8"
                assert int(conn.execute(sa.text("SHOW max_connections")).scalar_one()) >= 200
        finally:
            engine.dispose()
        # the per-test database helpers work against it too
        with pg.temporary_database("sle_probe", server.url) as db_url:
            pg.check_server(db_url)
    finally:
        server.stop()
    assert not server.root.exists()
    assert not _alive(pid)
    with pytest.raises(pg.PostgresUnavailable):
        pg.check_server(server.url)
    server.stop()  # idempotent


def test_session_starts_a_throwaway_when_nothing_answers_and_exports_it_to_subprocesses(
    monkeypatch: pytest.MonkeyPatch,
):
    if pg.find_bin_dir("system") is None and pg.find_bin_dir("pgserver") is None:
        pytest.skip("no PostgreSQL binaries on this machine")
    monkeypatch.setenv(pg.SERVER_URL_ENV, "recorded")  # so monkeypatch restores the original afterwards
    monkeypatch.delenv(pg.SERVER_URL_ENV)
    session = pg.SessionServer(default_url=_unreachable_url())
    try:
        url = session.url()
        assert session.started is not None and url == session.started.url
        assert os.environ[pg.SERVER_URL_ENV] == url.render_as_string(hide_password=False)
        assert session.url() == url  # resolved once
        # A subprocess (the multi-process test's workers) finds the same server through the environment.
        child = textwrap.dedent(f"""
            import os, sqlalchemy as sa
            engine = sa.create_engine(os.environ[{pg.SERVER_URL_ENV!r}])
            with engine.connect() as conn:
                print(conn.execute(sa.text("SELECT current_setting('port')")).scalar_one())
        """)
        out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True)
        assert int(out.stdout.strip()) == session.started.port
        # A default that answers is used as is: nothing more is started.
        monkeypatch.delenv(pg.SERVER_URL_ENV)
        second = pg.SessionServer(default_url=url)
        assert second.url() == url and second.started is None
        root = session.started.root
    finally:
        session.stop()
    assert pg.SERVER_URL_ENV not in os.environ
    assert not root.exists()
    with pytest.raises(pg.PostgresUnavailable):
        pg.check_server(url)


def test_a_named_server_wins_and_nothing_is_started(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(pg.SERVER_URL_ENV, "postgresql://ci:secret@db.example:6543/admin")
    session = pg.SessionServer(default_url=_unreachable_url())
    url = session.url()
    assert session.started is None
    assert url.render_as_string(hide_password=False) == "postgresql+psycopg2://ci:secret@db.example:6543/admin"
    session.stop()
    assert os.environ[pg.SERVER_URL_ENV] == "postgresql://ci:secret@db.example:6543/admin"


def test_a_killed_test_process_leaves_no_cluster_behind():
    if pg.find_bin_dir("system") is None and pg.find_bin_dir("pgserver") is None:
        pytest.skip("no PostgreSQL binaries on this machine")
    child = textwrap.dedent("""
        import os, signal, sys
        from sparklayer_erp_tests import pg
        server = pg.start_throwaway_postgres()
        print(server.root, server.postmaster_pid(), server.port, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert out.returncode == -signal.SIGKILL, out.stderr
    root, pid, port = out.stdout.split()
    deadline = time.monotonic() + 30
    while (Path(root).exists() or _alive(int(pid))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(root).exists()
    assert not _alive(int(pid))
    with pytest.raises(pg.PostgresUnavailable):
        pg.check_server(sa.engine.make_url(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"))
